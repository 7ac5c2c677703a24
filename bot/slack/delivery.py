"""One way to deliver to Slack, so that nothing Perch posts is lost or posted twice.

Every message Perch keeps track of is posted in two phases: its attempt is written down first (by the
caller, through the `mark_attempt` it hands over), then it is posted, then its `ts` is recorded. A
message with an attempt and no `ts` (a crash, a time-out, a 5xx whose message may have gone through)
is looked for in Slack by its message metadata before anything is posted again: top-level messages in
the channel's history, thread messages in their thread. Updates are tolerant: a message Slack refuses
for its content, or that is gone, is logged and skipped so the others go on. Slack's 429s are waited
out inside slack_sdk (the paced client); any other failure propagates, and the job's next run resumes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.ids import Metadata

log = logging.getLogger(__name__)

HISTORY_MARGIN = timedelta(minutes=5)  # clock skew between us and Slack
# Errors about one message's content: skip that message this run, keep posting the others.
MESSAGE_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "no_text",
    }
)
GONE = frozenset({"message_not_found", "cant_update_message"})
# How a thread message's metadata names it: (event type, payload field, key prefix).
THREAD_KEYS = (
    (Metadata.FOLLOW_UP, "tweet_id", "follow_up"),
    (Metadata.REPLY, "reply_id", "reply"),
    (Metadata.DM, "dm_event_id", "dm"),
    (Metadata.NOTE, "note_id", "note"),
    (Metadata.DRAFT, "draft_id", "draft"),
    (Metadata.INCIDENT_CHUNK, "chunk", "chunk"),
)


@dataclass(frozen=True)
class ThreadItem:
    """One message that belongs in a thread: a follow-up tweet, a note of a reply, Perch's own note,
    or a list of an incident's tweets. `key` is how its metadata names it (`follow_up:<tweet id>`)."""

    key: str
    channel: str
    thread_ts: str
    attempted: bool
    message: dict[str, Any]
    record: Callable[[str], None]
    mark_attempt: Callable[[], None]

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


class Delivery:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._in_flight: set[str] = set()  # thread items being posted by another thread right now
        self._guard = threading.Lock()

    def post(self, channel: str, message: dict[str, Any]) -> tuple[str, str]:
        """`chat.postMessage`; the (channel, ts) Slack gave it."""
        response = self.client.chat_postMessage(channel=channel, **message)
        return response["channel"], response["ts"]

    def update(
        self, channel: str, ts: str, message: dict[str, Any], what: str, *, also_tolerate: Iterable[str] = ()
    ) -> str | None:
        """`chat.update` in place; a refused or vanished message is logged, not raised, and its error
        returned (None: updated), so a caller can try a smaller message or say what happened."""
        message = {k: v for k, v in message.items() if k not in ("unfurl_links", "unfurl_media", "thread_ts")}
        try:
            self.client.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as error:
            if error_code(error) not in MESSAGE_ERRORS | GONE | set(also_tolerate):
                raise
            log.error("Could not update %s: %s", what, error_code(error))
            return error_code(error)
        return None

    def find_top_level(self, channel: str, since: datetime, event_type: Metadata, field: str) -> dict[str, str]:
        """payload value → ts of the top-level messages of `event_type` posted since `since`."""
        oldest = since - HISTORY_MARGIN
        found: dict[str, str] = {}
        for message in self.pages(
            self.client.conversations_history, channel=channel, oldest=f"{oldest.timestamp():.6f}"
        ):
            value = payload_value(message, event_type, field)
            top_level = message.get("thread_ts", message["ts"]) == message["ts"]
            if value is not None and top_level:
                found.setdefault(value, message["ts"])
        return found

    def post_thread_items(self, items: list[ThreadItem]) -> tuple[list[ThreadItem], int]:
        """Post what is not in its thread yet; (items posted, items found already there)."""
        posted: list[ThreadItem] = []
        found = 0
        threads: dict[str, dict[str, str]] = {}
        for item in items:
            if not self._take(item.key):
                continue  # another thread is posting it right now
            try:
                if item.attempted:
                    if item.thread_ts not in threads:
                        threads[item.thread_ts] = self.thread_keys(item.channel, item.thread_ts)
                    ts = threads[item.thread_ts].get(item.key)
                    if ts:
                        item.record(ts)
                        found += 1
                        continue
                item.mark_attempt()
                _channel, ts = self.post(item.channel, item.message)
                item.record(ts)
                posted.append(item)
            finally:
                self._release(item.key)
        return posted, found

    def thread_keys(self, channel: str, thread_ts: str) -> dict[str, str]:
        """item key → ts of the Perch messages already in a thread."""
        found: dict[str, str] = {}
        for message in self.pages(self.client.conversations_replies, channel=channel, ts=thread_ts):
            for event_type, field, prefix in THREAD_KEYS:
                value = payload_value(message, event_type, field)
                if value is not None:
                    found.setdefault(f"{prefix}:{value}", message["ts"])
        return found

    @staticmethod
    def pages(method: Callable[..., Any], **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every message of a history or thread, page by page, with their metadata."""
        cursor = None
        while True:
            page = method(include_all_metadata=True, limit=200, cursor=cursor, **kwargs)
            yield from page.get("messages", [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def _take(self, key: str) -> bool:
        with self._guard:
            if key in self._in_flight:
                return False
            self._in_flight.add(key)
            return True

    def _release(self, key: str) -> None:
        with self._guard:
            self._in_flight.discard(key)


def payload_value(message: dict, event_type: str, name: str) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != event_type:
        return None
    value = (metadata.get("event_payload") or {}).get(name)
    return None if value is None else str(value)


def error_code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error", ""))
    except AttributeError:
        return ""


def describe(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return f"Slack answered {error.response.status_code} {error_code(error)}"
    return type(error).__name__ + (f": {error}" if str(error) else "")
