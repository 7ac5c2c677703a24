"""A customer's later tweets in a case's thread: which are still to post, and what was posted."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import rows_as, utc_now
from storage.engine import Database
from storage.lifecycle import REOPENED_HOLDER, EventKind


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
    reopened_for: str | None = None  # the assignee to ping when this tweet reopened a resolved case
    slack_ts: str | None = None  # its own message in the thread, once posted
    mended_at: str | None = None  # X served it half-empty and a whole copy came since: redraw it


_SELECT = (
    "SELECT t.id AS tweet_id, t.case_id, t.text, t.author_handle, t.author_name, t.created_at, "
    "t.post_attempted_at, c.slack_channel, c.slack_ts AS thread_ts, "
    f"(SELECT json_extract(e.detail, '$.{REOPENED_HOLDER}') FROM events e WHERE e.case_id = c.id "
    f"AND e.kind = '{EventKind.REOPENED}' "
    " AND json_extract(e.detail, '$.tweet_id') = t.id) AS reopened_for, t.slack_ts, t.mended_at "
    "FROM tweets t JOIN cases c ON c.id = t.case_id "
)


def follow_ups_to_post(db: Database, limit: int = 500, case_id: int | None = None) -> list[FollowUp]:
    """Follow-up tweets whose case has a card but which are not in its thread yet, oldest first."""
    where = "AND c.id = ?" if case_id is not None else ""
    return rows_as(
        FollowUp,
        db.execute(
            _SELECT + f"WHERE t.id != c.tweet_id AND t.slack_ts IS NULL AND c.slack_ts IS NOT NULL {where} "
            "ORDER BY t.created_at, t.id LIMIT ?",
            ([case_id] if case_id is not None else []) + [limit],
        ),
    )


def follow_ups_to_redraw(db: Database, limit: int = 100) -> list[FollowUp]:
    """Follow-ups in a thread whose post was mended since (X first served it without text or author)."""
    return rows_as(
        FollowUp,
        db.execute(
            _SELECT + "WHERE t.mended_at IS NOT NULL AND t.id != c.tweet_id AND t.slack_ts IS NOT NULL "
            "AND c.slack_channel IS NOT NULL ORDER BY t.mended_at LIMIT ?",
            [limit],
        ),
    )


def mark_follow_up_redrawn(db: Database, tweet_id: str, mended_at: str) -> None:
    """Redrawn (or refused: not retried for ever); a later mend sets the mark again."""
    db.execute("UPDATE tweets SET mended_at = NULL WHERE id = ? AND mended_at = ?", [tweet_id, mended_at])


def mark_follow_up_attempt(db: Database, tweet_id: str) -> None:
    db.execute(
        "UPDATE tweets SET post_attempted_at = COALESCE(post_attempted_at, ?) WHERE id = ?", [utc_now(), tweet_id]
    )


def record_follow_up_posted(db: Database, tweet_id: str, ts: str) -> None:
    db.execute("UPDATE tweets SET slack_ts = ? WHERE id = ? AND slack_ts IS NULL", [ts, tweet_id])
