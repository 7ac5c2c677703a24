"""The team's routes (`/perch routes`), in order, and each new case's queue: routed once, kept for life."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.db import rows_as, to_iso, utc_now, writing
from storage.engine import Database

ROUTE_GRACE_SECONDS = 30  # a case its ingest did not route (a crash between) is routed by the post job after this


@dataclass(frozen=True)
class StoredRoute:
    id: int
    position: int
    channel: str
    conditions: str  # JSON: [{"key": …, "values": […]}, …]
    team: str | None

    def condition_list(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(c["key"], tuple(c["values"])) for c in json.loads(self.conditions)]


@dataclass(frozen=True)
class RoutingFacts:
    """What routing reads of a case not routed yet (the rules are in `bot/domain/routing.py`)."""

    case_id: int
    text: str
    source: str | None  # the source whose poll found its post (`search:<query>` for a tracked search)
    raw: str | None  # the post as X served it (JSON), where its `lang` is
    location: str | None  # the suggested location
    priority: str | None
    by_dm: bool

    @property
    def lang(self) -> str | None:
        """X's language of the post. Read here, not in SQL: a post may hold `\\u0000`, which PostgreSQL's
        JSON functions refuse (and one bad post must not stop a batch's routing)."""
        try:
            lang = json.loads(self.raw or "{}").get("lang")
        except (ValueError, AttributeError):
            return None
        return lang if isinstance(lang, str) else None


def list_routes(db: Database) -> list[StoredRoute]:
    return rows_as(
        StoredRoute, db.execute("SELECT id, position, channel, conditions, team FROM routes ORDER BY position")
    )


def add_route(
    db: Database, channel: str, conditions: list[tuple[str, tuple[str, ...]]], team: str | None, by: str
) -> int:
    """Appended last; returns its position (1 = tried first)."""
    encoded = json.dumps([{"key": key, "values": list(values)} for key, values in conditions])
    with writing(db):
        position = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM routes").fetchone()[0]
        db.execute(
            "INSERT INTO routes (position, channel, conditions, team, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [position, channel, encoded, team, by, utc_now()],
        )
    return int(position)


def remove_route(db: Database, position: int) -> StoredRoute | None:
    """Remove the route at `position`; the ones after move up. None when there is none there."""
    with writing(db):
        found = [r for r in list_routes(db) if r.position == position]
        if not found:
            return None
        db.execute("DELETE FROM routes WHERE id = ?", [found[0].id])
        db.execute("UPDATE routes SET position = position - 1 WHERE position > ?", [position])
    return found[0]


def move_route(db: Database, position: int, to: int) -> bool:
    """Move the route at `position` to `to` (the others shift); False when either is out of range."""
    with writing(db):
        order = list_routes(db)
        if not (1 <= position <= len(order) and 1 <= to <= len(order)):
            return False
        moved = order.pop(position - 1)
        order.insert(to - 1, moved)
        for index, route in enumerate(order, start=1):
            db.execute("UPDATE routes SET position = ? WHERE id = ?", [-index, route.id])
        db.execute("UPDATE routes SET position = -position")
    return True


def routing_facts(db: Database, case_ids: list[int]) -> list[RoutingFacts]:
    """The cases among `case_ids` still to route (no queue yet, no card yet)."""
    if not case_ids:
        return []
    marks = ",".join("?" for _ in case_ids)
    return rows_as(
        RoutingFacts,
        db.execute(
            "SELECT c.id AS case_id, COALESCE(t.text, d.text, '') AS text, t.source, "
            "t.raw, c.suggested_location AS location, c.priority, "
            "c.dm_event_id IS NOT NULL AS by_dm "
            "FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id LEFT JOIN dm_events d ON d.id = c.dm_event_id "
            f"WHERE c.id IN ({marks}) AND c.routed_at IS NULL ORDER BY c.id",
            case_ids,
        ),
    )


def unrouted_cases(db: Database, grace_seconds: int = ROUTE_GRACE_SECONDS) -> list[int]:
    """Cases opened over `grace_seconds` ago and never routed (their ingest stopped between storing and
    routing): the post job routes them, so no case waits for a card for ever."""
    cutoff = to_iso(datetime.now(UTC) - timedelta(seconds=grace_seconds))  # the clock `opened_at` was written by
    return [
        row[0]
        for row in db.execute(
            "SELECT id FROM cases WHERE routed_at IS NULL AND opened_at < ? ORDER BY id LIMIT 500", [cutoff]
        )
    ]


def set_queues(db: Database, queues: dict[int, tuple[str | None, str | None, int | None]]) -> None:
    """case id → (channel, team, route id); None throughout: the default queue. Only a case not routed
    yet takes it, so a case keeps its queue for life."""
    now = utc_now()
    with writing(db):
        db.conn.executemany(
            "UPDATE cases SET queue_channel = ?, queue_team = ?, route_id = ?, routed_at = ? "
            "WHERE id = ? AND routed_at IS NULL",
            [(channel, team, route, now, case_id) for case_id, (channel, team, route) in queues.items()],
        )


def routed_since(db: Database, since: str) -> dict[int | None, int]:
    """route id (None: the default queue) → cases routed since `since`."""
    rows = db.execute("SELECT route_id, COUNT(*) FROM cases WHERE routed_at >= ? GROUP BY route_id", [since]).fetchall()
    return {row[0]: row[1] for row in rows}


def queue_team_of(db: Database, case_id: int) -> str | None:
    """The user group that works the case's queue, if its route named one."""
    row = db.execute("SELECT queue_team FROM cases WHERE id = ?", [case_id]).fetchone()
    return row[0] if row else None
