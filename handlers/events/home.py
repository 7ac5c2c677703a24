"""`app_home_opened`: draw the agent's Home tab (their cases, the queue, today's figures)."""

from __future__ import annotations

from logging import Logger
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.home import home_view
from bot.services import services


def publish_home(event: dict[str, Any], client: WebClient, context: BoltContext, logger: Logger) -> None:
    if event.get("tab") not in (None, "home"):
        return
    perch = services(context)
    user = event.get("user", "")
    view = home_view(perch.store.db, user, timezone=perch.settings.report_timezone,
                     sla_minutes=perch.settings.sla_first_response_minutes)
    try:
        client.views_publish(user_id=user, view=view)
    except SlackApiError as error:
        logger.warning("Home tab not published: %s", error.response.get("error"))
