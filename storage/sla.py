"""SLA targets per case: which are about to be missed or missed, and which reminders went out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import to_iso, utc_now
from storage.engine import Database
from storage.errors import DUPLICATE
from storage.lifecycle import NOT_RESOLVED

# target → (the instant its clock starts, the instant that stops it)
CLOCKS = {
    "claim": ("posted_at", "claimed_at"),
    "first_response": ("tweet_created_at", "first_response_at"),
    "resolve": ("tweet_created_at", "resolved_at"),
}


@dataclass(frozen=True)
class Due:
    case_id: int
    target: str
    stage: int  # 1: about to be missed (80 % of the target), 2: missed
    started_at: str


def due_reminders(db: Database, now: datetime, minutes: dict[str, float]) -> list[Due]:
    """Open cases whose clock for a target is still running past 80 % (stage 1) or 100 % (stage 2)."""
    due = []
    for target, (start, stop) in CLOCKS.items():
        for stage, share in ((2, 1.0), (1, 0.8)):
            threshold = to_iso(now - timedelta(minutes=minutes[target] * share))
            rows = db.execute(
                f"SELECT c.id, c.{start} FROM cases c WHERE c.{NOT_RESOLVED} AND c.{stop} IS NULL "
                f"AND c.{start} IS NOT NULL AND c.{start} <= ? AND c.slack_ts IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM sla_reminders s WHERE s.case_id = c.id AND s.target = ? AND s.stage >= ?) "
                "ORDER BY c.id LIMIT 200",
                [threshold, target, stage],
            ).fetchall()
            due += [Due(case_id, target, stage, started) for case_id, started in rows]
    # a case past both stages at once gets only the later reminder
    seen: set[tuple[int, str]] = set()
    unique = []
    for item in sorted(due, key=lambda d: -d.stage):
        if (item.case_id, item.target) not in seen:
            seen.add((item.case_id, item.target))
            unique.append(item)
    return unique


def take_reminder(db: Database, due: Due) -> bool:
    """Claim a reminder before posting it: False when it was sent already (e.g. before a restart)."""
    try:
        db.execute(
            "INSERT INTO sla_reminders (case_id, target, stage, sent_at) VALUES (?, ?, ?, ?)",
            [due.case_id, due.target, due.stage, utc_now()],
        )
    except DUPLICATE:
        return False
    return True


def breached_targets(db: Database, case_id: int) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "SELECT target FROM sla_reminders WHERE case_id = ? AND stage = 2 ORDER BY target", [case_id]
        )
    ]
