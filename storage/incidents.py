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

from storage.cases import CARD_COLUMNS, CARD_FROM, PUBLIC_CASE_FROM, CardData
from storage.db import new_id, row_as, rows_as, utc_now, writing
from storage.engine import Database
from storage.lifecycle import NOT_RESOLVED, CaseStatus

CHUNK_SIZE = 30
OTHER = "*"  # the term of the group of a surge's other, unlike, not high-priority tweets
# A version of an incident's (or a chunk's) cases: changes whenever one of them does.
CASES_SIGNATURE = "COALESCE(SUM(card_version), 0) || ':' || COUNT(*)"


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
    queue_channel: str | None = None  # the queue whose surge it groups (None: the default queue)


@dataclass(frozen=True)
class IncidentStats:
    tweets: int
    waiting: int  # unclaimed and unanswered
    first_at: str | None
    last_at: str | None
    samples: list[dict[str, Any]]


@dataclass(frozen=True)
class WindowCase:
    case_id: int
    text: str
    incident_id: int | None
    carded: bool  # has (or may have) its own card
    answered: bool
    priority: str | None = None
    queue_channel: str | None = None  # the queue it was routed to (None: the default queue)


_INCIDENT_COLUMNS = (
    "id, term, label, opened_at, ended_at, slack_channel, slack_ts, post_attempted_at, card_version, "
    "status_text, status_by, status_at, bulk_by, bulk_at, bulk_stopped_by, queue_channel"
)


# -- grouping ------------------------------------------------------------------------------------


def window_cases(db: Database, since: str) -> list[WindowCase]:
    """Cases whose first tweet was sent since `since` and that are routed to their queue, oldest first."""
    rows = db.execute(
        "SELECT c.id, t.text, c.incident_id, c.slack_ts IS NOT NULL OR c.post_attempted_at IS NOT NULL, "
        f"c.first_response_at IS NOT NULL OR c.status = '{CaseStatus.RESOLVED}', c.priority, c.queue_channel "
        f"{PUBLIC_CASE_FROM} WHERE c.tweet_created_at >= ? AND c.routed_at IS NOT NULL "
        "ORDER BY c.tweet_created_at, c.id",
        [since],
    ).fetchall()
    return [WindowCase(row[0], row[1], row[2], bool(row[3]), bool(row[4]), row[5], row[6]) for row in rows]


def baseline_texts(db: Database, since: str, before: str, limit: int = 2000) -> list[str]:
    """First tweets of cases from before the window: what the brand's mentions usually say."""
    return [
        row[0]
        for row in db.execute(
            f"SELECT t.text {PUBLIC_CASE_FROM} WHERE c.tweet_created_at >= ? AND c.tweet_created_at < ? "
            "ORDER BY c.tweet_created_at DESC LIMIT ?",
            [since, before, limit],
        )
    ]


