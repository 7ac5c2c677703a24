"""Card buttons. Each answers the clicker: until a button's feature lands it says so, privately."""

from slack_bolt import App

from handlers.actions.coming_soon import coming_soon

CARD_ACTIONS = ("claim", "reply", "move_to_dm", "escalate", "resolve")


def register(app: App) -> None:
    for action_id in CARD_ACTIONS:
        app.action(action_id)(coming_soon)
