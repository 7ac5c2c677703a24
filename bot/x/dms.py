"""X API v2 DM events to Perch's `DirectMessage`: one page at a time, a malformed entry skipped (and
logged), never fatal. Only `MessageCreate` events carry a message; the others are left out."""

from __future__ import annotations

import logging
from typing import Any

from bot.x.tweets import normalise_time
from storage.dms import DirectMessage

log = logging.getLogger(__name__)

DM_EVENT_FIELDS = ["created_at", "sender_id", "dm_conversation_id", "referenced_tweets", "attachments"]
DM_EXPANSIONS = ["sender_id"]
DM_USER_FIELDS = ["username", "name", "public_metrics", "verified"]


def parse_dm_events(body: dict[str, Any]) -> list[DirectMessage]:
    data = body.get("data") or []
    if not isinstance(data, list):
        log.warning("X sent a DM page whose data is not a list; ignored")
        return []
    includes = body.get("includes") or {}
    users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
    found = []
    for item in data:
        if isinstance(item, dict) and item.get("event_type", "MessageCreate") != "MessageCreate":
            continue
        dm = _parse_dm(item, users)
        if dm is None:
            log.warning("Skipped a malformed DM event in an X response")
            continue
        found.append(dm)
    return found


def _parse_dm(item: Any, users: dict[str, dict]) -> DirectMessage | None:
    if not isinstance(item, dict):
        return None
    event_id, sender = str(item.get("id", "")), str(item.get("sender_id", ""))
    conversation = str(item.get("dm_conversation_id") or "")
    if not event_id.isdigit() or not sender.isdigit() or not conversation:
        return None
    user = users.get(sender, {})
    raw_metrics = user.get("public_metrics")
    metrics: dict[str, Any] = raw_metrics if isinstance(raw_metrics, dict) else {}
    followers = metrics.get("followers_count")
    verified = user.get("verified")
    references = [r for r in item.get("referenced_tweets") or [] if isinstance(r, dict)]
    attachments = item.get("attachments") if isinstance(item.get("attachments"), dict) else {}
    media = attachments.get("media_keys") if isinstance(attachments, dict) else None
    text = item.get("text")
    return DirectMessage(
        id=event_id,
        text=text if isinstance(text, str) else "",
        sender_id=sender,
        conversation_id=conversation,
        created_at=normalise_time(item.get("created_at")),
        sender_handle=str(user.get("username") or ""),
        sender_name=str(user.get("name") or ""),
        sender_followers=followers if isinstance(followers, int) else None,
        sender_verified=verified if isinstance(verified, bool) else None,
        referenced_tweet_ids=tuple(str(r["id"]) for r in references if str(r.get("id", "")).isdigit()),
        media_count=len(media) if isinstance(media, list) else 0,
        raw=item,
    )
