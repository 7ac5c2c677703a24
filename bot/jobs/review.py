"""A second pair of eyes: which replies wait for a lead, sending the approved ones exactly once, and the
job that pings the leads once about a draft waiting too long (and finishes an approval a crash cut off).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.blocks.common import slack_user
from bot.blocks.mrkdwn import escape_within
from bot.domain.zones import time_zone
from bot.slack.ids import USER_ID
from bot.slack.permissions import Gatekeeper
from bot.x.outbox import Outbox, Sent
from storage.cases import get_card, reply_target
from storage.db import Store, from_iso, to_iso
from storage.drafts import Draft, approved_unsent, get_draft, link_reply, reopen, replies_sent_today, take_reminders
from storage.notes import add_case_note
from storage.replies import reply_id_for_key

log = logging.getLogger(__name__)


class Reviewer:
    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        gate: Gatekeeper,
        *,
        lead_group: str | None,
        remind_minutes: float,
        daily_limit: int = 0,
        timezone: str = "UTC",
        summoned_only: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.gate = gate
        self.lead_group = lead_group
        self.remind_after = timedelta(minutes=remind_minutes)
        self.daily_limit = daily_limit
        self.timezone = timezone
        self.summoned_only = summoned_only
        self.clock = clock

    def hold_reason(self, user: str) -> str | None:
        """Why this agent's reply must wait for a lead (`review_group`, `daily_limit`), or None."""
        if self.gate.needs_review(user):
            return "review_group"
        if self.daily_limit and replies_sent_today(self.store.db, user, self._day_start()) >= self.daily_limit:
            return "daily_limit"
        return None

    def send(self, draft_id: int) -> Sent | None:
        """Send an approved draft through the outbox (its key is the draft: once, however often asked).
        When X refuses it, the draft waits for review again and the refusal is returned."""
        db = self.store.db
        draft = get_draft(db, draft_id)
        case = get_card(db, draft.case_id) if draft is not None else None
        if draft is None or case is None or draft.status != "approved":
            return None
        key = f"draft:{draft.id}"
        if draft.kind == "dm":
            sent = self.outbox.dm(
                case.case_id, case.author_id, draft.text, key=key, agent=draft.author, agent_name=draft.author_name
            )
        else:
            target = reply_target(db, case.case_id, summoned_only=self.summoned_only) or case.tweet_id
            sent = self.outbox.reply(
                case.case_id, target, draft.text, key=key, agent=draft.author, agent_name=draft.author_name
            )
        if sent.delivered or sent.status in ("in_flight", "unknown"):
            reply_id = reply_id_for_key(db, key)
            if reply_id is not None:
                link_reply(db, draft.id, reply_id)
            if sent.status == "sent":
                add_case_note(db, case.case_id, _told(draft, "approved"))
        else:
            reopen(db, draft.id, sent.message)
        return sent

    def tell_author(self, draft: Draft) -> None:
        """A note in the card's thread that names the author (a Slack id), so they hear of the outcome."""
        add_case_note(self.store.db, draft.case_id, _told(draft, draft.status))

    def run(self) -> int:
        """Ping the leads once per draft waiting past `REVIEW_REMIND_MINUTES`; send approvals a crash cut
        off. Returns how many drafts it acted on."""
        db = self.store.db
        due = take_reminders(db, self.remind_after, self.clock())
        for draft in due:
            waited = int((self.clock() - from_iso(draft.created_at)).total_seconds())
            ping = f"<!subteam^{self.lead_group}>" if self.lead_group else "Leads"
            author = slack_user(draft.author) if USER_ID.match(draft.author) else "an agent"
            add_case_note(
                db, draft.case_id, f"⏰ {ping}: a draft by {author} has waited {waited // 60} minutes for review."
            )
        unsent = approved_unsent(db)
        for draft in unsent:
            self.send(draft.id)
        return len(due) + len(unsent)

    def _day_start(self) -> str:
        """Midnight today in the report time zone, as stored times are compared."""
        now = self.clock().astimezone(time_zone(self.timezone) or UTC)
        return to_iso(now.replace(hour=0, minute=0, second=0, microsecond=0))


def _told(draft: Draft, outcome: str) -> str:
    """In Perch's words; the lead's note is escaped (it must not ping anyone or disguise a link)."""
    author = slack_user(draft.author) if USER_ID.match(draft.author) else "The author"
    lead = slack_user(draft.decided_by) if USER_ID.match(draft.decided_by or "") else "a lead"
    if outcome == "approved":
        return f"✅ {author}, {lead} approved your draft and it went out."
    note = f": “{escape_within(draft.note, 1000)}”" if draft.note else "."
    return f"↩️ {author}, {lead} sent your draft back{note}"
