"""Everything Perch writes to Slack about cases: cards, thread messages, and card updates.

Cards: before each batch of `chat.postMessage` calls the attempts are written down; after them, the
message `ts`s. A case with an attempt and no `ts` (a crash, a time-out, a 5xx whose message may have
gone through) is looked up in the channel history by its `perch_case` metadata before anything is
posted again. Thread messages (follow-ups, notes of what the brand sent) work the same way, looked up
in the card's thread. Cards whose case changed (`card_version` ahead of `card_synced`) are updated in
place. Slack's 429s are retried inside slack_sdk after `Retry-After`; any other failure ends the run
and the next run resumes. Handlers call `sync_case` to do the same for one case right after a click.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.cards import case_card, case_note_message, follow_up_message, reply_note
from bot.blocks.escalations import escalation_line, escalation_message
from bot.blocks.incidents import chunk_message, incident_card
from bot.jobs.surge import SurgeGrouper
from bot.slack.ids import Metadata
from storage.cases import (
    CardData,
    cases_to_post,
    follow_ups_to_post,
    get_card,
    last_event,
    mark_card_synced,
    mark_follow_up_attempt,
    mark_post_attempts,
    record_follow_up_posted,
    record_posted,
    stale_cards,
)
from storage.db import Store, from_iso, to_iso
from storage.escalations import (
    case_notes_to_post,
    get_escalation,
    latest_escalation,
    mark_case_note_attempt,
    mark_message_synced,
    record_case_note_posted,
    stale_escalation_messages,
)
from storage.incidents import (
    CHUNK_SIZE,
    bulk_candidates,
    bulk_progress,
    chunk_cases,
    chunk_follow_ups,
    chunks_to_post,
    get_incident,
    incident_signature,
    incident_stats,
    incidents_to_post,
    mark_chunk_attempt,
    mark_chunk_synced,
    mark_incident_attempt,
    mark_incident_synced,
    record_chunk_posted,
    record_chunk_shown,
    record_incident_posted,
    stale_chunks,
    stale_incidents,
)
from storage.locations import get_location
from storage.replies import mark_note_attempt, notes_to_post, record_note_posted
from storage.sla import breached_targets

log = logging.getLogger(__name__)

HISTORY_MARGIN = timedelta(minutes=5)  # clock skew between us and Slack
# One round of the post job: this many cards and incident-thread chunks (at Slack's ~1 message/s), then
# surge grouping and the incident cards' counts are brought up to date again.
RECORD_EVERY_SECONDS = 1.0  # posted cards are written down at least this often (each one, at Slack's pace)
RECENT_INCIDENTS = timedelta(days=2)  # an ended incident's card and thread follow its cases this long
ROUND_SECONDS = 20.0  # a round's cards at the pacer's interval, so surge grouping runs this often in a burst
CHUNKS_PER_ROUND = 10
THREAD_ITEMS_PER_ROUND = 10
# Errors about one message's content: skip that message this run, keep posting the others.
MESSAGE_ERRORS = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "invalid_metadata_format",
    "invalid_metadata_schema",
    "metadata_too_large",
    "no_text",
}


@dataclass
class PostReport:
    posted: int = 0
    reconciled: int = 0
    follow_ups: int = 0
    notes: int = 0
    updated: int = 0
    failed: int = 0
    incidents: int = 0
    chunks: int = 0

    @property
    def progress(self) -> int:
        """Messages that are now in Slack, posted or found there."""
        return self.posted + self.reconciled + self.chunks + self.incidents + self.follow_ups + self.notes


@dataclass(frozen=True)
class ThreadItem:
    """One message that belongs in a card's thread: a follow-up tweet or a note of a reply."""

    key: str  # "follow_up:<tweet id>" or "reply:<reply id>"
    channel: str
    thread_ts: str
    attempted: bool
    message: dict[str, Any]
    record: Callable[[str], None]
    mark_attempt: Callable[[], None]


