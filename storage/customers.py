"""A customer, known by their X user id (`cases.author_id`): their cases and the team's notes about them.

A changed @handle is the same person, so everything here is read by id; a handle is only how a person
names the customer in `/perch customer @handle` (the newest tweet or DM that used it). Notes belong to
the customer, not to a case: resolving a case keeps them, and they are never sent to X.
Every read is a range of an index from migration 18 (`cases_by_customer`, `customer_notes_by_customer`,
`tweets_by_handle`, `dm_events_by_handle`), so the History modal opens within Slack's 3 seconds on a
database of a million cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import new_id, rows_as, utc_now
from storage.engine import Database

NOTE_MAX = 1000  # characters in one note (the box says so, and the form refuses more)
RETURNING_DAYS = 90  # the card's returning-customer count looks this far back
CSAT_OF_CASE = "(SELECT cs.score FROM csat_surveys cs WHERE cs.case_id = c.id)"  # its survey's answer (storage/csat.py)


@dataclass(frozen=True)
class PastCase:
    """One of the customer's cases, as the History modal lists it."""

    case_id: int
    opened_at: str
    text: str  # what the customer wrote first (a DM-opened case: its first DM)
    by_dm: bool
    handle: str  # the customer's @handle when they wrote it
    status: str
    reason: str | None
    handled_by: str | None  # who had it (or resolved it): a Slack user id
    first_response_at: str | None
    csat_score: int | None  # None until the survey's score is kept in `cases.csat_score`


@dataclass(frozen=True)
class CustomerNote:
    id: int
    text: str
    created_by: str  # the Slack user who wrote it
    created_at: str
    case_id: int | None  # the case whose History it was written from (None: from `/perch customer`)


@dataclass(frozen=True)
class CustomerHistory:
    """What the History modal shows: who, their cases newest first and the notes about them, each cut to
    a page with the total kept (the modal says how many more there are)."""

    author_id: str
    handle: str
    name: str
    cases: list[PastCase]
    case_count: int
    notes: list[CustomerNote]
    note_count: int


def customer_of_case(db: Database, case_id: int) -> str | None:
    """The X user id of the customer whose case this is; None for no such case (or one with no author)."""
    row = db.execute("SELECT author_id FROM cases WHERE id = ?", [case_id]).fetchone()
    return str(row[0]) if row and row[0] else None


def customer_by_handle(db: Database, handle: str) -> str | None:
    """The X user id behind `handle` (no @, any case) as the team last met it: the newest of the
    customer's tweets and DMs that carried it. None when nobody wrote with it."""
    row = db.execute(
        "SELECT author_id FROM ("
        "  SELECT author_id, created_at FROM ("
        "    SELECT author_id, created_at FROM tweets WHERE author_handle = :handle COLLATE NOCASE "
        "    ORDER BY created_at DESC LIMIT 1)"
        "  UNION ALL SELECT author_id, created_at FROM ("
        "    SELECT sender_id AS author_id, created_at FROM dm_events "
        "    WHERE sender_handle = :handle COLLATE NOCASE AND direction = 'in' ORDER BY created_at DESC LIMIT 1)"
        ") WHERE author_id IS NOT NULL AND author_id != '' ORDER BY created_at DESC LIMIT 1",
        {"handle": handle},
    ).fetchone()
    return str(row[0]) if row else None


def customer_history(
    db: Database, author_id: str, *, except_case: int = 0, cases: int = 20, notes: int = 20
) -> CustomerHistory:
    """The customer's other cases (all but `except_case`, the card the History was opened from), newest
    first, and the notes about them, newest first: at most `cases` and `notes` of each, with the totals."""
    handle, name = _latest_names(db, author_id)
    listed = rows_as(
        PastCase,
        db.execute(
            "SELECT c.id AS case_id, c.tweet_created_at AS opened_at, COALESCE(t.text, d.text, '') AS text, "
            "c.dm_event_id IS NOT NULL AS by_dm, COALESCE(t.author_handle, d.sender_handle, '') AS handle, "
            "c.status, c.reason, COALESCE(c.assignee, c.resolved_by) AS handled_by, c.first_response_at, "
            f"{CSAT_OF_CASE} AS csat_score "
            "FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id LEFT JOIN dm_events d ON d.id = c.dm_event_id "
            "WHERE c.author_id = ? AND c.id != ? ORDER BY c.tweet_created_at DESC, c.id DESC LIMIT ?",
            [author_id, except_case, cases],
        ),
    )
    case_count = db.execute(
        "SELECT COUNT(*) FROM cases WHERE author_id = ? AND id != ?", [author_id, except_case]
    ).fetchone()[0]
    kept = rows_as(
        CustomerNote,
        db.execute(
            "SELECT id, text, created_by, created_at, case_id FROM customer_notes WHERE author_id = ? "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            [author_id, notes],
        ),
    )
    note_count = db.execute("SELECT COUNT(*) FROM customer_notes WHERE author_id = ?", [author_id]).fetchone()[0]
    return CustomerHistory(author_id, handle, name, listed, int(case_count), kept, int(note_count))


def add_note(db: Database, author_id: str, text: str, created_by: str, case_id: int | None = None) -> int:
    """Keep a note about the customer (checked and cut to `NOTE_MAX` by the form before it gets here)."""
    table = db.table("customer_notes")
    table.insert(
        {
            "author_id": author_id,
            "text": text[:NOTE_MAX],
            "created_by": created_by,
            "created_at": utc_now(),
            "case_id": case_id or None,
        }
    )
    return new_id(table)


def _latest_names(db: Database, author_id: str) -> tuple[str, str]:
    """The customer's @handle and display name as their newest case shows them ("" when unknown)."""
    row = db.execute(
        "SELECT COALESCE(t.author_handle, d.sender_handle, ''), COALESCE(t.author_name, d.sender_name, '') "
        "FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id LEFT JOIN dm_events d ON d.id = c.dm_event_id "
        "WHERE c.author_id = ? ORDER BY c.tweet_created_at DESC, c.id DESC LIMIT 1",
        [author_id],
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else ("", "")
