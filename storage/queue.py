"""The queue as agents see it: their own open cases, and what nobody has claimed yet."""

from __future__ import annotations

from dataclasses import dataclass

from storage.cases import CARD_COLUMNS, CARD_FROM, CardData
from storage.db import rows_as
from storage.engine import Database
from storage.lifecycle import NOT_RESOLVED


def open_cases_of(db: Database, user: str, limit: int = 15) -> list[CardData]:
    """The agent's open cases, oldest tweet first (their App Home)."""
    return rows_as(
        CardData,
        db.execute(
            f"SELECT {CARD_COLUMNS} {CARD_FROM} WHERE c.assignee = ? AND c.{NOT_RESOLVED} "
            "ORDER BY c.tweet_created_at LIMIT ?",
            [user, limit],
        ),
    )


@dataclass(frozen=True)
class Queues:
    """Which queues someone may work: the default one (no team), and the teams' queues they are in."""

    default: bool
    teams: tuple[str, ...] = ()

    def sql(self, alias: str = "") -> tuple[str, list[str]]:
        """` AND (…)` narrowing cases to these queues, and its parameters."""
        column = f"{alias}queue_team"
        parts = [f"{column} IS NULL"] if self.default else []
        if self.teams:
            parts.append(f"{column} IN ({','.join('?' for _ in self.teams)})")
        return f" AND ({' OR '.join(parts) or '0 = 1'})", list(self.teams)


def queue_stats(db: Database, queues: Queues | None = None) -> tuple[int, str | None]:
    """How many open cases nobody has claimed, and when the oldest one's tweet was sent (in `queues`;
    None: every queue)."""
    narrow, params = queues.sql() if queues else ("", [])
    count, oldest = db.execute(
        f"SELECT COUNT(*), MIN(tweet_created_at) FROM cases WHERE assignee IS NULL AND {NOT_RESOLVED}{narrow}", params
    ).fetchone()
    return count, oldest


def unclaimed_queue(db: Database, limit: int = 10, queues: Queues | None = None) -> list[CardData]:
    """Open cases nobody has claimed (in `queues`; None: every queue): high priority first, then the
    longest waiting."""
    narrow, params = queues.sql("c.") if queues else ("", [])
    return rows_as(
        CardData,
        db.execute(
            f"SELECT {CARD_COLUMNS} {CARD_FROM} WHERE c.assignee IS NULL AND c.{NOT_RESOLVED}{narrow} "
            "ORDER BY c.priority = 'high' DESC, c.tweet_created_at LIMIT ?",
            [*params, limit],
        ),
    )


def queue_teams(db: Database) -> list[str]:
    """The teams whose queues hold open cases (a route named them, now or before)."""
    return [
        row[0]
        for row in db.execute(
            f"SELECT DISTINCT queue_team FROM cases WHERE queue_team IS NOT NULL AND {NOT_RESOLVED} ORDER BY 1"
        )
    ]
