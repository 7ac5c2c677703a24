"""The post job: everything Perch writes to Slack about cases, in short rounds.

Each round: surge grouping (the `SurgeGrouper` handed in, so a burst is grouped as it arrives),
incident cards (`post_incidents`), new case cards (`post_cards`), the incidents' thread chunks, other
thread messages (`thread_items`: follow-ups, DMs, notes of what the brand sent, Perch's own notes,
drafts), then the incidents' counts. Cards whose case changed
(`card_version` ahead of `card_synced`) and escalation messages are updated in place after the rounds.
How a message is delivered exactly once is `bot.slack.delivery`'s business; handlers call `sync_case`
to do the same for one case right after a click.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.blocks.escalations import escalation_message
from bot.blocks.review import draft_message
from bot.blocks.threads import follow_up_message
from bot.jobs.case_routing import CaseRouter
from bot.jobs.post_cards import CARD_DEFERRED, CardPoster
from bot.jobs.post_incidents import IncidentPoster
from bot.jobs.surge import SurgeGrouper
from bot.jobs.thread_items import thread_items_to_post
from bot.jobs.wake import PostWake
from bot.slack.delivery import Delivery, ThreadItem, describe
from storage.cards import cards_waiting, stale_cards
from storage.cases import get_card
from storage.db import Store
from storage.drafts import drafts_to_redraw, mark_draft_synced
from storage.escalations import get_escalation, mark_message_synced, stale_escalation_messages
from storage.follow_ups import follow_ups_to_redraw, mark_follow_up_redrawn
from storage.locations import get_location

log = logging.getLogger(__name__)

# One round of the post job: this many cards and incident-thread chunks (at Slack's ~1 message/s), then
# surge grouping and the incident cards' counts are brought up to date again.
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
    card_note: str | None = None  # what the clicker hears about their card's redraw (None: nothing to say)

    @property
    def progress(self) -> int:
        """Messages that are now in Slack, posted or found there."""
        return self.posted + self.reconciled + self.chunks + self.incidents + self.follow_ups + self.notes


class Poster:
    """The post job's rounds, and bringing one case or incident up to date right after a click. Before
    each round's cards it runs surge grouping (`grouper`); it rings `wake` when a case needs its own card
    now, and a wake-up during a run (its `woken`) makes the run go round once more."""

    def __init__(
        self,
        store: Store,
        client: WebClient,
        channel: str,
        *,
        wake: PostWake | None = None,
        grouper: SurgeGrouper | None = None,
        brand_handle: Callable[[], str] = str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        bulk_interval: float = 36.0,
        message_interval: float = 1.0,
        reply_anywhere: bool = False,
        dm_channel: str | None = None,
        lead_group: str | None = None,
        csat_cooldown: timedelta | None = None,
    ) -> None:
        """`csat_cooldown`: CSAT_COOLDOWN_DAYS when surveys are on (cards then offer Resolve without survey)."""
        self.store = store
        self.wake = wake or PostWake()
        self.grouper = grouper
        self.lead_group = lead_group  # pinged by a draft held for review
        self.brand_handle = brand_handle
        self.delivery = Delivery(client)
        self.router = CaseRouter(store, lambda: brand_handle().lower())
        self.cards = CardPoster(
            store,
            self.delivery,
            channel,
            dm_channel=dm_channel,
            now=now,
            reply_anywhere=reply_anywhere,
            csat_cooldown=csat_cooldown,
        )
        self.incidents = IncidentPoster(store, self.delivery, channel, bulk_interval=bulk_interval, now=now)
        # As many cards as Slack's pace lets through in a round (unpaced: a batch of 500).
        self.cards_per_round = min(500, max(1, int(ROUND_SECONDS / message_interval))) if message_interval else 500

    def run(self) -> PostReport:
        """The scheduler job: rounds of posting until a round finds less than a full load, then the
        cards and messages that fell behind; again if a wake-up came meanwhile (new cards to post)."""
        report = PostReport()
        for _ in range(MAX_RERUNS):
            self.wake.woken.clear()
            self._run_once(report)
            if not self.wake.woken.is_set():
                break
        return report

    def _run_once(self, report: PostReport) -> None:
        try:
            self.router.route_stragglers()  # no case waits for ever for the queue its ingest did not give it
            while self._round(report):
                pass
            for case_id in stale_cards(self.store.db):
                self.cards.update(case_id, report)
            for escalation_id in stale_escalation_messages(self.store.db):
                self._update_escalation(escalation_id, report)
            self._redraw_drafts(report)
            self._redraw_mended_follow_ups(report)
        except (SlackClientError, OSError) as error:
            report.failed += 1
            log.warning("Posting to Slack paused until the next run: %s", describe(error))

    def _round(self, report: PostReport) -> bool:
        """One round, short at Slack's pace of about a message a second per channel: surge grouping (so a
        burst is grouped as it arrives), incident cards, new cards, the incidents' threads, other thread
        messages, the incidents' counts. True when it found a full load (there may be more)."""
        progress = report.progress
        self._group_surges()
        self.incidents.post_cards(report)
        cards = self.cards.post(report, limit=self.cards_per_round)
        chunk_items = self.incidents.chunk_items()[:CHUNKS_PER_ROUND]
        self._post_thread_items(chunk_items, report)
        thread_items = self._thread_items()[:THREAD_ITEMS_PER_ROUND]
        for start in range(0, len(thread_items), CARD_CHECK_EVERY):
            if start and cards_waiting(self.store.db):  # a new card goes before the rest of the notes
                self._group_surges()  # grouped first, as at a round's start: a surge stays one card
                cards += self.cards.post(report, limit=self.cards_per_round)
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
            self.cards.update(case_id, report)
            self._redraw_drafts(report, case_id)
            if escalation_id is not None:
                self._update_escalation(escalation_id, report)
        except (SlackClientError, OSError) as error:
            report.failed += 1
            log.warning("Case %s: Slack update deferred to the next run: %s", case_id, describe(error))
        return report

    def redraw_card(self, case_id: int) -> PostReport:
        """Bring one case's card up to date now, after a step that changes only the card (a claim,
        an unclaim, a reassignment, a resolve or a reopen writes nothing to the thread)."""
        report = PostReport()
        try:
            card = get_card(self.store.db, case_id)
            if card is not None and card.slack_ts is None:
                self.wake()  # a case taken from its surge incident's thread: its own card comes next
            report.card_note = self.cards.update(case_id, report).note
        except (SlackClientError, OSError) as error:
            report.failed += 1
            report.card_note = CARD_DEFERRED
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

    def _group_surges(self) -> None:
        """Surge grouping before cards go out, so a burst's tweets join their incident instead."""
        if self.grouper is not None:
            self.grouper.run()

    # -- escalations and drafts ----------------------------------------------------------------
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

    def _thread_items(self, case_id: int | None = None) -> list[ThreadItem]:
        return thread_items_to_post(
            self.store.db, brand_handle=self.brand_handle, lead_group=self.lead_group, case_id=case_id
        )

    def _redraw_drafts(self, report: PostReport, case_id: int | None = None) -> None:
        """A decided draft's message loses its buttons and says who decided what."""
        db = self.store.db
        for draft in drafts_to_redraw(db, case_id):
            if draft.slack_channel and draft.slack_ts:
                message = draft_message(draft, self.lead_group)
                self.delivery.update(draft.slack_channel, draft.slack_ts, message, f"draft {draft.id}")
                mark_draft_synced(db, draft.id, draft.version)
                report.updated += 1

    def _redraw_mended_follow_ups(self, report: PostReport) -> None:
        """A follow-up posted as X first served it (no text, no author) shows the whole copy once it came."""
        db = self.store.db
        for follow_up in follow_ups_to_redraw(db):
            if follow_up.slack_ts is None or follow_up.mended_at is None:
                continue
            what = f"the follow-up {follow_up.tweet_id}"
            if self.delivery.update(follow_up.slack_channel, follow_up.slack_ts, follow_up_message(follow_up), what):
                report.failed += 1
            else:
                report.updated += 1
            mark_follow_up_redrawn(db, follow_up.tweet_id, follow_up.mended_at)

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
