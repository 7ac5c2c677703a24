"""The modals Perch opened and what each is about: a submission is checked against its opening."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import to_iso, writing
from storage.engine import Database

KEPT_FOR = timedelta(days=2)  # Slack closes a modal long before; older openings are forgotten


def bind_view(db: Database, external_id: str, subject: str, at: datetime) -> None:
    """Remember that Perch opened `external_id` about `subject` (an update in place keeps the id, so this
    is written again only when a modal is opened); openings older than `KEPT_FOR` are dropped."""
    with writing(db):  # a write like any other: waits for (or is refused by) another writer's lock
        db.execute(
            "INSERT INTO opened_views (external_id, subject, opened_at) VALUES (?, ?, ?) "
            "ON CONFLICT (external_id) DO UPDATE SET subject = excluded.subject, opened_at = excluded.opened_at",
            [external_id, subject, to_iso(at)],
        )
        db.execute("DELETE FROM opened_views WHERE opened_at < ?", [to_iso(at - KEPT_FOR)])


def bound_subject(db: Database, external_id: str) -> str | None:
    """What the modal `external_id` was opened about; None when Perch did not open it (or forgot it)."""
    row = db.execute("SELECT subject FROM opened_views WHERE external_id = ?", [external_id]).fetchone()
    return None if row is None else str(row[0])
