"""What happens when a listener fails: the person who clicked or typed is told, in plain words and
privately, instead of Slack showing nothing. The write that failed was rolled back (every change is one
transaction), so nothing is left half-done. A listener that failed before its `ack()` would have Slack
answered with a 500 (an error banner, and a retry); Slack is answered 200 instead, the words going to
the person directly."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from handlers.shared import BUSY, channel_of, tell, tell_directly
from storage.errors import StorageError

log = logging.getLogger(__name__)

BROKEN = "Something went wrong on Perch's side, so that did not happen. Try again; if it keeps failing, tell an admin."


def register(app: App) -> None:
    app.error(tell_who_acted)


def tell_who_acted(
    error: Exception, body: dict[str, Any], client: WebClient, response: BoltResponse | None
) -> BoltResponse | None:
    """`response` is Bolt's answer still to be sent (None once the listener has acknowledged)."""
    when = "after it was acknowledged" if response is None else "before it was acknowledged"
    log.error("A Slack request failed %s: %s: %s", when, type(error).__name__, error)
    user = str((body.get("user") or {}).get("id") or body.get("user_id") or "")
    if user:
        text = BUSY if isinstance(error, StorageError) else BROKEN
        channel = channel_of(body) or body.get("channel_id")
        if channel:
            tell(client, channel, user, text)
        else:  # a click inside a modal or the Home tab
            tell_directly(client, user, text)
    return None if response is None else BoltResponse(status=200, body="")
