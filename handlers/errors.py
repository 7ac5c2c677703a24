"""What happens when a listener fails after its `ack()`: the person who clicked or typed is told, in
plain words and privately, instead of Slack showing nothing. The write that failed was rolled back
(every change is one transaction), so nothing is left half-done."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from handlers.shared import BUSY, channel_of, tell, tell_directly
from storage.errors import StorageError

log = logging.getLogger(__name__)

BROKEN = "Something went wrong on Perch's side, so that did not happen. Try again; if it keeps failing, tell an admin."


def register(app: App) -> None:
    app.error(tell_who_acted)


def tell_who_acted(error: Exception, body: dict[str, Any], client: WebClient) -> None:
    log.error("A Slack request failed after it was acknowledged: %s: %s", type(error).__name__, error)
    user = str((body.get("user") or {}).get("id") or body.get("user_id") or "")
    if not user:
        return
    text = BUSY if isinstance(error, StorageError) else BROKEN
    channel = channel_of(body) or body.get("channel_id")
    if channel:
        tell(client, channel, user, text)
    else:  # a click inside a modal or the Home tab
        tell_directly(client, user, text)
