"""Incidents: surges of alike tweets grouped under one card, with their thread chunks and bulk replies.

A case that joins an incident before it has a card is `grouped`: instead of its own card it is listed
in a *chunk*, one thread message of the incident holding up to `CHUNK_SIZE` cases. A grouped case
gets its own card again as soon as someone takes it (it has an assignee). Chunks are posted two-phase,
like cards, and re-rendered when a member case changes: `synced` holds the members' version signature
last shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from storage.cases import CARD_COLUMNS, CARD_FROM, CardData
from storage.db import new_id, row_as, rows_as, utc_now, writing
from storage.events import event_row

CHUNK_SIZE = 30
OTHER = "*"  # the term of the group of a surge's other, unlike, not high-priority tweets
_SIGNATURE = "COALESCE(SUM(card_version), 0) || ':' || COUNT(*)"


@dataclass(frozen=True)
class Incident:
    id: int
    term: str
    label: str
    opened_at: str
    ended_at: str | None
    slack_channel: str | None
    slack_ts: str | None
    post_attempted_at: str | None
    card_version: int
    status_text: str | None
    status_by: str | None
    status_at: str | None
    bulk_by: str | None
    bulk_at: str | None
    bulk_stopped_by: str | None


@dataclass(frozen=True)
class IncidentStats:
    tweets: int
    waiting: int  # unclaimed and unanswered
    first_at: str | None
    last_at: str | None
    samples: list[dict[str, Any]]


@dataclass(frozen=True)
class BulkProgress:
    total: int
    sent: int
    failed: int
    pending: int


@dataclass(frozen=True)
class WindowCase:
    case_id: int
    text: str
    incident_id: int | None
    carded: bool  # has (or may have) its own card
    answered: bool
    priority: str | None = None


_INCIDENT_COLUMNS = (
    "id, term, label, opened_at, ended_at, slack_channel, slack_ts, post_attempted_at, card_version, "
    "status_text, status_by, status_at, bulk_by, bulk_at, bulk_stopped_by"
)


# -- grouping ------------------------------------------------------------------------------------


def window_cases(db: sqlite_utils.Database, since: str) -> list[WindowCase]:
    """Cases whose first tweet was sent since `since`, oldest first."""
    rows = db.execute(
        "SELECT c.id, t.text, c.incident_id, c.slack_ts IS NOT NULL OR c.post_attempted_at IS NOT NULL, "
        "c.first_response_at IS NOT NULL OR c.status = 'resolved', c.priority "
        f"{CARD_FROM} WHERE c.tweet_created_at >= ? ORDER BY c.tweet_created_at, c.id",
        [since],
    ).fetchall()
    return [WindowCase(row[0], row[1], row[2], bool(row[3]), bool(row[4]), row[5]) for row in rows]


def baseline_texts(db: sqlite_utils.Database, since: str, before: str, limit: int = 2000) -> list[str]:
    """First tweets of cases from before the window: what the brand's mentions usually say."""
    return [
        row[0]
        for row in db.execute(
            f"SELECT t.text {CARD_FROM} WHERE c.tweet_created_at >= ? AND c.tweet_created_at < ? "
            "ORDER BY c.tweet_created_at DESC LIMIT ?",
            [since, before, limit],
        )
    ]


