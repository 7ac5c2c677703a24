"""Case cards in Slack: new cards posted in batches, and a card drawn again when its case changed.

Delivered two-phase (`bot.slack.delivery`): the attempts are written down before posting, so a card
whose answer was lost is found again in its channel by its `perch_case` metadata instead of being posted
twice. Kept apart from the post job's rounds (`bot/jobs/post.py`), as the incident cards are
(`bot/jobs/post_incidents.py`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError

from bot.blocks.cards import case_card, short_case_card
from bot.blocks.escalations import escalation_line
from bot.slack.delivery import GONE, MESSAGE_ERRORS, Delivery, error_code
from bot.slack.ids import Metadata
from storage.cards import cases_to_post, last_event, mark_card_synced, mark_post_attempts, record_posted
from storage.cases import CardData, get_card
from storage.db import Store, from_iso
from storage.escalations import latest_escalation
from storage.sla import breached_targets

log = logging.getLogger(__name__)

RECORD_EVERY_SECONDS = 1.0  # posted cards are written down at least this often (each one, at Slack's pace)


class CardTally(Protocol):
    """What the post job counts (its `PostReport`)."""

    posted: int
    reconciled: int
    failed: int
    updated: int


@dataclass(frozen=True)
class Redraw:
    """What became of one card's redraw: `drawn` when the card in Slack shows the case as it is now;
    `note` is what the person whose click it followed should hear (None: the card says it all)."""

    drawn: bool
    note: str | None = None


CARD_SHORTENED = (
    "Done. The card was too long for Slack to redraw, so it now shows a shorter version (the whole post is on X)."
)
CARD_REFUSED = "Done, but Slack refused to redraw the card ({error}): it may still show the case as it was."
CARD_DEFERRED = "Done. Slack did not answer just now, so the card catches up on Perch's next round."
CARD_GONE = "Done, but the card is no longer in Slack, so there was nothing to redraw."


class CardPoster:
    def __init__(
        self,
        store: Store,
        delivery: Delivery,
        channel: str,
        *,
        dm_channel: str | None,
        now: Callable[[], datetime],
        reply_anywhere: bool,
        csat_cooldown: timedelta | None = None,
    ) -> None:
        self.store = store
        self.delivery = delivery
        self.channel = channel
        self.dm_channel = dm_channel  # where the cases DMs open go (private), if not the queue
        self.now = now
        self.reply_anywhere = reply_anywhere  # X's "summoned replies only" rule does not apply
        self.csat_cooldown = csat_cooldown  # surveys on: a card offers Resolve without survey where one would go
        self._case_locks = [threading.Lock() for _ in range(64)]  # card updates: one thread per case

    def post(self, report: CardTally, limit: int) -> int:
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
        posted: list[tuple[int, str, str]] = []
        recorded_at = time.monotonic()
        try:
            for card in to_post:
                mark_post_attempts(db, [card.case_id])  # each card's own (fenced) write just before its post
                self._post_card(card, posted, report)
                if time.monotonic() - recorded_at >= RECORD_EVERY_SECONDS:
                    report.posted += len(record_posted(db, posted))
                    posted, recorded_at = [], time.monotonic()
        finally:
            # A crash before this line is healed by `_cards_in_channel` on the next run.
            report.posted += len(record_posted(db, posted))
        return len(pending)

    def update(self, case_id: int, report: CardTally) -> Redraw:
        """Re-render a card from its case's current state (one thread per case at a time); drawn smaller
        when Slack refuses the full card. What became of it is returned, for the clicker to be told."""
        with self._case_lock(case_id):
            db = self.store.db
            card = get_card(db, case_id)
            if card is None or card.slack_ts is None or card.slack_channel is None:
                return Redraw(drawn=False)
            last = last_event(db, case_id)
            escalation = latest_escalation(db, case_id)
            message = case_card(
                card,
                self.now(),
                last,
                escalation_line(escalation) if escalation else None,
                tuple(breached_targets(db, case_id)),
                reply_anywhere=self.reply_anywhere,
                csat_cooldown=self.csat_cooldown,
            )
            error = self.delivery.update(card.slack_channel, card.slack_ts, message, f"the card of case {case_id}")
            redraw = self._redraw_smaller(card, last, error) if error else Redraw(drawn=True)
            mark_card_synced(db, case_id, card.card_version)  # a refused card is not retried for ever
            if redraw.drawn:
                report.updated += 1
            else:
                report.failed += 1
            return redraw

    def _redraw_smaller(self, card: CardData, last: dict[str, Any] | None, error: str) -> Redraw:
        """After Slack refused a card for its content: the smaller card (`short_case_card`)."""
        if error in GONE or card.slack_channel is None or card.slack_ts is None:
            return Redraw(drawn=False, note=CARD_GONE)
        small = short_case_card(card, self.now(), last, reply_anywhere=self.reply_anywhere)
        what = f"the shortened card of case {card.case_id}"
        if self.delivery.update(card.slack_channel, card.slack_ts, small, what) is None:
            log.warning("Slack refused the card of case %s (%s); it shows a shorter one", card.case_id, error)
            return Redraw(drawn=True, note=CARD_SHORTENED)
        return Redraw(drawn=False, note=CARD_REFUSED.format(error=error))

    def _post_card(self, card: CardData, posted: list[tuple[int, str, str]], report: CardTally) -> None:
        """The card, or, when Slack refuses it for its content, the smaller card at once (a refused card
        would otherwise be refused again each run and the case never reach the queue); a smaller card
        refused too is retried on the next run."""
        drawings = (
            (
                "card",
                lambda: case_card(
                    card, self.now(), reply_anywhere=self.reply_anywhere, csat_cooldown=self.csat_cooldown
                ),
            ),
            ("shortened card", lambda: short_case_card(card, self.now(), reply_anywhere=self.reply_anywhere)),
        )
        for what, draw in drawings:  # the smaller one drawn only if the first is refused
            try:
                channel, ts = self.delivery.post(self._channel_for(card), draw())
            except SlackApiError as error:
                if error_code(error) not in MESSAGE_ERRORS:
                    raise
                log.error("Slack refused the %s of case %s (%s)", what, card.case_id, error_code(error))
                continue
            posted.append((card.case_id, channel, ts))
            return
        report.failed += 1
        log.error("Case %s has no card yet: both were refused, so it is tried again on the next run", card.case_id)

    def _channel_for(self, card: CardData) -> str:
        """The channel its route chose; else the queue, or the private DM channel for a case a DM opened
        (when one is set)."""
        if card.queue_channel:
            return card.queue_channel
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

    def _case_lock(self, case_id: int) -> threading.Lock:
        return self._case_locks[case_id % len(self._case_locks)]
