"""The brand's direct messages: stored once by X's event id, joined to the customer's case.

A customer's DM joins their open case (or reopens one resolved in the last `REOPEN_WITHIN`), else it
opens a case of its own, named by that first DM — unless it answers a satisfaction survey (it begins
with a score, within a day of the question: `storage/csat.py`), which is recorded on the surveyed case
and changes nothing else. A DM the brand sent is either Perch's own (a reply
row already says so, or an unconfirmed send that went out after all) or one written on x.com, which
counts as a response like a public reply sent there. Each DM is stored in its own savepoint, so one
that cannot be stored is skipped and named instead of holding the others back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from storage.cases import change, reopen
from storage.csat import awaiting_answer, parse_score, record_answer
from storage.db import from_iso, new_id, rows_as, to_iso, utc_now, writing
from storage.engine import BAD_ROW, Database
from storage.events import record_event
from storage.lifecycle import NOT_RESOLVED, REOPENED_HOLDER, CaseStatus, EventKind
from storage.replies import mark_sent, record_sent_elsewhere
from storage.tweets import Cursor, advance_cursor, storable

log = logging.getLogger(__name__)

DM_SOURCE = "dm"  # the cursor's name
REOPEN_WITHIN = timedelta(days=7)  # a DM to a case resolved longer ago than this opens a new one


@dataclass(frozen=True)
class DirectMessage:
    """A `MessageCreate` DM event as X sent it (sender fields from `includes.users`)."""

    id: str
    text: str
    sender_id: str
    conversation_id: str
    created_at: str
    sender_handle: str = ""
    sender_name: str = ""
    sender_followers: int | None = None
    sender_verified: bool | None = None
    referenced_tweet_ids: tuple[str, ...] = ()
    media_count: int = 0
    raw: dict = field(default_factory=dict, compare=False)

    def other_participant(self, brand_id: str) -> str | None:
        """The customer in a one-to-one conversation (`low-high` ids); None for anything else."""
        ids = self.conversation_id.split("-")
        if len(ids) != 2 or brand_id not in ids or not all(i.isdigit() for i in ids):
            return None
        other = ids[1] if ids[0] == brand_id else ids[0]
        return other if other != brand_id else None


@dataclass
class DMStoreResult:
    stored: int = 0
    duplicates: int = 0
    cases_opened: list[int] = field(default_factory=list)
    joined: int = 0
    answers: int = 0  # DMs the brand sent on x.com that answered a case
    scores: int = 0  # customers' answers to a satisfaction survey
    unstorable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DMToPost:
    """A customer's DM that belongs in its case's thread and is not there yet."""

    dm_event_id: str
    case_id: int
    text: str
    sender_handle: str
    sender_name: str
    created_at: str
    conversation_id: str
    referenced_tweet_ids: str
    media_count: int
    post_attempted_at: str | None
    slack_channel: str
    thread_ts: str
    opened_case: bool  # the DM that opened its case
    reopened_for: str | None = None  # the assignee to ping when this DM reopened a resolved case
    csat_score: int | None = None  # this DM answered the case's satisfaction survey with this score
    csat_comment: str | None = None  # ... and the rest of it


def store_dms(db: Database, dms: list[DirectMessage], brand_id: str, cursor: Cursor | None = None) -> DMStoreResult:
    """Store new DM events oldest first, each joined to its case, then move the cursor forward."""
    result = DMStoreResult()
    fresh = sorted({d.id: d for d in dms}.values(), key=lambda d: (d.created_at, int(d.id) if d.id.isdigit() else 0))
    known = _known(db, [d.id for d in fresh])
    result.duplicates = len(dms) - len(fresh) + len(known)
    for dm in fresh:
        if dm.id in known:
            continue
        try:
            with writing(db):
                if _known(db, [dm.id]):  # stored meanwhile (the stream and a poll at once): once
                    result.duplicates += 1
                else:
                    _store_one(db, dm, brand_id, result)
        except BAD_ROW as error:
            log.error(
                "Skipped DM event %s: it cannot be stored (%s: %s)", dm.id, type(error).__name__, str(error)[:200]
            )
            result.unstorable.append(dm.id)
    if cursor is not None:
        with writing(db):
            advance_cursor(db, cursor)
    return result


def _store_one(db: Database, dm: DirectMessage, brand_id: str, result: DMStoreResult) -> None:
    customer = dm.other_participant(brand_id)
    outbound = dm.sender_id == brand_id
    row = _row(dm, customer, "out" if outbound else "in")
    db.table("dm_events").insert(row)
    result.stored += 1
    if customer is None:
        return
    if outbound:
        _brand_sent(db, dm, customer, result)
    else:
        _customer_sent(db, dm, customer, result)


def _customer_sent(db: Database, dm: DirectMessage, customer: str, result: DMStoreResult) -> None:
    if _answered_survey(db, dm, customer):
        result.scores += 1
        return
    case_id = _open_case_of(db, customer)
    if case_id is None:
        case_id = _recently_resolved_case_of(db, customer, dm.created_at)
        if case_id is not None:
            reopen(db, case_id, "bot", {"dm_event_id": dm.id})
    if case_id is None:
        now = utc_now()
        case_id = new_id(
            db.table("cases").insert(
                {
                    "dm_event_id": dm.id,
                    "author_id": customer,
                    "conversation_id": dm.conversation_id,
                    "status": CaseStatus.NEW,
                    "tweet_created_at": dm.created_at,
                    "opened_at": now,
                    "updated_at": now,
                }
            )
        )
        record_event(db, case_id, EventKind.OPENED, "bot", {"dm_event_id": dm.id, "source": DM_SOURCE}, at=now)
        result.cases_opened.append(case_id)
    else:
        change(db, case_id, EventKind.DM_RECEIVED, "bot", detail={"dm_event_id": dm.id}, read_back=False)
        result.joined += 1
    db.execute("UPDATE dm_events SET case_id = ? WHERE id = ?", [case_id, dm.id])


def _answered_survey(db: Database, dm: DirectMessage, customer: str) -> bool:
    """A score for the survey this customer was asked within the last day: kept on the surveyed case
    (posted in its thread), neither reopening it nor opening one, nor waiting for an answer."""
    parsed = parse_score(dm.text)
    case_id = awaiting_answer(db, customer, dm.created_at) if parsed else None
    if parsed is None or case_id is None:
        return False
    score, comment = parsed
    if not record_answer(db, case_id, dm.id, score, storable(comment), dm.created_at):
        return False
    db.execute("UPDATE dm_events SET case_id = ? WHERE id = ?", [case_id, dm.id])
    return True


def _brand_sent(db: Database, dm: DirectMessage, customer: str, result: DMStoreResult) -> None:
    """Perch's own DM (known by id, or an unconfirmed send with this text), else one sent on x.com."""
    ours = db.execute("SELECT id, case_id FROM replies WHERE x_id = ?", [dm.id]).fetchone()
    if ours is None:
        ours = db.execute(
            "SELECT id, case_id FROM replies WHERE kind = 'dm' AND status IN ('sending', 'unknown') "
            "AND dm_participant_id = ? AND text = ? ORDER BY id LIMIT 1",
            [customer, dm.text],
        ).fetchone()
        if ours is not None:
            mark_sent(db, ours[0], dm.id)
    if ours is not None:
        db.execute("UPDATE dm_events SET reply_id = ?, case_id = ? WHERE id = ?", [ours[0], ours[1], dm.id])
        return
    case_id = _open_case_of(db, customer) or _recently_resolved_case_of(db, customer, dm.created_at)
    if case_id is None:
        return  # the brand wrote to someone with no case: not the queue's business
    reply_id = record_sent_elsewhere(db, case_id, "dm", dm.id, storable(dm.text), dm.created_at, participant=customer)
    db.execute("UPDATE dm_events SET reply_id = ?, case_id = ? WHERE id = ?", [reply_id, case_id, dm.id])
    result.answers += 1