def open_incidents(db: sqlite_utils.Database) -> list[Incident]:
    return rows_as(
        Incident, db.execute(f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE ended_at IS NULL ORDER BY id")
    )


def get_incident(db: sqlite_utils.Database, incident_id: int) -> Incident | None:
    return row_as(Incident, db.execute(f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE id = ?", [incident_id]))


def open_incident(db: sqlite_utils.Database, term: str, label: str) -> int:
    with writing(db):
        return new_id(db.table("incidents").insert({"term": term, "label": label, "opened_at": utc_now()}))


def join_incident(db: sqlite_utils.Database, incident_id: int, cases: list[WindowCase]) -> int:
    """Put cases in an incident: those without a card are grouped (listed in its thread instead)."""
    joined = 0
    with writing(db):
        for case in cases:
            joined += db.execute(
                "UPDATE cases SET incident_id = ?, grouped = CASE WHEN slack_ts IS NULL AND post_attempted_at IS NULL "
                "THEN 1 ELSE 0 END WHERE id = ? AND incident_id IS NULL",
                [incident_id, case.case_id],
            ).rowcount
        if joined:
            touch_incident(db, incident_id)
    return joined


def touch_incident(db: sqlite_utils.Database, incident_id: int) -> None:
    db.execute("UPDATE incidents SET card_version = card_version + 1 WHERE id = ?", [incident_id])


def end_incidents(db: sqlite_utils.Database) -> list[int]:
    """The surge is over: open incidents end (their cards say so); new tweets get their own cards."""
    now = utc_now()
    with writing(db):
        ended = [row[0] for row in db.execute("SELECT id FROM incidents WHERE ended_at IS NULL")]
        db.execute("UPDATE incidents SET ended_at = ?, card_version = card_version + 1 WHERE ended_at IS NULL", [now])
    return ended


def incident_stats(db: sqlite_utils.Database, incident_id: int, samples: int = 3) -> IncidentStats:
    tweets, waiting, first_at, last_at = db.execute(
        "SELECT COUNT(*), SUM(assignee IS NULL AND first_response_at IS NULL AND status != 'resolved'), "
        "MIN(tweet_created_at), MAX(tweet_created_at) FROM cases WHERE incident_id = ?",
        [incident_id],
    ).fetchone()
    rows = list(
        db.query(  # one tweet per customer: the loudest (SQLite takes the bare columns from the MAX row)
            "SELECT t.text, t.author_handle, t.author_name, t.id AS tweet_id, "
            "MAX((c.priority = 'high') * 1e12 + COALESCE(t.author_followers, 0)) AS loudness "
            f"{CARD_FROM} WHERE c.incident_id = ? GROUP BY c.author_id ORDER BY loudness DESC LIMIT ?",
            [incident_id, samples],
        )
    )
    return IncidentStats(tweets, waiting or 0, first_at, last_at, rows)


# -- the incident card -----------------------------------------------------------------------------


def incidents_to_post(db: sqlite_utils.Database) -> list[Incident]:
    return rows_as(
        Incident, db.execute(f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE slack_ts IS NULL ORDER BY id")
    )


def mark_incident_attempt(db: sqlite_utils.Database, incident_id: int) -> None:
    db.execute(
        "UPDATE incidents SET post_attempted_at = COALESCE(post_attempted_at, ?) WHERE id = ?", [utc_now(), incident_id]
    )


def record_incident_posted(
    db: sqlite_utils.Database, incident_id: int, channel: str, ts: str, version: int, signature: str | None
) -> None:
    db.execute(
        "UPDATE incidents SET slack_channel = ?, slack_ts = ?, card_synced = MAX(card_synced, ?), "
        "synced_sig = ? WHERE id = ? AND slack_ts IS NULL",
        [channel, ts, version, signature, incident_id],
    )


def incident_signature(db: sqlite_utils.Database, incident_id: int) -> str:
    """Changes whenever one of the incident's cases changes (claimed, answered, resolved) or joins."""
    return db.execute(f"SELECT {_SIGNATURE} FROM cases WHERE incident_id = ?", [incident_id]).fetchone()[0]


def stale_incidents(db: sqlite_utils.Database, recent: str) -> list[int]:
    """Incident cards behind their incident, or behind its cases (for incidents open or ended since `recent`)."""
    return [
        row[0]
        for row in db.execute(
            "SELECT id FROM incidents i WHERE slack_ts IS NOT NULL AND (card_version > card_synced OR "
            f"((ended_at IS NULL OR ended_at >= ?) AND synced_sig IS NOT (SELECT {_SIGNATURE} FROM cases c "
            "WHERE c.incident_id = i.id))) ORDER BY id",
            [recent],
        )
    ]


def mark_incident_synced(db: sqlite_utils.Database, incident_id: int, version: int, signature: str) -> None:
    db.execute(
        "UPDATE incidents SET card_synced = MAX(card_synced, ?), synced_sig = ? WHERE id = ?",
        [version, signature, incident_id],
    )


# -- chunks in the incident's thread -----------------------------------------------------------------


def place_in_chunks(db: sqlite_utils.Database, incident_id: int, size: int = CHUNK_SIZE) -> None:
    """Give grouped cases not yet listed a chunk: fill the last one up, then open new ones."""
    with writing(db):
        waiting = [
            row[0]
            for row in db.execute(
                "SELECT id FROM cases WHERE incident_id = ? AND grouped = 1 AND chunk_no IS NULL "
                "ORDER BY tweet_created_at, id",
                [incident_id],
            )
        ]
        if not waiting:
            return
        last, used = db.execute(
            "SELECT chunk_no, (SELECT COUNT(*) FROM cases c WHERE c.incident_id = k.incident_id "
            "AND c.chunk_no = k.chunk_no) FROM incident_chunks k WHERE incident_id = ? "
            "ORDER BY chunk_no DESC LIMIT 1",
            [incident_id],
        ).fetchone() or (0, size)
        chunk_no, room = (last, size - used) if used < size else (last + 1, size)
        for case_id in waiting:
            if room == 0:
                chunk_no, room = chunk_no + 1, size
            db.table("incident_chunks").insert({"incident_id": incident_id, "chunk_no": chunk_no}, ignore=True)
            db.execute("UPDATE cases SET chunk_no = ? WHERE id = ?", [chunk_no, case_id])
            room -= 1


def chunks_to_post(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Chunks of incidents whose card is in Slack, not yet in its thread, in order."""
    return list(
        db.query(
            "SELECT k.incident_id, k.chunk_no, k.post_attempted_at, i.slack_channel, i.slack_ts AS thread_ts "
            "FROM incident_chunks k JOIN incidents i ON i.id = k.incident_id "
            "WHERE k.slack_ts IS NULL AND i.slack_ts IS NOT NULL ORDER BY k.incident_id, k.chunk_no"
        )
    )


def chunk_cases(db: sqlite_utils.Database, incident_id: int, chunk_no: int) -> tuple[list[CardData], str]:
    """The cases a chunk lists, and their version signature (it changes whenever one of them does,
    a follow-up tweet included)."""
    cases = rows_as(
        CardData,
        db.execute(
            f"SELECT {CARD_COLUMNS} {CARD_FROM} WHERE c.incident_id = ? AND c.chunk_no = ? "
            "ORDER BY c.tweet_created_at, c.id",
            [incident_id, chunk_no],
        ),
    )
    signature = db.execute(
        f"SELECT {_SIGNATURE} FROM cases WHERE incident_id = ? AND chunk_no = ?", [incident_id, chunk_no]
    ).fetchone()[0]
    return cases, signature


def chunk_follow_ups(db: sqlite_utils.Database, incident_id: int, chunk_no: int) -> dict[int, tuple[int, str]]:
    """case id → (how many follow-up tweets, the latest one's text), for the cases a chunk lists: a
    grouped case has no card thread for them until someone takes it."""
    return {
        row[0]: (row[1], row[2])
        for row in db.execute(
            "SELECT t.case_id, COUNT(*), t.text, MAX(t.created_at) FROM tweets t JOIN cases c ON c.id = t.case_id "
            "WHERE c.incident_id = ? AND c.chunk_no = ? AND t.id != c.tweet_id GROUP BY t.case_id",
            [incident_id, chunk_no],
        )
    }


def mark_chunk_attempt(db: sqlite_utils.Database, incident_id: int, chunk_no: int) -> None:
    db.execute(
        "UPDATE incident_chunks SET post_attempted_at = COALESCE(post_attempted_at, ?) "
        "WHERE incident_id = ? AND chunk_no = ?",
        [utc_now(), incident_id, chunk_no],
    )


def record_chunk_posted(
    db: sqlite_utils.Database, incident_id: int, chunk_no: int, channel: str, ts: str, signature: str
) -> None:
    """The chunk is in the thread: its cases are visible in Slack from now."""
    with writing(db):
        if db.execute(
            "UPDATE incident_chunks SET slack_ts = ?, synced = ? WHERE incident_id = ? AND chunk_no = ? "
            "AND slack_ts IS NULL",
            [ts, signature, incident_id, chunk_no],
        ).rowcount:
            record_chunk_shown(db, incident_id, chunk_no, channel, ts)


def record_chunk_shown(db: sqlite_utils.Database, incident_id: int, chunk_no: int, channel: str, ts: str) -> None:
    """Cases a chunk message shows for the first time (posted, or filled up by an edit) get their
    `posted` time and event: the reports' time to card is the time a person could see them."""
    now = utc_now()
    with writing(db):
        fresh = [
            row[0]
            for row in db.execute(
                "SELECT id FROM cases WHERE incident_id = ? AND chunk_no = ? AND posted_at IS NULL",
                [incident_id, chunk_no],
            )
        ]
        db.execute(
            "UPDATE cases SET posted_at = ? WHERE incident_id = ? AND chunk_no = ? AND posted_at IS NULL",
            [now, incident_id, chunk_no],
        )
        db.table("events").insert_all(
            event_row(
                case_id,
                "posted",
                "bot",
                {"channel": channel, "ts": ts, "incident_id": incident_id, "chunk": chunk_no},
                now,
            )
            for case_id in fresh
        )


def stale_chunks(db: sqlite_utils.Database, recent: str) -> list[dict[str, Any]]:
    """Posted chunks whose cases changed since they were last rendered (filled up, claimed, answered…),
    in incidents open or ended since `recent`."""
    return list(
        db.query(
            f"SELECT k.incident_id, k.chunk_no, i.slack_channel, k.slack_ts FROM incident_chunks k "
            f"JOIN incidents i ON i.id = k.incident_id WHERE (i.ended_at IS NULL OR i.ended_at >= ?) "
            f"AND k.slack_ts IS NOT NULL AND k.synced IS NOT "
            f"(SELECT {_SIGNATURE} FROM cases c WHERE c.incident_id = k.incident_id AND c.chunk_no = k.chunk_no)",
            [recent],
        )
    )


def mark_chunk_synced(db: sqlite_utils.Database, incident_id: int, chunk_no: int, signature: str) -> None:
    db.execute(
        "UPDATE incident_chunks SET synced = ? WHERE incident_id = ? AND chunk_no = ?",
        [signature, incident_id, chunk_no],
    )


# -- status update and bulk replies --------------------------------------------------------------


def set_status(db: sqlite_utils.Database, incident_id: int, text: str, user: str, name: str) -> None:
    with writing(db):
        db.execute(
            "UPDATE incidents SET status_text = ?, status_by = ?, status_by_name = ?, status_at = ?, "
            "card_version = card_version + 1 WHERE id = ?",
            [text, user, name, utc_now(), incident_id],
        )


def bulk_candidates(db: sqlite_utils.Database, incident_id: int) -> list[tuple[str, int]]:
    """(customer, case) pairs a bulk reply would go to: one per customer (their latest case), skipping
    customers who already have an answer, a DM hand-off or a resolved case."""
    return [
        (row[0], row[1])
        for row in db.execute(
            "SELECT author_id, MAX(id) FROM cases WHERE incident_id = ? AND author_id NOT IN ("
            "  SELECT author_id FROM cases WHERE incident_id = ? AND (first_response_at IS NOT NULL "
            "  OR status IN ('resolved', 'in_dm'))) GROUP BY author_id ORDER BY MIN(tweet_created_at)",
            [incident_id, incident_id],
        )
    ]


def start_bulk(db: sqlite_utils.Database, incident_id: int, user: str, name: str, status_at: str) -> str:
    """Record a confirmed bulk reply and its recipients. `ok`, `changed` (the status update is not the one
    the agent confirmed), `started` (already confirmed once), `nobody`, `not_alike` (the group of a
    surge's other tweets) or `missing`."""
    now = utc_now()
    with writing(db):
        incident = get_incident(db, incident_id)
        if incident is None or not incident.status_text:
            return "missing"
        if incident.term == OTHER:
            return "not_alike"
        if incident.status_at != status_at:
            return "changed"
        if incident.bulk_at is not None:
            return "started"
        targets = bulk_candidates(db, incident_id)
        if not targets:
            return "nobody"
        db.execute(
            "UPDATE incidents SET bulk_by = ?, bulk_by_name = ?, bulk_at = ?, card_version = card_version + 1 "
            "WHERE id = ?",
            [user, name, now, incident_id],
        )
        db.table("bulk_targets").insert_all(
            {"incident_id": incident_id, "author_id": author, "case_id": case_id, "status": "pending"}
            for author, case_id in targets
        )
    return "ok"


def stop_bulk(db: sqlite_utils.Database, incident_id: int, user: str) -> int:
    """Stop sending: the recipients not reached yet are left out. Returns how many."""
    with writing(db):
        stopped = db.execute(
            "UPDATE bulk_targets SET status = 'stopped' WHERE incident_id = ? AND status = 'pending'", [incident_id]
        ).rowcount
        db.execute(
            "UPDATE incidents SET bulk_stopped_by = COALESCE(bulk_stopped_by, ?), bulk_stopped_at = "
            "COALESCE(bulk_stopped_at, ?), card_version = card_version + 1 WHERE id = ?",
            [user, utc_now(), incident_id],
        )
    return stopped


def next_bulk_target(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """The next recipient still to reach, with the text and who confirmed it."""
    rows = list(
        db.query(
            "SELECT b.incident_id, b.author_id, b.case_id, i.status_text, i.bulk_by, i.bulk_by_name, t.author_handle "
            "FROM bulk_targets b JOIN incidents i ON i.id = b.incident_id JOIN cases c ON c.id = b.case_id "
            "JOIN tweets t ON t.id = c.tweet_id WHERE b.status = 'pending' "
            "ORDER BY b.incident_id, b.rowid LIMIT 1"
        )
    )
    return rows[0] if rows else None


def record_bulk_result(
    db: sqlite_utils.Database, incident_id: int, author_id: str, status: str, error: str | None = None
) -> None:
    with writing(db):
        db.execute(
            "UPDATE bulk_targets SET status = ?, error = ?, sent_at = ? WHERE incident_id = ? AND author_id = ?",
            [status, error, utc_now() if status == "sent" else None, incident_id, author_id],
        )
        touch_incident(db, incident_id)


def bulk_progress(db: sqlite_utils.Database, incident_id: int) -> BulkProgress:
    total, sent, failed, pending = db.execute(
        "SELECT COUNT(*), SUM(status = 'sent'), SUM(status = 'failed'), SUM(status = 'pending') FROM bulk_targets "
        "WHERE incident_id = ?",
        [incident_id],
    ).fetchone()
    return BulkProgress(total, sent or 0, failed or 0, pending or 0)


def incident_waiting(db: sqlite_utils.Database, incident_id: int, limit: int = 3) -> list[CardData]:
    """An incident's tweets nobody has taken or answered yet: high priority first, then the longest waiting."""
    return rows_as(
        CardData,
        db.execute(
            f"SELECT {CARD_COLUMNS} {CARD_FROM} WHERE c.incident_id = ? AND c.assignee IS NULL "
            "AND c.first_response_at IS NULL AND c.status != 'resolved' "
            "ORDER BY c.priority = 'high' DESC, c.tweet_created_at LIMIT ?",
            [incident_id, limit],
        ),
    )


def incident_summaries(db: sqlite_utils.Database, limit: int = 5) -> list[tuple[Incident, int]]:
    """Open incidents with how many of their customers are still waiting (App Home)."""
    return [(incident, incident_stats(db, incident.id, samples=0).waiting) for incident in open_incidents(db)[:limit]]
