"""What triage decided for new cases: the suggested location and the priority with its signals."""

from __future__ import annotations

from storage.cases import touch_card
from storage.db import writing
from storage.engine import Database


def set_suggestions(db: Database, suggestions: dict[int, str]) -> None:
    with writing(db):
        db.conn.executemany(
            "UPDATE cases SET suggested_location = ? WHERE id = ?",
            [(code, case_id) for case_id, code in suggestions.items()],
        )


def set_triage(db: Database, triage: dict[int, tuple[str, str, str | None]]) -> None:
    """case id → (priority, signals as shown on the card, the kinds of personal data its post shows)."""
    with writing(db):
        db.conn.executemany(
            "UPDATE cases SET priority = ?, priority_signals = ?, personal_data = ? WHERE id = ?",
            [(priority, signals, personal, case_id) for case_id, (priority, signals, personal) in triage.items()],
        )


CaseText = tuple[str, int | None, bool, bool]


def case_texts(db: Database, case_ids: list[int]) -> dict[int, CaseText]:
    """case id → (the text of its first tweet or DM, the author's follower count, whether X verified them,
    whether the text is public: a tweet, not a DM)."""
    found: dict[int, CaseText] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        marks = ",".join("?" for _ in chunk)
        rows = db.execute(
            "SELECT c.id, COALESCE(t.text, d.text), COALESCE(t.author_followers, d.sender_followers), "
            "COALESCE(t.author_verified, d.sender_verified), t.id IS NOT NULL "
            "FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id "
            f"LEFT JOIN dm_events d ON d.id = c.dm_event_id WHERE c.id IN ({marks})",
            chunk,
        ).fetchall()
        found.update(
            (case_id, (text, followers, bool(verified), bool(public)))
            for case_id, text, followers, verified, public in rows
        )
    return found


def flag_personal_data(db: Database, flags: dict[int, list[str]]) -> None:
    """A customer's later public post showed personal data: the case says so too (kinds added to what
    it shows already) and is high priority."""
    with writing(db):
        for case_id, kinds in flags.items():
            row = db.execute("SELECT personal_data, priority_signals FROM cases WHERE id = ?", [case_id]).fetchone()
            if row is None:
                continue
            known = [k for k in (row[0] or "").split(", ") if k]
            merged = ", ".join(dict.fromkeys(known + kinds))
            signals = row[1] or ""
            if "personal data in public" not in signals:
                signals = " · ".join(s for s in (signals, "personal data in public") if s)
            db.execute(
                "UPDATE cases SET personal_data = ?, priority = 'high', priority_signals = ? WHERE id = ?",
                [merged, signals, case_id],
            )
            touch_card(db, case_id)
