"""Modal submissions: Reply, Move to DM, Escalate, and an escalation's Done."""

from slack_bolt import App

from handlers.views.escalation import submit_escalate, submit_outcome
from handlers.views.send import submit_move_to_dm, submit_reply


def register(app: App) -> None:
    app.view("reply")(submit_reply)
    app.view("move_to_dm")(submit_move_to_dm)
    app.view("escalate")(submit_escalate)
    app.view("escalation_outcome")(submit_outcome)