class Poster:
    def __init__(
        self,
        store: Store,
        client: WebClient,
        channel: str,
        *,
        brand_handle: Callable[[], str] = str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        grouper: SurgeGrouper | None = None,
        bulk_interval: float = 36.0,
        message_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.client = client
        self.channel = channel
        self.brand_handle = brand_handle
        self.now = now
        self.grouper = grouper
        self.bulk_interval = bulk_interval
        # As many cards as Slack's pace lets through in a round (unpaced: a batch of 500).
        self.cards_per_round = min(500, max(1, int(ROUND_SECONDS / message_interval))) if message_interval else 500
        self.wake: Callable[[], None] = lambda: None  # the scheduler sets it: run the post job soon
        self._in_flight: set[str] = set()  # thread items being posted by another thread right now
        self._guard = threading.Lock()
        self._case_locks = [threading.Lock() for _ in range(64)]  # card updates: one thread per case
        self._incident_lock = threading.Lock()

    def run(self) -> PostReport:
        """The scheduler job: rounds of posting until a round finds less than a full load, then the
        cards and messages that fell behind."""
        report = PostReport()
        try:
            while self._round(report):
                pass
            for case_id in stale_cards(self.store.db):
                self._update_card(case_id, report)
            for escalation_id in stale_escalation_messages(self.store.db):
                self._update_escalation(escalation_id, report)
        except (SlackClientError, OSError) as error:
            report.failed += 1
            log.warning("Posting to Slack paused until the next run: %s", _describe(error))
        return report

    def _round(self, report: PostReport) -> bool:
        """One round, short at Slack's pace of about a message a second per channel: surge grouping (so a
        burst is grouped as it arrives), incident cards, new cards, the incidents' threads, other thread
        messages, the incidents' counts. True when it found a full load (there may be more)."""
        progress = report.progress
        if self.grouper is not None:
            self.grouper.run()
        self._post_incidents(report)
        cards = self._post_cards(report, limit=self.cards_per_round)
        chunk_items = self._chunk_items()[:CHUNKS_PER_ROUND]
        self._post_thread_items(chunk_items, report)
        thread_items = self._thread_items()[:THREAD_ITEMS_PER_ROUND]
        self._post_thread_items(thread_items, report)
        self._update_incidents(report)
        for chunk in stale_chunks(self.store.db, to_iso(self.now() - RECENT_INCIDENTS)):  # filled up, taken…
            self._update_chunk(chunk, report)
        full = (
            cards == self.cards_per_round
            or len(chunk_items) == CHUNKS_PER_ROUND
            or len(thread_items) == THREAD_ITEMS_PER_ROUND
        )
        return full and report.progress > progress

    def sync_case(self, case_id: int, escalation_id: int | None = None) -> PostReport:
        """Bring one case's thread and card (and an escalation's message) up to date now."""
        report = PostReport()
        try:
            self._post_thread_items(self._thread_items(case_id), report)
            card = get_card(self.store.db, case_id)
            if card is not None and card.slack_ts is None:
                self.wake()  # a case taken from its surge incident's thread: its own card comes next
            self._update_card(case_id, report)
            if escalation_id is not None:
                self._update_escalation(escalation_id, report)
        except (SlackClientError, OSError) as error:
            report.failed += 1
            log.warning("Case %s: Slack update deferred to the next run: %s", case_id, _describe(error))
        return report

    def sync_incident(self, incident_id: int) -> PostReport:
        """Bring an incident's card up to date now (after its status update or bulk reply changed)."""
        report = PostReport()
        try:
            self._update_incidents(report)
        except (SlackClientError, OSError) as error:
            report.failed += 1
            log.warning("Incident %s: Slack update deferred to the next run: %s", incident_id, _describe(error))
        return report

    # -- cards ---------------------------------------------------------------------------------
    def _post_cards(self, report: PostReport, limit: int) -> int:
        """Up to `limit` new cards; returns how many cases it took up."""
        db = self.store.db
        pending = cases_to_post(db, limit=limit)
        if not pending:
            return 0
        already = self._cards_in_channel([c for c in pending if c.post_attempted_at])
        for case_id in record_posted(
            db, [(case_id, self.channel, ts) for case_id, ts in already.items()], reconciled=True
        ):
            report.reconciled += 1
            log.info("Case %s was already in the channel; recorded it instead of posting again", case_id)
        to_post = [card for card in pending if card.case_id not in already]
        mark_post_attempts(db, [card.case_id for card in to_post])
        posted: list[tuple[int, str, str]] = []
        recorded_at = time.monotonic()
        try:
            for card in to_post:
                self._post_card(card, posted, report)
                if time.monotonic() - recorded_at >= RECORD_EVERY_SECONDS:
                    report.posted += len(record_posted(db, posted))
                    posted, recorded_at = [], time.monotonic()
        finally:
            # A crash before this line is healed by `_cards_in_channel` on the next run.
            report.posted += len(record_posted(db, posted))
        return len(pending)

    def _post_card(self, card: CardData, posted: list[tuple[int, str, str]], report: PostReport) -> None:
        try:
            response = self.client.chat_postMessage(channel=self.channel, **case_card(card, self.now()))
        except SlackApiError as error:
            if _error_code(error) in MESSAGE_ERRORS:
                report.failed += 1
                log.error(
                    "Slack refused the card of case %s (%s); it will be retried", card.case_id, _error_code(error)
                )
                return
            raise
        posted.append((card.case_id, response["channel"], response["ts"]))

    def _cards_in_channel(self, attempted: list[CardData]) -> dict[int, str]:
        """case id → ts of the cards already in the channel, for cases whose post may have gone through."""
        if not attempted:
            return {}
        oldest = min(from_iso(c.post_attempted_at) for c in attempted if c.post_attempted_at) - HISTORY_MARGIN
        wanted = {c.case_id for c in attempted}
        found: dict[int, str] = {}
        for message in self._pages(
            self.client.conversations_history, channel=self.channel, oldest=f"{oldest.timestamp():.6f}"
        ):
            case_id = _payload_value(message, Metadata.CASE, "case_id")
            top_level = message.get("thread_ts", message["ts"]) == message["ts"]
            if case_id is not None and case_id.isdigit() and int(case_id) in wanted and top_level:
                found.setdefault(int(case_id), message["ts"])
        return found

    def _update_card(self, case_id: int, report: PostReport) -> None:
        """Re-render a card from its case's current state (one thread per case at a time)."""
        with self._case_lock(case_id):
            db = self.store.db
            card = get_card(db, case_id)
            if card is None or card.slack_ts is None or card.slack_channel is None:
                return
            escalation = latest_escalation(db, case_id)
            message = case_card(
                card,
                self.now(),
                last_event(db, case_id),
                escalation_line(escalation) if escalation else None,
                tuple(breached_targets(db, case_id)),
            )
            message.pop("unfurl_links"), message.pop("unfurl_media")
            try:
                self.client.chat_update(channel=card.slack_channel, ts=card.slack_ts, **message)
            except SlackApiError as error:
                if _error_code(error) not in MESSAGE_ERRORS | {"message_not_found", "cant_update_message"}:
                    raise
                log.error("Could not update the card of case %s: %s", case_id, _error_code(error))
            mark_card_synced(db, case_id, card.card_version)
            report.updated += 1

    def _update_escalation(self, escalation_id: int, report: PostReport) -> None:
        """Re-render an escalation's message in its location's channel."""
        db = self.store.db
        escalation = get_escalation(db, escalation_id)
        if escalation is None or escalation.slack_ts is None or escalation.slack_channel is None:
            return
        card, location = get_card(db, escalation.case_id), get_location(db, escalation.location)
        if card is None or location is None:
            mark_message_synced(db, escalation_id, escalation.message_version)
            return
        message = escalation_message(escalation, card, location)
        message.pop("unfurl_links"), message.pop("unfurl_media")
        try:
            self.client.chat_update(channel=escalation.slack_channel, ts=escalation.slack_ts, **message)
        except SlackApiError as error:
            if _error_code(error) not in MESSAGE_ERRORS | {
                "message_not_found",
                "cant_update_message",
                "channel_not_found",
                "not_in_channel",
            }:
                raise
            log.error("Could not update escalation %s's message: %s", escalation_id, _error_code(error))
        mark_message_synced(db, escalation_id, escalation.message_version)
        report.updated += 1

    # -- surge incidents -----------------------------------------------------------------------
    def _incident_message(self, incident_id: int) -> tuple[dict[str, Any], int, str] | None:
        """The incident card as it should look now, with the versions it was drawn from."""
        db = self.store.db
        incident = get_incident(db, incident_id)
        if incident is None:
            return None
        signature = incident_signature(db, incident_id)
        message = incident_card(
            incident,
            incident_stats(db, incident_id),
            bulk_progress(db, incident_id),
            bulk_interval=self.bulk_interval,
            candidates=len(bulk_candidates(db, incident_id)),
        )
        return message, incident.card_version, signature

    def _post_incidents(self, report: PostReport) -> None:
        """Incident cards, two-phase like case cards (looked up by `perch_incident` metadata after a crash)."""
        db = self.store.db
        for incident in incidents_to_post(db):
            if incident.post_attempted_at:
                ts = self._incident_in_channel(incident.id, incident.post_attempted_at)
                if ts:
                    record_incident_posted(db, incident.id, self.channel, ts, 0, None)
                    report.reconciled += 1
                    continue
            rendered = self._incident_message(incident.id)
            if rendered is None:
                continue
            message, version, signature = rendered
            mark_incident_attempt(db, incident.id)
            response = self.client.chat_postMessage(channel=self.channel, **message)
            record_incident_posted(db, incident.id, response["channel"], response["ts"], version, signature)
            report.incidents += 1

    def _incident_in_channel(self, incident_id: int, attempted_at: str) -> str | None:
        oldest = from_iso(attempted_at) - HISTORY_MARGIN
        for message in self._pages(
            self.client.conversations_history, channel=self.channel, oldest=f"{oldest.timestamp():.6f}"
        ):
            if _payload_value(message, Metadata.INCIDENT, "incident_id") == str(incident_id):
                return message["ts"]
        return None

    def _chunk_items(self) -> list[ThreadItem]:
        db = self.store.db
        items = []
        for row in chunks_to_post(db):
            incident_id, chunk_no = row["incident_id"], row["chunk_no"]
            incident = get_incident(db, incident_id)
            cases, signature = chunk_cases(db, incident_id, chunk_no)
            if incident is None or not cases:
                continue
            items.append(
                ThreadItem(
                    key=f"chunk:{incident_id}:{chunk_no}",
                    channel=row["slack_channel"],
                    thread_ts=row["thread_ts"],
                    attempted=row["post_attempted_at"] is not None,
                    message=chunk_message(
                        incident,
                        chunk_no,
                        cases,
                        thread_ts=row["thread_ts"],
                        first=(chunk_no - 1) * CHUNK_SIZE + 1,
                        follow_ups=chunk_follow_ups(db, incident_id, chunk_no),
                    ),
                    record=partial(
                        record_chunk_posted, db, incident_id, chunk_no, row["slack_channel"], signature=signature
                    ),
                    mark_attempt=partial(mark_chunk_attempt, db, incident_id, chunk_no),
                )
            )
        return items

    def _update_incidents(self, report: PostReport) -> None:
        with self._incident_lock:
            self._update_stale_incidents(report)

    def _update_stale_incidents(self, report: PostReport) -> None:
        db = self.store.db
        for incident_id in stale_incidents(db, to_iso(self.now() - RECENT_INCIDENTS)):
            incident = get_incident(db, incident_id)
            rendered = self._incident_message(incident_id)
            if incident is None or rendered is None or incident.slack_channel is None or incident.slack_ts is None:
                continue
            message, version, signature = rendered
            self._chat_update(incident.slack_channel, incident.slack_ts, message, f"incident {incident_id}")
            mark_incident_synced(db, incident_id, version, signature)
            report.updated += 1

    def _update_chunk(self, chunk: dict[str, Any], report: PostReport) -> None:
        db = self.store.db
        incident_id, chunk_no = chunk["incident_id"], chunk["chunk_no"]
        incident = get_incident(db, incident_id)
        cases, signature = chunk_cases(db, incident_id, chunk_no)
        if incident is None or not cases:
            return
        message = chunk_message(
            incident,
            chunk_no,
            cases,
            thread_ts="",
            first=(chunk_no - 1) * CHUNK_SIZE + 1,
            follow_ups=chunk_follow_ups(db, incident_id, chunk_no),
        )
        message.pop("thread_ts")
        self._chat_update(chunk["slack_channel"], chunk["slack_ts"], message, f"chunk {incident_id}:{chunk_no}")
        mark_chunk_synced(db, incident_id, chunk_no, signature)
        record_chunk_shown(db, incident_id, chunk_no, chunk["slack_channel"], chunk["slack_ts"])
        report.updated += 1

    def _chat_update(self, channel: str, ts: str, message: dict[str, Any], what: str) -> None:
        message = {k: v for k, v in message.items() if k not in ("unfurl_links", "unfurl_media")}
        try:
            self.client.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as error:
            if _error_code(error) not in MESSAGE_ERRORS | {"message_not_found", "cant_update_message"}:
                raise
            log.error("Could not update %s: %s", what, _error_code(error))

    # -- thread messages -----------------------------------------------------------------------
    def _thread_items(self, case_id: int | None = None) -> list[ThreadItem]:
        db = self.store.db
        items = [
            ThreadItem(
                key=f"follow_up:{f.tweet_id}",
                channel=f.slack_channel,
                thread_ts=f.thread_ts,
                attempted=f.post_attempted_at is not None,
                message=follow_up_message(f),
                record=partial(record_follow_up_posted, db, f.tweet_id),
                mark_attempt=partial(mark_follow_up_attempt, db, f.tweet_id),
            )
            for f in follow_ups_to_post(db, case_id=case_id)
        ]
        items += [
            ThreadItem(
                key=f"reply:{n['id']}",
                channel=n["slack_channel"],
                thread_ts=n["thread_ts"],
                attempted=n["note_attempted_at"] is not None,
                message=reply_note(n, self.brand_handle()),
                record=partial(record_note_posted, db, n["id"]),
                mark_attempt=partial(mark_note_attempt, db, n["id"]),
            )
            for n in notes_to_post(db, case_id=case_id)
        ]
        items += [
            ThreadItem(
                key=f"note:{n['id']}",
                channel=n["slack_channel"],
                thread_ts=n["thread_ts"],
                attempted=n["note_attempted_at"] is not None,
                message=case_note_message(n),
                record=partial(record_case_note_posted, db, n["id"]),
                mark_attempt=partial(mark_case_note_attempt, db, n["id"]),
            )
            for n in case_notes_to_post(db, case_id=case_id)
        ]
        return items

    def _post_thread_items(self, items: list[ThreadItem], report: PostReport) -> None:
        threads: dict[str, dict[str, str]] = {}
        for item in items:
            if not self._take(item.key):
                continue  # another thread is posting it right now
            try:
                if item.attempted:
                    if item.thread_ts not in threads:
                        threads[item.thread_ts] = self._thread_keys(item.channel, item.thread_ts)
                    ts = threads[item.thread_ts].get(item.key)
                    if ts:
                        item.record(ts)
                        report.reconciled += 1
                        continue
                item.mark_attempt()
                response = self.client.chat_postMessage(channel=item.channel, **item.message)
                item.record(response["ts"])
                if item.key.startswith("follow_up:"):
                    report.follow_ups += 1
                elif item.key.startswith("chunk:"):
                    report.chunks += 1
                else:
                    report.notes += 1
            finally:
                self._release(item.key)

    def _thread_keys(self, channel: str, thread_ts: str) -> dict[str, str]:
        """item key → ts of the Perch messages already in a card's thread."""
        found: dict[str, str] = {}
        for message in self._pages(self.client.conversations_replies, channel=channel, ts=thread_ts):
            for event_type, field, prefix in (
                (Metadata.FOLLOW_UP, "tweet_id", "follow_up"),
                (Metadata.REPLY, "reply_id", "reply"),
                (Metadata.NOTE, "note_id", "note"),
                (Metadata.INCIDENT_CHUNK, "chunk", "chunk"),
            ):
                value = _payload_value(message, event_type, field)
                if value is not None:
                    found.setdefault(f"{prefix}:{value}", message["ts"])
        return found

    # -- plumbing ------------------------------------------------------------------------------
    def _pages(self, method: Callable[..., Any], **kwargs: Any) -> Iterator[dict[str, Any]]:
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

    def _case_lock(self, case_id: int) -> threading.Lock:
        return self._case_locks[case_id % len(self._case_locks)]


def _payload_value(message: dict, event_type: str, name: str) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != event_type:
        return None
    value = (metadata.get("event_payload") or {}).get(name)
    return None if value is None else str(value)


def _error_code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error", ""))
    except AttributeError:
        return ""


def _describe(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return f"Slack answered {error.response.status_code} {_error_code(error)}"
    return type(error).__name__ + (f": {error}" if str(error) else "")
