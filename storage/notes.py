"""Perch's own notes in a case's thread (escalation news, reminders), posted once like every thread message."""

from __future__ import annotations

from typing import Any

from storage.db import utc_now
from storage.engine import Database


def add_case_note(db: Database, case_id: int, text: str) -> None:
    db.table("case_notes").insert({"case_id": case_id, "text": text, "created_at": utc_now()})


def case_notes_to_post(db: Database, case_id: int | None = None) -> list[dict[str, Any]]:
    where = "AND n.case_id = ?" if case_id is not None else ""
    return list(
        db.query(
            "SELECT n.id, n.case_id, n.text, n.note_attempted_at, c.slack_channel, c.slack_ts AS thread_ts "
            "FROM case_notes n JOIN cases c ON c.id = n.case_id "
            f"WHERE n.slack_ts IS NULL AND c.slack_ts IS NOT NULL {where} ORDER BY n.id LIMIT 200",
            [case_id] if case_id is not None else [],
        )
    )


def mark_case_note_attempt(db: Database, note_id: int) -> None:
    db.execute(
        "UPDATE case_notes SET note_attempted_at = COALESCE(note_attempted_at, ?) WHERE id = ?", [utc_now(), note_id]
    )


def record_case_note_posted(db: Database, note_id: int, ts: str) -> None:
    db.execute("UPDATE case_notes SET slack_ts = ? WHERE id = ? AND slack_ts IS NULL", [ts, note_id])