def _open_case_of(db: Database, customer: str) -> int | None:
    """The customer's open case, the one in DM first (that is where the conversation went)."""
    row = db.execute(
        f"SELECT id FROM cases WHERE author_id = ? AND {NOT_RESOLVED} "
        f"ORDER BY (status = '{CaseStatus.IN_DM}' OR dm_event_id IS NOT NULL) DESC, id DESC LIMIT 1",
        [customer],
    ).fetchone()
    return row[0] if row else None


def _recently_resolved_case_of(db: Database, customer: str, written_at: str) -> int | None:
    since = to_iso(from_iso(written_at) - REOPEN_WITHIN)
    row = db.execute(
        f"SELECT id FROM cases WHERE author_id = ? AND status = '{CaseStatus.RESOLVED}' AND resolved_at >= ? "
        "ORDER BY resolved_at DESC, id DESC LIMIT 1",
        [customer, since],
    ).fetchone()
    return row[0] if row else None


def _row(dm: DirectMessage, customer: str | None, direction: str) -> dict:
    return {
        "id": dm.id,
        "conversation_id": dm.conversation_id,
        "sender_id": dm.sender_id,
        "customer_id": customer,
        "direction": direction,
        "text": storable(dm.text),
        "created_at": dm.created_at,
        "sender_handle": storable(dm.sender_handle),
        "sender_name": storable(dm.sender_name),
        "sender_followers": dm.sender_followers,
        "sender_verified": dm.sender_verified,
        "referenced_tweet_ids": json.dumps(list(dm.referenced_tweet_ids)),
        "media_count": dm.media_count,
        "raw": storable(json.dumps(dm.raw, ensure_ascii=False)),
        "stored_at": utc_now(),
    }


