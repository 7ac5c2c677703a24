"""A case: what its card shows (`CardData`, read by `get_card`), and `change`, the one way it changes.

Every step — claim, unclaim, reassign, reply, DM, move to DM, escalate, resolve, reopen, a follow-up,
a DM in, a draft held or decided — goes through `change`: the transition checked against
`storage/lifecycle.py`'s table in one conditional UPDATE (so when several agents click at once exactly
one wins), the event appended, and `card_version` bumped, which tells the poster the card in Slack is
behind (`storage/cards.py`). The small functions below it (`claim`, `resolve`, ...) only name its
arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.customers import RETURNING_DAYS
from storage.db import from_iso, row_as, utc_now, writing
from storage.engine import Database
from storage.events import record_event
from storage.lifecycle import (
    LOG_ONLY,
    REASSIGNED_TO,
    REOPENED_HOLDER,
    TO_DM_KINDS,
    CaseStatus,
    EventKind,
    Outcome,
    transition,
    why_not,
)


@dataclass(frozen=True)
class CardData:
    """Everything a card shows, joined from `cases` and its first tweet."""

    case_id: int
    status: str
    tweet_id: str
    text: str
    author_handle: str
    author_name: str
    author_followers: int | None
    created_at: str
    post_attempted_at: str | None
    slack_channel: str | None = None
    slack_ts: str | None = None
    author_id: str = ""
    assignee: str | None = None
    posted_at: str | None = None
    claimed_at: str | None = None
    first_response_at: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None
    reopened_count: int = 0
    card_version: int = 0
    conversation_id: str = ""
    suggested_location: str | None = None
    location: str | None = None
    priority: str | None = None
    priority_signals: str | None = None
    summoned: bool = True  # one of the customer's posts in the case @mentions or quotes the brand
    dm_event_id: str | None = None  # the DM that opened the case (it has no tweet)
    last_dm_in_at: str | None = None  # the customer's latest DM in the case (a survey's score is none)
    last_dm_out_at: str | None = None  # the brand's latest DM in the case
    in_dm: bool = False  # moved to DM, opened by one, or with DMs either way: Reply in DM is offered
    personal_data: str | None = None  # the kinds of personal data the customer's public post shows
    drafts_pending: int = 0  # replies or DMs written for this case, waiting for a lead's review
    reason: str | None = None  # why the customer wrote, picked at resolve
    suggested_reason: str | None = None  # what the team's keyword rules suggested when it opened
    surveyed: bool = False  # a satisfaction survey was claimed for this case (there is never a second)
    customer_asked_at: str | None = None  # when this customer was last asked for one (any case)
    customer_cases: int = 1  # the customer's cases opened in the RETURNING_DAYS up to this one's, this one included
    queue_channel: str | None = None  # the channel its route chose for its card (None: the default queue)
    queue_team: str | None = None  # the user group its route lets act on it (None: SUPPORT_USERGROUP)

    @property
    def dm_only(self) -> bool:
        """Opened by a DM: nothing public to answer."""
        return self.dm_event_id is not None

    @property
    def awaiting_customer(self) -> bool:
        """In DM, and the brand wrote last: the next move is the customer's."""
        return bool(self.last_dm_out_at) and (self.last_dm_in_at or "") < (self.last_dm_out_at or "")

    def survey_due(self, cooldown: timedelta | None, now: datetime) -> bool:
        """Resolving would send the satisfaction survey (`cooldown` None: surveys are off): the
        conversation went to DM, the case was never surveyed, the customer was not asked lately."""
        if cooldown is None or not self.in_dm or self.surveyed or not self.author_id:
            return False
        return self.customer_asked_at is None or from_iso(self.customer_asked_at) < now - cooldown


@dataclass(frozen=True)
class Change:
    """The outcome of a state change, with the case as it is now."""

    outcome: Outcome
    case: CardData | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


