"""Modal submissions: the Reply and Move to DM forms."""

from slack_bolt import App

from handlers.views.send import submit_move_to_dm, submit_reply


def register(app: App) -> None:
    app.view("reply")(submit_reply)
    app.view("move_to_dm")(submit_move_to_dm)
