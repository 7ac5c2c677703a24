"""The queue as agents see it: their own open cases, and what nobody has claimed yet."""

from __future__ import annotations

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


def queue_stats(db: Database) -> tuple[int, str | None]:
    """How many open cases nobody has claimed, and when the oldest one's tweet was sent."""
    count, oldest = db.execute(
        f"SELECT COUNT(*), MIN(tweet_created_at) FROM cases WHERE assignee IS NULL AND {NOT_RESOLVED}"
    ).fetchone()
    return count, oldest


def unclaimed_queue(db: Database, limit: int = 10) -> list[CardData]:
    """Open cases nobody has claimed: high priority first, then the longest waiting."""
    return rows_as(
        CardData,
        db.execute(
            f"SELECT {CARD_COLUMNS} {CARD_FROM} WHERE c.assignee IS NULL AND c.{NOT_RESOLVED} "
            "ORDER BY c.priority = 'high' DESC, c.tweet_created_at LIMIT ?",
            [limit],
        ),
    )
