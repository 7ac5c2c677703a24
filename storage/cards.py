"""A case's card in Slack: which cards wait to be posted or redrawn, and the two-phase post.

Posting is two-phase: `mark_post_attempts` is written *before* the Slack call, `record_posted` after.
A case with an attempt but no `slack_ts` may already be in the channel (a crash or a lost response
in between); the poster reconciles those with the channel history before posting again. A card is
behind its case when `card_version` (bumped by every change, `storage.cases.change`) is past
`card_synced`.
"""

from __future__ import annotations

from typing import Any

from storage.cases import CARD_COLUMNS, CARD_FROM, CardData
from storage.db import rows_as, utc_now, writing
from storage.engine import Database
from storage.events import event_row
from storage.lifecycle import EventKind, sql_list


def cases_to_post(db: Database, limit: int = 500) -> list[CardData]:
    """Cases without a card yet, oldest tweet first, once routed to their queue; a case grouped in a
    surge incident only once someone took it (until then its incident's thread lists it)."""
    return rows_as(
        CardData,
        db.execute(
            f"SELECT {CARD_COLUMNS} {CARD_FROM} WHERE c.slack_ts IS NULL AND c.routed_at IS NOT NULL "
            "AND (c.grouped = 0 OR c.assignee IS NOT NULL) "
            "ORDER BY c.tweet_created_at, c.id LIMIT ?",
            [limit],
        ),
    )


def cards_waiting_count(db: Database) -> int:
    """How many cases wait for their first card (what `cases_to_post` would take), counted in SQL."""
    return int(
        db.execute(
            "SELECT COUNT(*) FROM cases WHERE slack_ts IS NULL AND routed_at IS NOT NULL "
            "AND (grouped = 0 OR assignee IS NOT NULL)"
        ).fetchone()[0]
    )


def cards_waiting(db: Database) -> bool:
    """Whether some case waits for its first card (cheap: asked between thread messages)."""
    return (
        db.execute(
            "SELECT 1 FROM cases WHERE slack_ts IS NULL AND post_attempted_at IS NULL AND routed_at IS NOT NULL "
            "AND (grouped = 0 OR assignee IS NOT NULL) LIMIT 1"
        ).fetchone()
        is not None
    )


def stale_cards(db: Database, limit: int = 200) -> list[int]:
    """Cases whose card in Slack is behind their state."""
    return [
        row[0]
        for row in db.execute(
            "SELECT id FROM cases WHERE card_version > card_synced AND slack_ts IS NOT NULL ORDER BY id LIMIT ?",
            [limit],
        )
    ]


def mark_card_synced(db: Database, case_id: int, version: int) -> None:
    db.execute("UPDATE cases SET card_synced = MAX(card_synced, ?) WHERE id = ?", [version, case_id])


def mark_post_attempts(db: Database, case_ids: list[int]) -> None:
    """Write down, before calling Slack, that these cards may be in the channel from now on."""
    now = utc_now()
    with writing(db):
        db.conn.executemany(
            "UPDATE cases SET post_attempted_at = COALESCE(post_attempted_at, ?) WHERE id = ?",
            [(now, case_id) for case_id in case_ids],
        )


def record_posted(db: Database, posts: list[tuple[int, str, str]], *, reconciled: bool = False) -> list[int]:
    """Remember each card's channel and ts, `(case_id, channel, ts)`, with a `posted` event.

    Returns the cases that were recorded now; a case that already had a card is left as it was.
    A card posted from a state older than the case's (an agent acted meanwhile) is marked stale.
    """
    now = utc_now()
    recorded = []
    with writing(db):
        for case_id, channel, ts in posts:
            changed = db.execute(
                "UPDATE cases SET slack_channel = ?, slack_ts = ?, posted_at = ?, updated_at = ? "
                "WHERE id = ? AND slack_ts IS NULL",
                [channel, ts, now, now, case_id],
            ).rowcount
            if changed:
                recorded.append(case_id)
        fresh = set(recorded)
        db.table("events").insert_all(
            event_row(case_id, EventKind.POSTED, "bot", {"channel": channel, "ts": ts, "reconciled": reconciled}, now)
            for case_id, channel, ts in posts
            if case_id in fresh
        )
    return recorded


_NOT_STEPS = sql_list([EventKind.POSTED, EventKind.FOLLOW_UP, EventKind.DM_RECEIVED])


def last_event(db: Database, case_id: int) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT kind, actor, at, detail FROM events WHERE case_id = ? AND kind NOT IN "
            f"{_NOT_STEPS} ORDER BY id DESC LIMIT 1",
            [case_id],
        )
    )
    return rows[0] if rows else None
