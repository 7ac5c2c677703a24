"""Reading and updating cases for the Slack side: what still needs a card, and what Slack now holds.

Posting is two-phase: `mark_post_attempt` is written *before* the Slack call, `record_posted` after.
A case with an attempt but no `slack_ts` may already be in the channel (a crash or a lost response
in between); the poster reconciles those with the channel history before posting again.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from storage.db import utc_now
from storage.events import event_row


@dataclass(frozen=True)
class CardData:
    """Everything a card shows, joined from `cases` and its first tweet."""

    case_id: int
    status: str
    tweet_id: str
    text: str
    author_handle: str
    author_name: str
    author_followers: int | None
    created_at: str
    post_attempted_at: str | None
    slack_channel: str | None = None
    slack_ts: str | None = None


@dataclass(frozen=True)
class FollowUp:
    """A customer's later tweet that belongs in its case's thread."""

    tweet_id: str
    case_id: int
    text: str
    author_handle: str
    author_name: str
    created_at: str
    post_attempted_at: str | None
    slack_channel: str
    thread_ts: str


_CARD_COLUMNS = """
    c.id AS case_id, c.status, c.tweet_id, t.text, t.author_handle, t.author_name, t.author_followers,
    t.created_at, c.post_attempted_at, c.slack_channel, c.slack_ts
"""


def cases_to_post(db: sqlite_utils.Database, limit: int = 500) -> list[CardData]:
    """Cases without a card yet, oldest tweet first."""
    rows = db.execute(
        f"SELECT {_CARD_COLUMNS} FROM cases c JOIN tweets t ON t.id = c.tweet_id "
        "WHERE c.slack_ts IS NULL ORDER BY c.tweet_created_at, c.id LIMIT ?",
        [limit],
    ).fetchall()
    return [CardData(*row) for row in rows]


def get_card(db: sqlite_utils.Database, case_id: int) -> CardData | None:
    row = db.execute(
        f"SELECT {_CARD_COLUMNS} FROM cases c JOIN tweets t ON t.id = c.tweet_id WHERE c.id = ?", [case_id]
    ).fetchone()
    return CardData(*row) if row else None


def mark_post_attempts(db: sqlite_utils.Database, case_ids: list[int]) -> None:
    """Write down, before calling Slack, that these cards may be in the channel from now on."""
    now = utc_now()
    with db.atomic():
        db.conn.executemany("UPDATE cases SET post_attempted_at = COALESCE(post_attempted_at, ?) WHERE id = ?",
                            [(now, case_id) for case_id in case_ids])


def record_posted(db: sqlite_utils.Database, posts: list[tuple[int, str, str]], *,
                  reconciled: bool = False) -> list[int]:
    """Remember each card's channel and ts, `(case_id, channel, ts)`, with a `posted` event.

    Returns the cases that were recorded now; a case that already had a card is left as it was.
    """
    now = utc_now()
    recorded = []
    with db.atomic():
        for case_id, channel, ts in posts:
            changed = db.execute(
                "UPDATE cases SET slack_channel = ?, slack_ts = ?, posted_at = ?, updated_at = ? "
                "WHERE id = ? AND slack_ts IS NULL",
                [channel, ts, now, now, case_id],
            ).rowcount
            if changed:
                recorded.append(case_id)
        fresh = set(recorded)
        db["events"].insert_all(
            event_row(case_id, "posted", "bot", {"channel": channel, "ts": ts, "reconciled": reconciled}, now)
            for case_id, channel, ts in posts if case_id in fresh
        )
    return recorded


def follow_ups_to_post(db: sqlite_utils.Database, limit: int = 500) -> list[FollowUp]:
    """Follow-up tweets whose case has a card but which are not in its thread yet, oldest first."""
    rows = db.execute(
        "SELECT t.id, t.case_id, t.text, t.author_handle, t.author_name, t.created_at, t.post_attempted_at, "
        "c.slack_channel, c.slack_ts FROM tweets t JOIN cases c ON c.id = t.case_id "
        "WHERE t.id != c.tweet_id AND t.slack_ts IS NULL AND c.slack_ts IS NOT NULL "
        "ORDER BY t.created_at, t.id LIMIT ?",
        [limit],
    ).fetchall()
    return [FollowUp(*row) for row in rows]


def mark_follow_up_attempt(db: sqlite_utils.Database, tweet_id: str) -> None:
    db.execute("UPDATE tweets SET post_attempted_at = COALESCE(post_attempted_at, ?) WHERE id = ?",
               [utc_now(), tweet_id])


def record_follow_up_posted(db: sqlite_utils.Database, tweet_id: str, ts: str) -> None:
    db.execute("UPDATE tweets SET slack_ts = ? WHERE id = ? AND slack_ts IS NULL", [ts, tweet_id])
