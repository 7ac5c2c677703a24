"""Health alarms: one row while an alarm is up, written before it is posted so it is posted once."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import utc_now
from storage.engine import Database


@dataclass(frozen=True)
class Alarm:
    name: str
    text: str
    raised_at: str
    slack_channel: str | None = None
    slack_ts: str | None = None


def active_alarms(db: Database) -> dict[str, Alarm]:
    return {row["name"]: Alarm(**row) for row in db.query("SELECT * FROM alarms")}


def raise_alarm(db: Database, name: str, text: str) -> None:
    db.table("alarms").insert({"name": name, "text": text, "raised_at": utc_now()}, replace=True)


def record_alarm_posted(db: Database, name: str, channel: str, ts: str) -> None:
    db.execute("UPDATE alarms SET slack_channel = ?, slack_ts = ? WHERE name = ?", [channel, ts, name])


def drop_alarm(db: Database, name: str) -> None:
    db.execute("DELETE FROM alarms WHERE name = ?", [name])


def newest_stored_at(db: Database, source: str) -> str | None:
    """When Perch last stored a tweet from `source` (None: never)."""
    row = db.execute("SELECT MAX(stored_at) FROM tweets WHERE source = ?", [source]).fetchone()
    return row[0] if row else None
