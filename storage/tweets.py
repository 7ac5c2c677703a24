"""Writing what the poller found: tweets, the cases they open or join, and the per-source cursors.

Everything one poll stores goes in one transaction together with its cursor, so a crash either keeps
the tweets *and* the cursor or neither; storing the same tweet twice is a no-op.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from storage.cases import change, reopen, touch_card
from storage.db import utc_now, writing
from storage.engine import BAD_ROW, Database
from storage.events import event_row
from storage.lifecycle import CaseStatus, EventKind

log = logging.getLogger(__name__)


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
    author_verified: bool | None = None
    in_reply_to_tweet_id: str | None = None
    is_retweet: bool = False
    source: str = "mentions"
    raw: dict = field(default_factory=dict, compare=False)
    quoted_author_id: str | None = None  # the author of the post this one quotes, if any
    summoned: bool | None = None  # @mentions or quotes the brand (None: not decided)


@dataclass
class StoreResult:
    stored: int = 0
    duplicates: int = 0
    cases_opened: list[int] = field(default_factory=list)
    follow_ups: int = 0
    joined: list[tuple[int, str]] = field(default_factory=list)  # (case id, text) of each follow-up stored
    unstorable: list[str] = field(default_factory=list)  # ids of tweets skipped because they cannot be stored
    mended: list[int] = field(default_factory=list)  # cases whose post was stored half-empty, now whole


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


def store_tweets(db: Database, tweets: list[Tweet], cursor: Cursor | None = None) -> StoreResult:
    """Store new tweets oldest first, open or join a case for each, then move the cursor forward.

    Written in batches (one `insert_all` per table) because a burst can bring thousands at once.
    """
    result = StoreResult()
    with writing(db):
        known = known_tweet_ids(db, [t.id for t in tweets])
        fresh = list({t.id: t for t in sorted(tweets, key=tweet_order) if t.id not in known}.values())
        result.duplicates = len(tweets) - len(fresh)
        if fresh:
            _store_each_that_can_be(db, fresh, result)
        result.mended = _mend(db, [t for t in tweets if t.id in known])
        if cursor is not None:
            advance_cursor(db, cursor)
    return result


def _store_each_that_can_be(db: Database, fresh: list[Tweet], result: StoreResult) -> None:
    """The batch in one go; should it fail, tweet by tweet, so one that cannot be stored is skipped
    (and named in the log) instead of failing the poll and holding the cursor back for ever. A database
    that is busy, full or gone (`storage.errors`) fails the whole poll instead: nothing is skipped for
    it, and the next poll reads the same tweets again."""
    try:
        with db.atomic():
            _store_batch(db, fresh, result)
        return
    except BAD_ROW:
        pass
    for tweet in fresh:
        try:
            with db.atomic():
                _store_batch(db, [tweet], result)
        except BAD_ROW as error:
            log.error(
                "Skipped tweet %s: it cannot be stored (%s: %s)", tweet.id, type(error).__name__, str(error)[:200]
            )
            result.unstorable.append(tweet.id)


def _mend(db: Database, copies: list[Tweet]) -> list[int]:
    """Posts stored half-empty (X served them without text or author) take a whole copy's text and
    author when one comes; returns the cases they opened, whose cards are marked to be drawn again."""
    whole = {t.id: t for t in copies if t.text and t.author_handle}
    mended: list[int] = []
    for chunk in _chunks(list(whole)):
        marks = ",".join("?" for _ in chunk)
        rows = db.query(
            f"SELECT t.id AS tweet_id, c.id AS case_id FROM tweets t LEFT JOIN cases c ON c.tweet_id = t.id "
            f"WHERE t.id IN ({marks}) AND (t.text = '' OR t.author_handle = '')",
            chunk,
        )
        for row in list(rows):
            tweet = whole[row["tweet_id"]]
            db.execute(
                "UPDATE tweets SET text = ?, author_handle = ?, author_name = ?, author_followers = ?, "
                "author_verified = ?, summoned = ?, raw = ?, mended_at = ? WHERE id = ?",
                [
                    *(storable(v) for v in (tweet.text, tweet.author_handle, tweet.author_name)),
                    tweet.author_followers,
                    tweet.author_verified,
                    tweet.summoned,
                    storable(json.dumps(tweet.raw, ensure_ascii=False)),
                    utc_now(),
                    tweet.id,
                ],
            )
            if row["case_id"] is not None:
                touch_card(db, row["case_id"])
                mended.append(row["case_id"])
    return mended


def _store_batch(db: Database, fresh: list[Tweet], result: StoreResult) -> None:
    now = utc_now()
    db.table("tweets").insert_all(_tweet_row(t, now) for t in fresh)
    latest = _latest_cases_for(db, fresh)
    openers, joiners = [], []
    for tweet in fresh:
        key = (tweet.conversation_id or tweet.id, tweet.author_id)
        if key in latest:
            joiners.append((tweet, key))
        else:
            latest[key] = (0, CaseStatus.NEW)  # opened by this tweet; its id is known after the insert
            openers.append(tweet)
    db.table("cases").insert_all(
        {
            "tweet_id": t.id,
            "author_id": t.author_id,
            "conversation_id": t.conversation_id or t.id,
            "status": CaseStatus.NEW,
            "tweet_created_at": t.created_at,
            "opened_at": now,
            "updated_at": now,
        }
        for t in openers
    )
    case_of = _case_ids_by_tweet(db, [t.id for t in openers])
    for tweet in openers:
        latest[(tweet.conversation_id or tweet.id, tweet.author_id)] = (case_of[tweet.id], CaseStatus.NEW)
    assignments = [(case_of[t.id], t.id) for t in openers] + [(latest[key][0], t.id) for t, key in joiners]
    db.conn.executemany("UPDATE tweets SET case_id = ? WHERE id = ?", assignments)
    db.table("events").insert_all(
        event_row(case_of[t.id], EventKind.OPENED, "bot", {"tweet_id": t.id, "source": t.source}, now) for t in openers
    )
    for tweet, key in joiners:
        case_id, status = latest[key]
        change(db, case_id, EventKind.FOLLOW_UP, "bot", detail={"tweet_id": tweet.id}, at=now, read_back=False)
        if status == CaseStatus.RESOLVED:  # the customer wrote again: back to work, and the last assignee is told
            reopen(db, case_id, "bot", {"tweet_id": tweet.id})
            latest[key] = (case_id, "reopened")
    result.stored += len(fresh)
    result.cases_opened += [case_of[t.id] for t in openers]
    result.follow_ups += len(joiners)
    result.joined += [(latest[key][0], t.text) for t, key in joiners]


def _tweet_row(tweet: Tweet, now: str) -> dict:
    return {
        "id": tweet.id,
        "author_id": tweet.author_id,
        "author_handle": storable(tweet.author_handle),
        "author_name": storable(tweet.author_name),
        "author_followers": tweet.author_followers,
        "author_verified": tweet.author_verified,
        "text": storable(tweet.text),
        "created_at": tweet.created_at,
        "conversation_id": tweet.conversation_id or tweet.id,
        "in_reply_to_tweet_id": tweet.in_reply_to_tweet_id,
        "source": tweet.source,
        "stored_at": now,
        "raw": storable(json.dumps(tweet.raw, ensure_ascii=False)),
        "summoned": tweet.summoned,
    }


def storable(text: str) -> str:
    """Text SQLite can keep as UTF-8: a lone surrogate (valid in JSON as `\\ud800`, not in UTF-8)
    becomes U+FFFD; everything else is kept as it is."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _latest_cases_for(db: Database, tweets: list[Tweet]) -> dict[tuple[str, str], tuple[int, str]]:
    """(conversation, author) → (id, status) of that customer's latest case there, which a new tweet joins."""
    conversations = sorted({t.conversation_id or t.id for t in tweets})
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for chunk in _chunks(conversations):
        marks = ",".join("?" for _ in chunk)
        for case_id, conversation_id, author_id, status in db.execute(
            f"SELECT id, conversation_id, author_id, status FROM cases WHERE conversation_id IN ({marks}) ORDER BY id",
            chunk,
        ):
            found[(conversation_id, author_id)] = (case_id, status)
    return found


