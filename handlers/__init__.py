"""Slack listeners, one package per kind; `register_listeners(app)` wires them all."""

from slack_bolt import App

from handlers import actions, commands, errors, events, views


def register_listeners(app: App) -> None:
    actions.register(app)
    commands.register(app)
    events.register(app)
    views.register(app)
    errors.register(app)
