"""A placeholder answer for card buttons whose behaviour has not shipped yet: never a silent button."""

from __future__ import annotations

from logging import Logger
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

LABELS = {"escalate": "Escalate"}


def coming_soon(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                logger: Logger) -> None:
    ack()
    label = LABELS.get(action.get("action_id", ""), "This button")
    channel = (body.get("channel") or {}).get("id")
    user = (body.get("user") or {}).get("id")
    if not channel or not user:
        return
    try:
        client.chat_postEphemeral(channel=channel, user=user,
                                  text=f"*{label}* is coming soon: Perch records the case, but this "
                                       "button does not act on it yet.")
    except SlackApiError as error:
        logger.warning("Could not answer a %s click: %s", label, error.response.get("error"))