def _case_ids_by_tweet(db: Database, tweet_ids: list[str]) -> dict[str, int]:
    found = {}
    for chunk in _chunks(tweet_ids):
        marks = ",".join("?" for _ in chunk)
        found.update(
            {
                tweet_id: case_id
                for case_id, tweet_id in db.execute(
                    f"SELECT id, tweet_id FROM cases WHERE tweet_id IN ({marks})", chunk
                )
            }
        )
    return found


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def get_cursor(db: Database, source: str) -> Cursor | None:
    rows = list(db.query("SELECT source, newest_id, newest_at FROM cursors WHERE source = ?", [source]))
    return Cursor(**rows[0]) if rows else None


def all_cursors(db: Database) -> dict[str, Cursor]:
    """Every source's cursor, by source."""
    return {row["source"]: Cursor(**row) for row in db.query("SELECT source, newest_id, newest_at FROM cursors")}


def advance_cursor(db: Database, cursor: Cursor) -> None:
    """Move a source's cursor forward; never backward (a late, older tweet must not rewind it)."""
    current = get_cursor(db, cursor.source)
    if current is not None and (current.newest_at, _id_number(current.newest_id)) >= (
        cursor.newest_at,
        _id_number(cursor.newest_id),
    ):
        return
    db.table("cursors").upsert(
        {
            "source": cursor.source,
            "newest_id": cursor.newest_id,
            "newest_at": cursor.newest_at,
            "updated_at": utc_now(),
        },
        pk="source",
    )


def known_tweet_ids(db: Database, ids: list[str]) -> set[str]:
    """Which of `ids` are stored already."""
    known: set[str] = set()
    for chunk in _chunks(list(dict.fromkeys(ids))):
        marks = ",".join("?" for _ in chunk)
        known.update(row[0] for row in db.execute(f"SELECT id FROM tweets WHERE id IN ({marks})", chunk))
    return known
