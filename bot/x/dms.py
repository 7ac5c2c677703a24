"""X's DM events to Perch's `DirectMessage`: one page at a time, a malformed entry skipped (and
logged), never fatal. Only `MessageCreate` events carry a message; the others are left out.

Two shapes reach Perch: `GET /2/dm_events` pages (v2: `sender_id`, `dm_conversation_id`, ISO
`created_at`, users in `includes.users`) and the Activity API's `dm.received` payloads, which are still
v1.1-shaped (`direct_message_events[].message_create`, `created_timestamp` in ms, users in a map by
id). Both become the same `DirectMessage`, so a DM the stream brought and a poll reads again is one."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.x.tweets import normalise_time
from storage.db import to_iso
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


def parse_v1_dm_events(payload: dict[str, Any]) -> list[DirectMessage]:
    """A `dm.received` (or `dm.sent`) payload's `message_create` events, as `DirectMessage`s."""
    events = payload.get("direct_message_events")
    if not isinstance(events, list):
        log.warning("X sent a DM activity whose direct_message_events is not a list; ignored")
        return []
    raw_users = payload.get("users") if isinstance(payload.get("users"), dict) else {}
    users = {str(k): _v1_user(v) for k, v in (raw_users or {}).items()}
    found = []
    for event in events:
        dm = _parse_v1(event, users)
        if dm is None:
            log.warning("Skipped a malformed DM event in an X activity")
            continue
        found.append(dm)
    return found


def _v1_user(entry: Any) -> dict[str, Any]:
    """A user of the payload's map: `{"data": {...}}` as X sends it now, or the object itself."""
    if not isinstance(entry, dict):
        return {}
    data = entry.get("data")
    return data if isinstance(data, dict) else entry


def _parse_v1(event: Any, users: dict[str, dict]) -> DirectMessage | None:
    """One v1.1 `message_create` event in the v2 shape, then parsed as a page's entry is."""
    if not isinstance(event, dict) or event.get("type", "message_create") != "message_create":
        return None
    create = event.get("message_create")
    if not isinstance(create, dict):
        return None
    target = create.get("target") if isinstance(create.get("target"), dict) else {}
    sender, recipient = str(create.get("sender_id", "")), str((target or {}).get("recipient_id", ""))
    if not sender.isdigit() or not recipient.isdigit():
        return None
    data = create.get("message_data") if isinstance(create.get("message_data"), dict) else {}
    attachment = (data or {}).get("attachment")
    media = (attachment or {}).get("media") if isinstance(attachment, dict) else None
    low, high = sorted((sender, recipient), key=int)
    item: dict[str, Any] = {
        "id": str(event.get("id", "")),
        "event_type": "MessageCreate",
        "text": (data or {}).get("text"),
        "sender_id": sender,
        "dm_conversation_id": f"{low}-{high}",
        "created_at": _from_ms(event.get("created_timestamp")),
    }
    if isinstance(media, dict):
        item["attachments"] = {"media_keys": [str(media.get("id_str") or media.get("id") or "media")]}
    dm = _parse_dm(item, users)
    return None if dm is None else replace(dm, raw=event)


def _from_ms(value: Any) -> str | None:
    """v1.1's `created_timestamp` (milliseconds since the epoch, as a string) as X's v2 time."""
    try:
        return to_iso(datetime.fromtimestamp(int(str(value)) / 1000, UTC))
    except (ValueError, OverflowError, OSError):
        return None
