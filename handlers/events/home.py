"""`app_home_opened`: draw the agent's Home tab (their cases, the queue, today's figures)."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.services import services
from handlers.shared import refresh_home


def publish_home(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab") not in (None, "home"):
        return
    refresh_home(client, services(context), event.get("user", ""))
