"""Events: the App Home tab is drawn when an agent opens it."""

from slack_bolt import App

from handlers.events.home import publish_home


def register(app: App) -> None:
    app.event("app_home_opened")(publish_home)
