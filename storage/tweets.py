"""Writing what the poller found: tweets, the cases they open or join, and the per-source cursors.

Everything one poll stores goes in one transaction together with its cursor, so a crash either keeps
the tweets *and* the cursor or neither; storing the same tweet twice is a no-op.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlite_utils

from storage.db import utc_now
from storage.events import record_event


@dataclass(frozen=True)
class Tweet:
    """A tweet as X sent it, flattened to what Perch keeps (author fields come from `includes.users`)."""

    id: str
    text: str
    author_id: str
    created_at: str
    conversation_id: str | None = None
    author_handle: str = ""
    author_name: str = ""
    author_followers: int | None = None
    in_reply_to_tweet_id: str | None = None
    is_retweet: bool = False
    source: str = "mentions"
    raw: dict = field(default_factory=dict, compare=False)


@dataclass
class StoreResult:
    stored: int = 0
    duplicates: int = 0
    cases_opened: list[int] = field(default_factory=list)
    follow_ups: int = 0


@dataclass(frozen=True)
class Cursor:
    source: str
    newest_id: str
    newest_at: str


def tweet_order(tweet: Tweet) -> tuple[str, int, str]:
    """Oldest first: by time, then by id as a number (X ids grow with time)."""
    return (tweet.created_at, _id_number(tweet.id), tweet.id)


def _id_number(tweet_id: str) -> int:
    return int(tweet_id) if tweet_id.isdigit() else 0


def store_tweets(db: sqlite_utils.Database, tweets: list[Tweet],
                 cursor: Cursor | None = None) -> StoreResult:
    """Store new tweets oldest first, open or join a case for each, then move the cursor forward."""
    result = StoreResult()
    with db.atomic():
        for tweet in sorted(tweets, key=tweet_order):
            if _already_stored(db, tweet.id):
                result.duplicates += 1
                continue
            _store_one(db, tweet, result)
        if cursor is not None:
            advance_cursor(db, cursor)
    return result


def _already_stored(db: sqlite_utils.Database, tweet_id: str) -> bool:
    return db.execute("SELECT 1 FROM tweets WHERE id = ?", [tweet_id]).fetchone() is not None


def _store_one(db: sqlite_utils.Database, tweet: Tweet, result: StoreResult) -> None:
    now = utc_now()
    db["tweets"].insert({
        "id": tweet.id,
        "author_id": tweet.author_id,
        "author_handle": tweet.author_handle,
        "author_name": tweet.author_name,
        "author_followers": tweet.author_followers,
        "text": tweet.text,
        "created_at": tweet.created_at,
        "conversation_id": tweet.conversation_id or tweet.id,
        "in_reply_to_tweet_id": tweet.in_reply_to_tweet_id,
        "source": tweet.source,
        "stored_at": now,
        "raw": json.dumps(tweet.raw, ensure_ascii=False),
    })
    result.stored += 1
    open_case = _open_case_for(db, tweet)
    if open_case is not None:
        db.execute("UPDATE tweets SET case_id = ? WHERE id = ?", [open_case, tweet.id])
        record_event(db, open_case, "follow_up", "bot", {"tweet_id": tweet.id}, at=now)
        result.follow_ups += 1
        return
    case_id = db["cases"].insert({
        "tweet_id": tweet.id,
        "author_id": tweet.author_id,
        "conversation_id": tweet.conversation_id or tweet.id,
        "status": "new",
        "tweet_created_at": tweet.created_at,
        "opened_at": now,
        "updated_at": now,
    }).last_pk
    db.execute("UPDATE tweets SET case_id = ? WHERE id = ?", [case_id, tweet.id])
    record_event(db, case_id, "opened", "bot", {"tweet_id": tweet.id, "source": tweet.source}, at=now)
    result.cases_opened.append(case_id)


def _open_case_for(db: sqlite_utils.Database, tweet: Tweet) -> int | None:
    """The same customer's unresolved case in the same conversation, which a follow-up joins."""
    if not tweet.conversation_id:
        return None
    row = db.execute(
        "SELECT id FROM cases WHERE conversation_id = ? AND author_id = ? AND status != 'resolved' "
        "ORDER BY id DESC LIMIT 1",
        [tweet.conversation_id, tweet.author_id],
    ).fetchone()
    return row[0] if row else None


def get_cursor(db: sqlite_utils.Database, source: str) -> Cursor | None:
    row = db.execute("SELECT source, newest_id, newest_at FROM cursors WHERE source = ?", [source]).fetchone()
    return Cursor(*row) if row else None


def advance_cursor(db: sqlite_utils.Database, cursor: Cursor) -> None:
    """Move a source's cursor forward; never backward (a late, older tweet must not rewind it)."""
    current = get_cursor(db, cursor.source)
    if current is not None and (current.newest_at, _id_number(current.newest_id)) >= (
        cursor.newest_at, _id_number(cursor.newest_id)
    ):
        return
    db["cursors"].upsert({"source": cursor.source, "newest_id": cursor.newest_id,
                          "newest_at": cursor.newest_at, "updated_at": utc_now()}, pk="source")


def known_tweet_ids(db: sqlite_utils.Database, ids: list[str]) -> set[str]:
    """Which of `ids` are stored already (the ingest job counts overlap re-scans with it)."""
    if not ids:
        return set()
    marks = ",".join("?" for _ in ids)
    return {row[0] for row in db.execute(f"SELECT id FROM tweets WHERE id IN ({marks})", ids)}