def open_incidents(db: Database) -> list[Incident]:
    return rows_as(
        Incident, db.execute(f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE ended_at IS NULL ORDER BY id")
    )


def get_incident(db: Database, incident_id: int) -> Incident | None:
    return row_as(Incident, db.execute(f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE id = ?", [incident_id]))


def open_incident(db: Database, term: str, label: str, queue_channel: str | None = None) -> int:
    """A new incident in the surge of `queue_channel` (None: the default queue)."""
    row = {"term": term, "label": label, "opened_at": utc_now(), "queue_channel": queue_channel}
    with writing(db):
        return new_id(db.table("incidents").insert(row))


def join_incident(db: Database, incident_id: int, cases: list[WindowCase]) -> int:
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


def touch_incident(db: Database, incident_id: int) -> None:
    db.execute("UPDATE incidents SET card_version = card_version + 1 WHERE id = ?", [incident_id])


def end_incidents(db: Database, queue_channel: str | None = None) -> list[int]:
    """The surge of `queue_channel`'s queue is over: its open incidents end (their cards say so); new
    tweets get their own cards."""
    now = utc_now()
    queue = "queue_channel IS NULL" if queue_channel is None else "queue_channel = ?"
    params = [] if queue_channel is None else [queue_channel]
    with writing(db):
        ended = [row[0] for row in db.execute(f"SELECT id FROM incidents WHERE ended_at IS NULL AND {queue}", params)]
        db.execute(
            f"UPDATE incidents SET ended_at = ?, card_version = card_version + 1 WHERE ended_at IS NULL AND {queue}",
            [now, *params],
        )
    return ended


_LOUDNESS = "(CASE WHEN c.priority = 'high' THEN 1e12 ELSE 0 END + COALESCE(t.author_followers, 0))"


def incident_stats(db: Database, incident_id: int, samples: int = 3) -> IncidentStats:
    tweets, waiting, first_at, last_at = db.execute(
        f"SELECT COUNT(*), SUM(assignee IS NULL AND first_response_at IS NULL AND {NOT_RESOLVED}), "
        "MIN(tweet_created_at), MAX(tweet_created_at) FROM cases WHERE incident_id = ?",
        [incident_id],
    ).fetchone()
    rows = list(
        db.query(  # one tweet per customer: the loudest (the first of them on a tie)
            "SELECT text, author_handle, author_name, tweet_id, loudness FROM ("
            " SELECT t.text, t.author_handle, t.author_name, t.id AS tweet_id, "
            f" {_LOUDNESS} AS loudness, "
            f" ROW_NUMBER() OVER (PARTITION BY c.author_id ORDER BY {_LOUDNESS} DESC, c.id) AS n "
            f" {CARD_FROM} WHERE c.incident_id = ?) AS loudest WHERE n = 1 ORDER BY loudness DESC LIMIT ?",
            [incident_id, samples],
        )
    )
    return IncidentStats(tweets, waiting or 0, first_at, last_at, rows)


# -- the incident card -----------------------------------------------------------------------------


def incidents_to_post(db: Database) -> list[Incident]:
    return rows_as(
        Incident, db.execute(f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE slack_ts IS NULL ORDER BY id")
    )


def mark_incident_attempt(db: Database, incident_id: int) -> None:
    db.execute(
        "UPDATE incidents SET post_attempted_at = COALESCE(post_attempted_at, ?) WHERE id = ?", [utc_now(), incident_id]
    )


def record_incident_posted(
    db: Database, incident_id: int, channel: str, ts: str, version: int, signature: str | None
) -> None:
    db.execute(
        "UPDATE incidents SET slack_channel = ?, slack_ts = ?, card_synced = MAX(card_synced, ?), "
        "synced_sig = ? WHERE id = ? AND slack_ts IS NULL",
        [channel, ts, version, signature, incident_id],
    )


def incident_signature(db: Database, incident_id: int) -> str:
    """Changes whenever one of the incident's cases changes (claimed, answered, resolved) or joins."""
    return db.execute(f"SELECT {CASES_SIGNATURE} FROM cases WHERE incident_id = ?", [incident_id]).fetchone()[0]


def stale_incidents(db: Database, recent: str) -> list[int]:
    """Incident cards behind their incident, or behind its cases (for incidents open or ended since `recent`)."""
    return [
        row[0]
        for row in db.execute(
            "SELECT id FROM incidents i WHERE slack_ts IS NOT NULL AND (card_version > card_synced OR "
            f"((ended_at IS NULL OR ended_at >= ?) AND synced_sig IS NOT (SELECT {CASES_SIGNATURE} FROM cases c "
            "WHERE c.incident_id = i.id))) ORDER BY id",
            [recent],
        )
    ]


def mark_incident_synced(db: Database, incident_id: int, version: int, signature: str) -> None:
    db.execute(
        "UPDATE incidents SET card_synced = MAX(card_synced, ?), synced_sig = ? WHERE id = ?",
        [version, signature, incident_id],
    )


def incident_waiting(db: Database, incident_id: int, limit: int = 3) -> list[CardData]:
    """An incident's tweets nobody has taken or answered yet: high priority first, then the longest waiting."""
    return rows_as(
        CardData,
        db.execute(
            f"SELECT {CARD_COLUMNS} {CARD_FROM} WHERE c.incident_id = ? AND c.assignee IS NULL "
            f"AND c.first_response_at IS NULL AND c.{NOT_RESOLVED} "
            "ORDER BY c.priority = 'high' DESC, c.tweet_created_at LIMIT ?",
            [incident_id, limit],
        ),
    )


def incident_summaries(db: Database, limit: int = 5) -> list[tuple[Incident, int]]:
    """Open incidents with how many of their customers are still waiting (App Home)."""
    return [(incident, incident_stats(db, incident.id, samples=0).waiting) for incident in open_incidents(db)[:limit]]


def case_in_incident(db: Database, case_id: int, incident_id: int) -> bool:
    """Whether the surge incident groups this case (its card and thread list only its own)."""
    found = db.execute("SELECT 1 FROM cases WHERE id = ? AND incident_id = ?", [case_id, incident_id]).fetchone()
    return found is not None