def _known(db: Database, ids: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" for _ in chunk)
        known.update(row[0] for row in db.execute(f"SELECT id FROM dm_events WHERE id IN ({marks})", chunk))
    return known


# -- the case's thread ----------------------------------------------------------------------------


def dms_to_post(db: Database, case_id: int | None = None, limit: int = 200) -> list[DMToPost]:
    """Customers' DMs whose case has a card but which are not in its thread yet, oldest first."""
    where = "AND c.id = ?" if case_id is not None else ""
    return rows_as(
        DMToPost,
        db.execute(
            "SELECT d.id AS dm_event_id, d.case_id, d.text, d.sender_handle, d.sender_name, d.created_at, "
            "d.conversation_id, d.referenced_tweet_ids, d.media_count, d.post_attempted_at, c.slack_channel, "
            "c.slack_ts AS thread_ts, CASE WHEN c.dm_event_id = d.id THEN 1 ELSE 0 END AS opened_case, "
            f"(SELECT json_extract(e.detail, '$.{REOPENED_HOLDER}') FROM events e WHERE e.case_id = c.id "
            f"AND e.kind = '{EventKind.REOPENED}' "
            " AND json_extract(e.detail, '$.dm_event_id') = d.id) AS reopened_for, "
            "s.score AS csat_score, s.comment AS csat_comment "
            "FROM dm_events d JOIN cases c ON c.id = d.case_id LEFT JOIN csat_surveys s ON s.answer_dm_id = d.id "
            f"WHERE d.direction = 'in' AND d.slack_ts IS NULL AND c.slack_ts IS NOT NULL {where} "
            "ORDER BY d.created_at, d.id LIMIT ?",
            ([case_id] if case_id is not None else []) + [limit],
        ),
    )


def mark_dm_attempt(db: Database, dm_event_id: str) -> None:
    db.execute(
        "UPDATE dm_events SET post_attempted_at = COALESCE(post_attempted_at, ?) WHERE id = ?",
        [utc_now(), dm_event_id],
    )


def record_dm_posted(db: Database, dm_event_id: str, ts: str) -> None:
    db.execute("UPDATE dm_events SET slack_ts = ? WHERE id = ? AND slack_ts IS NULL", [ts, dm_event_id])


def dm_conversation(db: Database, case_id: int) -> list[dict]:
    """The case's DM conversation, oldest first: the customer's DMs and what the brand sent by DM."""
    return list(
        db.query(
            "SELECT created_at AS at, 'in' AS direction, text, sender_handle AS who FROM dm_events "
            "WHERE case_id = ? AND direction = 'in' "
            "UNION ALL SELECT sent_at AS at, 'out' AS direction, text, COALESCE(sent_by_name, '') AS who "
            "FROM replies WHERE case_id = ? AND kind = 'dm' AND status = 'sent' ORDER BY at",
            [case_id, case_id],
        )
    )
