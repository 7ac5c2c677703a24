"""The reminders job: an escalation nobody acknowledged within its target is pinged again.

First, at the target, in the escalation's thread in the location's channel, pinging its staff
again. Then, at twice the target, the location's lead there, or (with no lead) the agent who
escalated, in the case's thread in the support queue. Each reminder is claimed in the database
before it is posted, so a restart never repeats one; none is sent once someone has acknowledged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.common import duration
from bot.blocks.escalations import staff_ping
from bot.slack.ids import mention, user_mention
from storage.db import Store, from_iso, to_iso, writing
from storage.escalations import Escalation, due_for_reminder, give_back_reminder, take_reminder
from storage.events import record_event
from storage.lifecycle import EventKind
from storage.locations import get_location
from storage.notes import add_case_note

log = logging.getLogger(__name__)


class Reminders:
    def __init__(
        self,
        store: Store,
        client: WebClient,
        *,
        normal_minutes: float,
        urgent_minutes: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.client = client
        self.minutes = {"normal": normal_minutes, "urgent": urgent_minutes}
        self.now = now

    def run(self) -> int:
        """Send what is due; returns how many reminders went out."""
        db = self.store.db
        now = self.now()
        sent = 0
        for escalation, number in due_for_reminder(db, to_iso(now), self.minutes):
            if not take_reminder(db, escalation.id, number):
                continue
            try:
                self._remind(escalation, number, now)
            except (SlackApiError, SlackClientError, OSError) as error:
                give_back_reminder(db, escalation.id, number)
                log.warning("Reminder %s for escalation %s deferred: %s", number, escalation.id, error)
                continue
            record_event(
                db,
                escalation.case_id,
                EventKind.REMINDED,
                "bot",
                {"escalation_id": escalation.id, "reminder": number, "location": escalation.location},
            )
            sent += 1
        return sent

    def _remind(self, escalation: Escalation, number: int, now: datetime) -> None:
        db = self.store.db
        location = get_location(db, escalation.location)
        waited = duration(now - from_iso(escalation.requested_at))
        if location is None or escalation.slack_channel is None:
            return
        if number == 1:
            self.client.chat_postMessage(
                channel=escalation.slack_channel,
                thread_ts=escalation.slack_ts,
                text=f"⏰ Still waiting after {waited}: can someone at {location.code} pick this up? "
                f"{staff_ping(location)}",
            )
        elif location.lead:
            lead = mention(location.lead)
            self.client.chat_postMessage(
                channel=escalation.slack_channel,
                thread_ts=escalation.slack_ts,
                text=f"⏰ {lead} nobody at {location.code} has picked this up after {waited}.",
            )
        else:
            with writing(db):
                add_case_note(
                    db,
                    escalation.case_id,
                    f"⏰ {user_mention(escalation.requested_by)} nobody at {location.code} has picked up the "
                    f"escalation after {waited}. Consider another location or call them.",
                )
