"""Frontline locations (airports, stores): where escalations go and who is pinged there."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from storage.db import utc_now, writing
from storage.engine import Database


@dataclass(frozen=True)
class Location:
    code: str
    name: str
    kind: str
    slack_channel: str
    staff_group: str | None = None
    staff_users: tuple[str, ...] = ()
    lead: str | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
    timezone: str = "UTC"
    city: str = ""


def _from_row(row: dict) -> Location:
    return Location(
        code=row["code"],
        name=row["name"] or row["code"],
        kind=row["kind"] or "airport",
        slack_channel=row["slack_channel"],
        staff_group=row["staff_group"] or None,
        staff_users=tuple(json.loads(row["staff_users"] or "[]")),
        lead=row["lead"] or None,
        aliases=tuple(json.loads(row["aliases"] or "[]")),
        timezone=row["timezone"] or "UTC",
    )


def all_locations(db: Database) -> list[Location]:
    return [_from_row(row) for row in db.query("SELECT * FROM locations ORDER BY code")]


def get_location(db: Database, code: str) -> Location | None:
    rows = list(db.query("SELECT * FROM locations WHERE code = ?", [code.upper()]))
    return _from_row(rows[0]) if rows else None


def save_location(db: Database, location: Location) -> bool:
    """Insert or replace; True when it is new."""
    now = utc_now()
    with writing(db):
        existed = db.execute("SELECT 1 FROM locations WHERE code = ?", [location.code]).fetchone() is not None
        db.table("locations").upsert(
            {
                "code": location.code,
                "name": location.name,
                "kind": location.kind,
                "slack_channel": location.slack_channel,
                "staff_group": location.staff_group,
                "staff_users": json.dumps(list(location.staff_users)),
                "lead": location.lead,
                "aliases": json.dumps(list(location.aliases), ensure_ascii=False),
                "timezone": location.timezone,
                "created_at": now,
                "updated_at": now,
            },
            pk="code",
        )
        if existed:
            db.execute(
                "UPDATE locations SET created_at = (SELECT created_at FROM locations WHERE code = ?) WHERE code = ?",
                [location.code, location.code],
            )
    return not existed


def remove_location(db: Database, code: str) -> bool:
    return bool(db.execute("DELETE FROM locations WHERE code = ?", [code.upper()]).rowcount)


def locations_version(db: Database) -> tuple[int, str]:
    """Changes when any location changes (detection rebuilds its patterns then)."""
    count, latest = db.execute("SELECT COUNT(*), MAX(updated_at) FROM locations").fetchone()
    return count, latest or ""
