"""The post job: everything Perch writes to Slack about cases, in short rounds.

Each round: the hook that runs before it (surge grouping, so a burst is grouped as it arrives),
incident cards, new case cards, the incidents' thread chunks, other thread messages (follow-ups, notes
of what the brand sent, Perch's own notes), then the incidents' counts. Cards whose case changed
(`card_version` ahead of `card_synced`) and escalation messages are updated in place after the rounds.
How a message is delivered exactly once is `bot.slack.delivery`'s business; handlers call `sync_case`
to do the same for one case right after a click.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.cards import case_card
from bot.blocks.escalations import escalation_line, escalation_message
from bot.blocks.review import draft_message
from bot.blocks.threads import case_note_message, dm_message, follow_up_message, reply_note
from bot.jobs.post_incidents import IncidentPoster
from bot.slack.delivery import MESSAGE_ERRORS, Delivery, ThreadItem, describe, error_code
from bot.slack.ids import Metadata
from storage.cases import (
    CardData,
    cards_waiting,
    cases_to_post,
    get_card,
    last_event,
    mark_card_synced,
    mark_post_attempts,
    record_posted,
    stale_cards,
)
from storage.db import Store, from_iso
from storage.dms import dms_to_post, mark_dm_attempt, record_dm_posted
from storage.drafts import (
    drafts_to_post,
    drafts_to_redraw,
    mark_draft_attempt,
    mark_draft_synced,
    record_draft_posted,
)
from storage.escalations import get_escalation, latest_escalation, mark_message_synced, stale_escalation_messages
from storage.follow_ups import follow_ups_to_post, mark_follow_up_attempt, record_follow_up_posted
from storage.locations import get_location
from storage.notes import case_notes_to_post, mark_case_note_attempt, record_case_note_posted
from storage.replies import mark_note_attempt, notes_to_post, record_note_posted
from storage.sla import breached_targets

log = logging.getLogger(__name__)

# One round of the post job: this many cards and incident-thread chunks (at Slack's ~1 message/s), then
# surge grouping and the incident cards' counts are brought up to date again.
RECORD_EVERY_SECONDS = 1.0  # posted cards are written down at least this often (each one, at Slack's pace)
ROUND_SECONDS = 20.0  # a round's cards at the pacer's interval, so surge grouping runs this often in a burst
CHUNKS_PER_ROUND = 10
THREAD_ITEMS_PER_ROUND = 10
CARD_CHECK_EVERY = 2  # thread messages posted between two looks for new cards (a card never waits long)
MAX_RERUNS = 5  # a run goes round again after a wake-up during it, this often at most


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


class Poster:
    def __init__(
        self,
        store: Store,
        client: WebClient,
        channel: str,
        *,
        brand_handle: Callable[[], str] = str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        before_round: Callable[[], object] | None = None,
        bulk_interval: float = 36.0,
        message_interval: float = 1.0,
        reply_anywhere: bool = False,
        dm_channel: str | None = None,
        lead_group: str | None = None,
    ) -> None:
        self.store = store
        self.lead_group = lead_group  # pinged by a draft held for review
        self.delivery = Delivery(client)
        self.channel = channel
        self.dm_channel = dm_channel  # where the cases DMs open go (private), if not the queue
        self.brand_handle = brand_handle
        self.reply_anywhere = reply_anywhere  # X's "summoned replies only" rule does not apply
        self.now = now
        self.before_round = before_round  # surge grouping, wired in by the app
        self.incidents = IncidentPoster(store, self.delivery, channel, bulk_interval=bulk_interval, now=now)
        # As many cards as Slack's pace lets through in a round (unpaced: a batch of 500).
        self.cards_per_round = min(500, max(1, int(ROUND_SECONDS / message_interval))) if message_interval else 500
        self.wake: Callable[[], None] = lambda: None  # the scheduler sets it: run the post job soon
        self.woken = threading.Event()  # set by a wake-up: a run going now goes round once more
        self._case_locks = [threading.Lock() for _ in range(64)]  # card updates: one thread per case

    def run(self) -> PostReport:
        """The scheduler job: rounds of posting until a round finds less than a full load, then the
        cards and messages that fell behind; again if a wake-up came meanwhile (new cards to post)."""
        report = PostReport()
        for _ in range(MAX_RERUNS):
            self.woken.clear()
            self._run_once(report)
            if not self.woken.is_set():
                break
        return report

    def _run_once(self, report: PostReport) -> None:
        try:
            while self._round(report):
                pass
            for case_id in stale_cards(self.store.db):
                self._update_card(case_id, report)
            for escalation_id in stale_escalation_messages(self.store.db):
                self._update_escalation(escalation_id, report)
            self._redraw_drafts(report)
        except (SlackClientError, OSError) as error:
            report.failed += 1
            log.warning("Posting to Slack paused until the next run: %s", describe(error))

    def _round(self, report: PostReport) -> bool:
        """One round, short at Slack's pace of about a message a second per channel: surge grouping (so a
        burst is grouped as it arrives), incident cards, new cards, the incidents' threads, other thread
        messages, the incidents' counts. True when it found a full load (there may be more)."""
        progress = report.progress
        if self.before_round is not None:
            self.before_round()
        self.incidents.post_cards(report)
        cards = self._post_cards(report, limit=self.cards_per_round)
        chunk_items = self.incidents.chunk_items()[:CHUNKS_PER_ROUND]
        self._post_thread_items(chunk_items, report)
        thread_items = self._thread_items()[:THREAD_ITEMS_PER_ROUND]
        for start in range(0, len(thread_items), CARD_CHECK_EVERY):
            if start and cards_waiting(self.store.db):  # a new card goes before the rest of the notes
                if self.before_round is not None:
                    self.before_round()  # grouped first, as at a round's start: a surge stays one card
                cards += self._post_cards(report, limit=self.cards_per_round)
            self._post_thread_items(thread_items[start : start + CARD_CHECK_EVERY], report)
        self.incidents.update_cards(report)
        self.incidents.update_chunks(report)  # filled up, taken, answered…
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
            self._redraw_drafts(report, case_id)
            if escalation_id is not None:
                self._update_escalation(escalation_id, report)
        except (SlackClientError, OSError) as error:
            report.failed += 1
            log.warning("Case %s: Slack update deferred to the next run: %s", case_id, describe(error))
        return report

    def sync_incident(self, incident_id: int) -> PostReport:
        """Bring an incident's card up to date now (after its status update or bulk reply changed)."""
        report = PostReport()
        try:
            self.incidents.update_cards(report)
        except (SlackClientError, OSError) as error:
            report.failed += 1
            log.warning("Incident %s: Slack update deferred to the next run: %s", incident_id, describe(error))
        return report

    # -- cards ---------------------------------------------------------------------------------
    def _post_cards(self, report: PostReport, limit: int) -> int:
        """Up to `limit` new cards; returns how many cases it took up."""
        db = self.store.db
        pending = cases_to_post(db, limit=limit)
        if not pending:
            return 0
        already = self._cards_in_channel([c for c in pending if c.post_attempted_at])
        channel_of = {card.case_id: self._channel_for(card) for card in pending}
        for case_id in record_posted(
            db, [(case_id, channel_of[case_id], ts) for case_id, ts in already.items()], reconciled=True
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
            channel, ts = self.delivery.post(
                self._channel_for(card), case_card(card, self.now(), reply_anywhere=self.reply_anywhere)
            )
        except SlackApiError as error:
            if error_code(error) in MESSAGE_ERRORS:
                report.failed += 1
                log.error("Slack refused the card of case %s (%s); it will be retried", card.case_id, error_code(error))
                return
            raise
        posted.append((card.case_id, channel, ts))

    def _channel_for(self, card: CardData) -> str:
        """The queue, or the private DM channel for a case a DM opened (when one is set)."""
        return self.dm_channel if card.dm_only and self.dm_channel else self.channel

    def _cards_in_channel(self, attempted: list[CardData]) -> dict[int, str]:
        """case id → ts of the cards already in their channel, for cases whose post may have gone through."""
        found: dict[int, str] = {}
        for channel in {self._channel_for(c) for c in attempted}:
            cards = [c for c in attempted if self._channel_for(c) == channel]
            since = min(from_iso(c.post_attempted_at) for c in cards if c.post_attempted_at)
            in_channel = self.delivery.find_top_level(channel, since, Metadata.CASE, "case_id")
            wanted = {str(c.case_id) for c in cards}
            found.update({int(case_id): ts for case_id, ts in in_channel.items() if case_id in wanted})
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
                reply_anywhere=self.reply_anywhere,
            )
            self.delivery.update(card.slack_channel, card.slack_ts, message, f"the card of case {case_id}")
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
        self.delivery.update(
            escalation.slack_channel,
            escalation.slack_ts,
            escalation_message(escalation, card, location),
            f"escalation {escalation_id}'s message",
            also_tolerate=("channel_not_found", "not_in_channel"),
        )
        mark_message_synced(db, escalation_id, escalation.message_version)
        report.updated += 1

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
                key=f"dm:{d.dm_event_id}",
                channel=d.slack_channel,
                thread_ts=d.thread_ts,
                attempted=d.post_attempted_at is not None,
                message=dm_message(d),
                record=partial(record_dm_posted, db, d.dm_event_id),
                mark_attempt=partial(mark_dm_attempt, db, d.dm_event_id),
            )
            for d in dms_to_post(db, case_id=case_id)
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
        items += [
            ThreadItem(
                key=f"draft:{d.id}",
                channel=d.slack_channel or "",
                thread_ts=d.thread_ts or "",
                attempted=d.post_attempted_at is not None,
                message={"thread_ts": d.thread_ts, **draft_message(d, self.lead_group)},
                record=partial(record_draft_posted, db, d.id),
                mark_attempt=partial(mark_draft_attempt, db, d.id),
            )
            for d in drafts_to_post(db, case_id=case_id)
        ]
        return items

    def _redraw_drafts(self, report: PostReport, case_id: int | None = None) -> None:
        """A decided draft's message loses its buttons and says who decided what."""
        db = self.store.db
        for draft in drafts_to_redraw(db, case_id):
            if draft.slack_channel and draft.slack_ts:
                message = draft_message(draft, self.lead_group)
                self.delivery.update(draft.slack_channel, draft.slack_ts, message, f"draft {draft.id}")
                mark_draft_synced(db, draft.id, draft.version)
                report.updated += 1

    def _post_thread_items(self, items: list[ThreadItem], report: PostReport) -> None:
        posted, found = self.delivery.post_thread_items(items)
        report.reconciled += found
        for item in posted:
            if item.kind in ("follow_up", "dm"):
                report.follow_ups += 1
            elif item.kind == "chunk":
                report.chunks += 1
            else:
                report.notes += 1

    def _case_lock(self, case_id: int) -> threading.Lock:
        return self._case_locks[case_id % len(self._case_locks)]
