"""The one slash command, `/perch`, and its sub-commands."""

from slack_bolt import App

from handlers.commands.perch import perch_command


def register(app: App) -> None:
    app.command("/perch")(perch_command)
