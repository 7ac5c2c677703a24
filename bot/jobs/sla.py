"""The SLA job: one reminder in the card's thread when a target is about to be missed, then a ping to
the support leads when it is missed; the card shows ⚠ from then on.

Targets: claim (from the card being posted), first response and resolve (from the tweet). A reminder
is recorded before its note is written (and the note is posted through the poster's exactly-once
outbox), so a restart never repeats one; once the case moves on, its clock stops and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.blocks.common import duration
from bot.slack.ids import usergroup_mention
from storage.cases import touch_card
from storage.db import Store, from_iso, writing
from storage.notes import add_case_note
from storage.sla import Due, due_reminders, take_reminder

WORDS = {"claim": "claimed", "first_response": "answered", "resolve": "resolved"}


class SlaReminders:
    def __init__(
        self,
        store: Store,
        *,
        claim_minutes: float,
        first_response_minutes: float,
        resolve_minutes: float,
        lead_group: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.minutes = {"claim": claim_minutes, "first_response": first_response_minutes, "resolve": resolve_minutes}
        self.lead_group = lead_group
        self.now = now

    def run(self) -> int:
        db = self.store.db
        now = self.now()
        sent = 0
        for due in due_reminders(db, now, self.minutes):
            with writing(db):
                if not take_reminder(db, due):
                    continue
                add_case_note(db, due.case_id, self._text(due, now))
                if due.stage == 2:
                    touch_card(db, due.case_id)  # the card shows ⚠ now
            sent += 1
        return sent

    def _text(self, due: Due, now: datetime) -> str:
        waited = duration(now - from_iso(due.started_at))
        target = duration(timedelta(minutes=self.minutes[due.target]))
        if due.stage == 1:
            return f"⏳ Not {WORDS[due.target]} yet after {waited}: the target is {target}."
        lead = f"{usergroup_mention(self.lead_group)} " if self.lead_group else ""
        return f"⚠️ {lead}Not {WORDS[due.target]} after {waited}: past the {target} target."
