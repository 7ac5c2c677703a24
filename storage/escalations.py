"""Escalations of a case to a location's staff: requested, acknowledged, resolved, and reminders.

Like cases, each change is one conditional UPDATE (one winner) with an event, and bumps the
escalation message's version so the poster brings the message in the location channel up to date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.cases import change
from storage.db import from_iso, new_id, row_as, rows_as, utc_now, writing
from storage.engine import Database
from storage.lifecycle import EventKind


@dataclass(frozen=True)
class Escalation:
    id: int
    case_id: int
    location: str
    urgency: str
    note: str
    requested_by: str
    requested_by_name: str
    requested_at: str
    slack_channel: str | None
    slack_ts: str | None
    acknowledged_by: str | None
    acknowledged_at: str | None
    resolved_by: str | None
    resolved_at: str | None
    outcome: str | None
    reminders_sent: int
    message_version: int = 0
    message_synced: int = 0


_COLUMNS = (
    "id, case_id, location, urgency, note, requested_by, requested_by_name, requested_at, slack_channel, "
    "slack_ts, acknowledged_by, acknowledged_at, resolved_by, resolved_at, outcome, reminders_sent, "
    "message_version, message_synced"
)


def get_escalation(db: Database, escalation_id: int) -> Escalation | None:
    return row_as(Escalation, db.execute(f"SELECT {_COLUMNS} FROM escalations WHERE id = ?", [escalation_id]))


def latest_escalation(db: Database, case_id: int) -> Escalation | None:
    return row_as(
        Escalation,
        db.execute(
            f"SELECT {_COLUMNS} FROM escalations WHERE case_id = ? AND slack_ts IS NOT NULL ORDER BY id DESC LIMIT 1",
            [case_id],
        ),
    )


def open_escalation(db: Database, case_id: int, location: str) -> Escalation | None:
    return row_as(
        Escalation,
        db.execute(
            f"SELECT {_COLUMNS} FROM escalations WHERE case_id = ? AND location = ? AND resolved_at IS NULL "
            "AND slack_ts IS NOT NULL ORDER BY id DESC LIMIT 1",
            [case_id, location],
        ),
    )


def begin_escalation(
    db: Database, case_id: int, location: str, urgency: str, note: str, *, user: str, user_name: str
) -> int:
    """A new escalation, before its message is posted (the message's buttons carry this id)."""
    with writing(db):
        return new_id(
            db.table("escalations").insert(
                {
                    "case_id": case_id,
                    "location": location,
                    "urgency": urgency,
                    "note": note,
                    "requested_by": user,
                    "requested_by_name": user_name,
                    "requested_at": utc_now(),
                    "reminders_sent": 0,
                    "message_version": 0,
                    "message_synced": 0,
                }
            )
        )


def drop_escalation(db: Database, escalation_id: int) -> None:
    """The message could not be posted: nothing happened."""
    db.execute("DELETE FROM escalations WHERE id = ? AND slack_ts IS NULL", [escalation_id])


def confirm_escalation(db: Database, escalation_id: int, channel: str, ts: str) -> None:
    """The message is in the location's channel: the case is escalated (and claimed by who escalated)."""
    now = utc_now()
    with writing(db):
        db.execute(
            "UPDATE escalations SET slack_channel = ?, slack_ts = ?, requested_at = ? WHERE id = ?",
            [channel, ts, now, escalation_id],
        )
        escalation = get_escalation(db, escalation_id)
        if escalation is None:  # dropped meanwhile: nothing to confirm
            return
        change(
            db,
            escalation.case_id,
            EventKind.ESCALATED,
            escalation.requested_by,
            detail={"escalation_id": escalation_id, "location": escalation.location, "urgency": escalation.urgency},
            at=now,
            location=escalation.location,
            read_back=False,
        )


def acknowledge(db: Database, escalation_id: int, user: str) -> tuple[bool, Escalation | None]:
    """First acknowledgement wins; True when this call recorded it."""
    now = utc_now()
    with writing(db):
        done = db.execute(
            "UPDATE escalations SET acknowledged_by = ?, acknowledged_at = ?, "
            "message_version = message_version + 1 WHERE id = ? AND acknowledged_at IS NULL "
            "AND resolved_at IS NULL",
            [user, now, escalation_id],
        ).rowcount
        escalation = get_escalation(db, escalation_id)
        if done and escalation is not None:
            _case_changed(db, escalation, EventKind.ESCALATION_ACKNOWLEDGED, user, {}, now)
    return bool(done), escalation


def resolve_escalation(db: Database, escalation_id: int, user: str, outcome: str) -> tuple[bool, Escalation | None]:
    now = utc_now()
    with writing(db):
        done = db.execute(
            "UPDATE escalations SET resolved_by = ?, resolved_at = ?, outcome = ?, "
            "acknowledged_by = COALESCE(acknowledged_by, ?), "
            "acknowledged_at = COALESCE(acknowledged_at, ?), "
            "message_version = message_version + 1 WHERE id = ? AND resolved_at IS NULL",
            [user, now, outcome, user, now, escalation_id],
        ).rowcount
        escalation = get_escalation(db, escalation_id)
        if done and escalation is not None:
            _case_changed(db, escalation, EventKind.ESCALATION_RESOLVED, user, {"outcome": outcome}, now)
    return bool(done), escalation


def _case_changed(
    db: Database, escalation: Escalation, kind: EventKind, user: str, detail: dict[str, Any], now: str
) -> None:
    detail = {"escalation_id": escalation.id, "location": escalation.location, **detail}
    change(db, escalation.case_id, kind, user, detail=detail, at=now, read_back=False)


def due_for_reminder(db: Database, now: str, minutes: dict[str, float]) -> list[tuple[Escalation, int]]:
    """(escalation, reminder number) for unacknowledged escalations past 1× or 2× their target."""
    due = []
    for escalation in rows_as(
        Escalation,
        db.execute(
            f"SELECT {_COLUMNS} FROM escalations WHERE acknowledged_at IS NULL AND resolved_at IS NULL "
            "AND reminders_sent < 2 AND slack_ts IS NOT NULL"
        ),
    ):
        target = minutes.get(escalation.urgency, minutes["normal"]) * 60
        waited = _seconds_between(escalation.requested_at, now)
        if escalation.reminders_sent == 0 and waited >= target:
            due.append((escalation, 1))
        elif escalation.reminders_sent == 1 and waited >= 2 * target:
            due.append((escalation, 2))
    return due


def take_reminder(db: Database, escalation_id: int, number: int) -> bool:
    """Claim reminder `number` (one process, one winner; never after an acknowledgement)."""
    return bool(
        db.execute(
            "UPDATE escalations SET reminders_sent = ? WHERE id = ? AND reminders_sent = ? "
            "AND acknowledged_at IS NULL AND resolved_at IS NULL",
            [number, escalation_id, number - 1],
        ).rowcount
    )


def give_back_reminder(db: Database, escalation_id: int, number: int) -> None:
    db.execute(
        "UPDATE escalations SET reminders_sent = ? WHERE id = ? AND reminders_sent = ?",
        [number - 1, escalation_id, number],
    )


def stale_escalation_messages(db: Database) -> list[int]:
    return [
        row[0]
        for row in db.execute(
            "SELECT id FROM escalations WHERE message_version > message_synced "
            "AND slack_ts IS NOT NULL ORDER BY id LIMIT 200"
        )
    ]


def mark_message_synced(db: Database, escalation_id: int, version: int) -> None:
    db.execute("UPDATE escalations SET message_synced = MAX(message_synced, ?) WHERE id = ?", [version, escalation_id])


def _seconds_between(start: str, end: str) -> float:
    return (from_iso(end) - from_iso(start)).total_seconds()
