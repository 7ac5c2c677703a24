"""`/perch customer @handle`: the History modal of anyone the team has met, from any channel.

The handle is looked up before the acknowledgement (one indexed read), so an unknown or malformed one
is answered in it; a known one is acknowledged, then the modal opens with the command's `trigger_id`.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.history import history_modal
from bot.blocks.mrkdwn import escape_within, one_line
from bot.opened_views import open_view
from bot.services import services
from bot.slack.ids import X_HANDLE
from storage.customers import customer_by_handle, customer_history
from storage.db import Store

log = logging.getLogger(__name__)

_SLACK_USER = re.compile(r"^<@[UW][A-Z0-9]+\|([^>]*)>$")
USAGE = "Usage: `/perch customer @handle` — the customer's cases and the team's notes about them."


def customer_command(
    args: str, ack: Ack, respond: Respond, command: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Refused in the acknowledgement (who may not work cases, no handle, one nobody wrote with);
    otherwise acknowledged, then the History modal opens."""
    perch = services(context)
    verdict = perch.gate.may_act(str(command.get("user_id") or ""))
    if not verdict.allowed:
        ack(text=verdict.reason, response_type="ephemeral")
        return
    handle = _handle(args)
    if not X_HANDLE.match(handle):
        shown = f"`{escape_within(one_line(args), 40)}` is not an X handle. " if args else ""
        ack(text=shown + USAGE, response_type="ephemeral")
        return
    customer = customer_by_handle(perch.store.db, handle)
    if customer is None:
        text = f"Perch has met nobody called @{handle}: no tweet or DM it has seen came from that handle."
        ack(text=text, response_type="ephemeral")
        return
    ack()
    _open(client, perch.store, respond, command, history_modal(customer_history(perch.store.db, customer)))


def _handle(args: str) -> str:
    """The handle typed (`@name` or `name`); Slack turns one that is also a Slack user's name into
    `<@U…|name>` (the command escapes its text), whose name is what was typed."""
    first = args.split(" ")[0]
    mentioned = _SLACK_USER.match(first)
    return (mentioned.group(1) if mentioned else first).removeprefix("@")


def _open(client: WebClient, store: Store, respond: Respond, command: dict[str, Any], view: dict[str, Any]) -> None:
    """Open the modal; when Slack refuses (the trigger expired), say so instead of leaving them waiting."""
    try:
        open_view(client, store, str(command.get("trigger_id") or ""), view, datetime.now(UTC))
    except SlackApiError as error:
        log.warning("History not opened: %s", error.response.get("error"))
        respond(text=f"Slack did not open the history ({error.response.get('error')}). Try again.")
