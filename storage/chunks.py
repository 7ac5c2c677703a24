"""The chunks of an incident's thread that list its tweets (CHUNK_SIZE a message): placing cases, posting, redrawing."""

from __future__ import annotations

from typing import Any

from storage.cases import CARD_COLUMNS, CARD_FROM, CardData
from storage.db import rows_as, utc_now, writing
from storage.engine import Database
from storage.events import event_row
from storage.incidents import CASES_SIGNATURE, CHUNK_SIZE
from storage.lifecycle import EventKind


def place_in_chunks(db: Database, incident_id: int, size: int = CHUNK_SIZE) -> None:
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


def chunks_to_post(db: Database) -> list[dict[str, Any]]:
    """Chunks of incidents whose card is in Slack, not yet in its thread, in order."""
    return list(
        db.query(
            "SELECT k.incident_id, k.chunk_no, k.post_attempted_at, i.slack_channel, i.slack_ts AS thread_ts "
            "FROM incident_chunks k JOIN incidents i ON i.id = k.incident_id "
            "WHERE k.slack_ts IS NULL AND i.slack_ts IS NOT NULL ORDER BY k.incident_id, k.chunk_no"
        )
    )


def chunk_cases(db: Database, incident_id: int, chunk_no: int) -> tuple[list[CardData], str]:
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
        f"SELECT {CASES_SIGNATURE} FROM cases WHERE incident_id = ? AND chunk_no = ?", [incident_id, chunk_no]
    ).fetchone()[0]
    return cases, signature


def chunk_follow_ups(db: Database, incident_id: int, chunk_no: int) -> dict[int, tuple[int, str]]:
    """case id → (how many follow-up tweets, the latest one's text), for the cases a chunk lists: a
    grouped case has no card thread for them until someone takes it."""
    return {
        row[0]: (row[1], row[2])
        for row in db.execute(
            "SELECT case_id, follow_ups, text FROM ("
            " SELECT t.case_id, COUNT(*) OVER (PARTITION BY t.case_id) AS follow_ups, t.text, "
            " ROW_NUMBER() OVER (PARTITION BY t.case_id ORDER BY t.created_at DESC, t.id DESC) AS n "
            " FROM tweets t JOIN cases c ON c.id = t.case_id "
            " WHERE c.incident_id = ? AND c.chunk_no = ? AND t.id != c.tweet_id) AS latest WHERE n = 1",
            [incident_id, chunk_no],
        )
    }


def mark_chunk_attempt(db: Database, incident_id: int, chunk_no: int) -> None:
    db.execute(
        "UPDATE incident_chunks SET post_attempted_at = COALESCE(post_attempted_at, ?) "
        "WHERE incident_id = ? AND chunk_no = ?",
        [utc_now(), incident_id, chunk_no],
    )


def record_chunk_posted(db: Database, incident_id: int, chunk_no: int, channel: str, ts: str, signature: str) -> None:
    """The chunk is in the thread: its cases are visible in Slack from now."""
    with writing(db):
        if db.execute(
            "UPDATE incident_chunks SET slack_ts = ?, synced = ? WHERE incident_id = ? AND chunk_no = ? "
            "AND slack_ts IS NULL",
            [ts, signature, incident_id, chunk_no],
        ).rowcount:
            record_chunk_shown(db, incident_id, chunk_no, channel, ts)


def record_chunk_shown(db: Database, incident_id: int, chunk_no: int, channel: str, ts: str) -> None:
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
                EventKind.POSTED,
                "bot",
                {"channel": channel, "ts": ts, "incident_id": incident_id, "chunk": chunk_no},
                now,
            )
            for case_id in fresh
        )


def stale_chunks(db: Database, recent: str) -> list[dict[str, Any]]:
    """Posted chunks whose cases changed since they were last rendered (filled up, claimed, answered…),
    in incidents open or ended since `recent`."""
    return list(
        db.query(
            f"SELECT k.incident_id, k.chunk_no, i.slack_channel, k.slack_ts FROM incident_chunks k "
            f"JOIN incidents i ON i.id = k.incident_id WHERE (i.ended_at IS NULL OR i.ended_at >= ?) "
            f"AND k.slack_ts IS NOT NULL AND k.synced IS NOT "
            f"(SELECT {CASES_SIGNATURE} FROM cases c WHERE c.incident_id = k.incident_id AND c.chunk_no = k.chunk_no)",
            [recent],
        )
    )


def mark_chunk_synced(db: Database, incident_id: int, chunk_no: int, signature: str) -> None:
    db.execute(
        "UPDATE incident_chunks SET synced = ? WHERE incident_id = ? AND chunk_no = ?",
        [signature, incident_id, chunk_no],
    )
