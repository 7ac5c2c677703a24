"""Slack listeners, one package per kind; `register_listeners(app)` wires them all."""

from slack_bolt import App

from handlers import actions, bound_views, commands, errors, events, views


def register_listeners(app: App) -> None:
    bound_views.register(app)  # before any listener: a modal's submission is checked first
    actions.register(app)
    commands.register(app)
    events.register(app)
    views.register(app)
    errors.register(app)
