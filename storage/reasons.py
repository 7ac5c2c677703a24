"""The team's contact reasons (`/perch reasons`), and what each case was suggested and given."""

from __future__ import annotations

from storage.cases import touch_card
from storage.db import utc_now, writing
from storage.engine import Database


def reason_list(db: Database) -> list[tuple[str, str]]:
    """(name, keywords as written) in the team's order."""
    return [(r[0], r[1]) for r in db.execute("SELECT name, keywords FROM reasons ORDER BY position, id")]


def save_reason(db: Database, name: str, keywords: str, user: str) -> bool:
    """Add a reason, or change the keywords of the one of that name; True when it is new."""
    with writing(db):
        changed = db.execute("UPDATE reasons SET keywords = ? WHERE name = ? COLLATE NOCASE", [keywords, name]).rowcount
        if changed:
            return False
        position = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM reasons").fetchone()[0]
        db.table("reasons").insert(
            {"name": name, "keywords": keywords, "position": position, "created_by": user, "created_at": utc_now()}
        )
    return True


def remove_reason(db: Database, name: str) -> bool:
    with writing(db):
        return bool(db.execute("DELETE FROM reasons WHERE name = ? COLLATE NOCASE", [name]).rowcount)


def set_suggested_reasons(db: Database, suggestions: dict[int, str]) -> None:
    with writing(db):
        db.conn.executemany(
            "UPDATE cases SET suggested_reason = ? WHERE id = ?",
            [(reason, case_id) for case_id, reason in suggestions.items()],
        )
        for case_id in suggestions:
            touch_card(db, case_id)