CARD_COLUMNS = f"""
    c.id AS case_id, c.status, COALESCE(c.tweet_id, '') AS tweet_id, COALESCE(t.text, '') AS text,
    COALESCE(t.author_handle, d.sender_handle, '') AS author_handle,
    COALESCE(t.author_name, d.sender_name, '') AS author_name,
    COALESCE(t.author_followers, d.sender_followers) AS author_followers,
    COALESCE(t.created_at, d.created_at) AS created_at, c.post_attempted_at, c.slack_channel, c.slack_ts,
    c.author_id, c.assignee, c.posted_at,
    c.claimed_at, c.first_response_at, c.resolved_at, c.resolved_by, c.reopened_count, c.card_version,
    c.conversation_id, c.suggested_location, c.location, c.priority, c.priority_signals,
    EXISTS (SELECT 1 FROM tweets s WHERE s.case_id = c.id AND s.author_id = c.author_id
            AND COALESCE(s.summoned, 1) = 1) AS summoned,
    c.dm_event_id,
    (SELECT MAX(x.created_at) FROM dm_events x WHERE x.case_id = c.id AND x.direction = 'in'
     AND NOT EXISTS (SELECT 1 FROM csat_surveys cs WHERE cs.answer_dm_id = x.id)) AS last_dm_in_at,
    (SELECT MAX(r.sent_at) FROM replies r WHERE r.case_id = c.id AND r.kind = 'dm' AND r.status = 'sent')
        AS last_dm_out_at,
    (c.dm_event_id IS NOT NULL OR c.status = '{CaseStatus.IN_DM}'
     OR EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.id AND e.kind IN {TO_DM_KINDS})
     OR EXISTS (SELECT 1 FROM dm_events x WHERE x.case_id = c.id)) AS in_dm,
    c.personal_data, c.queue_channel, c.queue_team,
    (SELECT COUNT(*) FROM drafts r WHERE r.case_id = c.id AND r.status = 'pending') AS drafts_pending,
    c.reason, c.suggested_reason,
    EXISTS (SELECT 1 FROM csat_surveys cs WHERE cs.case_id = c.id) AS surveyed,
    (SELECT MAX(cs.requested_at) FROM csat_surveys cs WHERE cs.customer_id = c.author_id
        AND cs.reply_key IS NOT NULL AND COALESCE(
        (SELECT r.status FROM replies r WHERE r.idempotency_key = cs.reply_key), 'sending') != 'failed')
        AS customer_asked_at,
    (SELECT COUNT(*) FROM cases p WHERE p.author_id = c.author_id AND p.tweet_created_at
     BETWEEN strftime('%Y-%m-%dT%H:%M:%fZ', c.tweet_created_at, '-{RETURNING_DAYS} days') AND c.tweet_created_at
     AND (p.tweet_created_at < c.tweet_created_at OR p.id <= c.id)) AS customer_cases
"""
# Every case, opened by a tweet or by a DM (whose text never shows on the card: it stays in the thread).
CARD_FROM = "FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id LEFT JOIN dm_events d ON d.id = c.dm_event_id"
# Cases opened by a public tweet (what surge grouping compares).
PUBLIC_CASE_FROM = "FROM cases c JOIN tweets t ON t.id = c.tweet_id"


def get_card(db: Database, case_id: int) -> CardData | None:
    return row_as(CardData, db.execute(f"SELECT {CARD_COLUMNS} {CARD_FROM} WHERE c.id = ?", [case_id]))


def case_tweets(db: Database, case_id: int) -> list[dict[str, Any]]:
    """The customer's tweets in a case, oldest first (the thread so far, with `replies`)."""
    return list(
        db.query(
            "SELECT id, text, author_handle, author_name, created_at FROM tweets "
            "WHERE case_id = ? ORDER BY created_at, id",
            [case_id],
        )
    )


# -- state changes: every one goes through `change` ------------------------------------------------


def change(
    db: Database,
    case_id: int,
    kind: EventKind,
    actor: str,
    *,
    detail: dict[str, Any] | None = None,
    at: str | None = None,
    assignee: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    as_manager: bool = False,
    read_back: bool = True,
) -> Change:
    """The one way a case changes: check the transition is allowed, update the case, append the event
    and mark the card behind, in one transaction. The update is one conditional UPDATE (the rule's
    condition in its WHERE), so when several people act at once exactly one wins on any engine.

    `actor`: a Slack user id, `bot` or `x.com`; `at`: when it happened (now unless it happened on X
    earlier); `assignee`: who a claim, reassignment or escalation gives the case to (default `actor`);
    `read_back`: return the card as it is now (writers inside a larger transaction don't need it).
    """
    rule = transition(kind)
    now = utc_now()
    at, assignee = at or now, assignee or actor
    params = {
        "case_id": case_id,
        "now": now,
        "at": at,
        "actor": actor,
        "assignee": assignee,
        "reason": reason,
        "location": location,
        "as_manager": int(as_manager),
    }
    with writing(db):
        before = db.execute("SELECT assignee FROM cases WHERE id = ?", [case_id]).fetchone()
        if before is None:
            return Change(Outcome.MISSING)
        condition = f" AND ({rule.when})" if rule.when else ""
        done = (
            kind in LOG_ONLY
            or db.execute(f"UPDATE cases SET {rule.set_clause()} WHERE id = :case_id{condition}", params).rowcount
        )
        if done:
            record_event(db, case_id, kind, actor, {**_detail_from(kind, before[0], assignee), **(detail or {})}, at=at)
    if not read_back:
        return Change(Outcome.OK if done else why_not(kind, *_state(db, case_id), actor))
    case = get_card(db, case_id)
    if case is None:
        return Change(Outcome.MISSING)
    return Change(Outcome.OK if done else why_not(kind, case.status, case.assignee, actor), case)


def _state(db: Database, case_id: int) -> tuple[str, str | None]:
    row = db.execute("SELECT status, assignee FROM cases WHERE id = ?", [case_id]).fetchone()
    return (row[0], row[1]) if row else (CaseStatus.RESOLVED, None)


def _detail_from(kind: EventKind, holder: str | None, assignee: str) -> dict[str, Any]:
    """What the log keeps of the case as it was: whom an unclaim or reassignment took it from, whom a
    reopened case goes back to (the `holds` trigger reads these keys)."""
    if kind is EventKind.UNCLAIMED:
        return {"from": holder}
    if kind is EventKind.REASSIGNED:
        return {"from": holder, REASSIGNED_TO: assignee}
    if kind is EventKind.REOPENED:
        return {REOPENED_HOLDER: holder}
    return {}


# The steps people take. `at` is for logs replayed at known times (tests, imports); Perch's own
# writers leave it to the clock.


def claim(db: Database, case_id: int, user: str, *, implicit: bool = False, at: str | None = None) -> Change:
    """Give an unclaimed, open case to `user`: one winner."""
    return change(db, case_id, EventKind.CLAIMED, user, detail={"implicit": implicit}, at=at)


def unclaim(db: Database, case_id: int, user: str, *, as_manager: bool = False, at: str | None = None) -> Change:
    return change(db, case_id, EventKind.UNCLAIMED, user, as_manager=as_manager, at=at)


def reassign(db: Database, case_id: int, to_user: str, by_user: str, *, at: str | None = None) -> Change:
    return change(db, case_id, EventKind.REASSIGNED, by_user, assignee=to_user, at=at)


def resolve(db: Database, case_id: int, user: str, reason: str | None = None, *, at: str | None = None) -> Change:
    """`reason`: why the customer wrote, as the agent picked it (kept unless a new one is given)."""
    detail = {"reason": reason} if reason else {}
    return change(db, case_id, EventKind.RESOLVED, user, detail=detail, reason=reason, at=at)


def reopen(
    db: Database, case_id: int, actor: str, detail: dict[str, Any] | None = None, *, at: str | None = None
) -> Change:
    """Back to work: to its assignee if it has one, else to the queue."""
    return change(db, case_id, EventKind.REOPENED, actor, detail=detail, at=at)


def touch_card(db: Database, case_id: int) -> None:
    """Mark the card behind its case: something it shows changed that is no step of the case (triage,
    an SLA warning, a suggested reason). A step goes through `change`, which does this itself."""
    db.execute("UPDATE cases SET card_version = card_version + 1 WHERE id = ?", [case_id])


def reply_target(db: Database, case_id: int, *, summoned_only: bool = True) -> str | None:
    """The customer's latest tweet in the case that X lets the brand answer: replies thread under it."""
    summoned = "AND COALESCE(t.summoned, 1) = 1 " if summoned_only else ""
    row = db.execute(
        "SELECT t.id FROM tweets t JOIN cases c ON c.id = t.case_id WHERE t.case_id = ? "
        f"AND t.author_id = c.author_id {summoned}ORDER BY t.created_at DESC, t.id DESC LIMIT 1",
        [case_id],
    ).fetchone()
    return row[0] if row else None


def case_at(db: Database, channel: str, ts: str) -> int | None:
    """The case whose card is the message `ts` in `channel`."""
    row = db.execute("SELECT id FROM cases WHERE slack_channel = ? AND slack_ts = ?", [channel, ts]).fetchone()
    return row[0] if row else None
