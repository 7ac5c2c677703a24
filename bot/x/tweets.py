"""X API v2 JSON to Perch's Tweet: one page at a time, a malformed entry skipped (and logged), never fatal."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from storage.db import from_iso, to_iso
from storage.tweets import Tweet

log = logging.getLogger(__name__)


def parse_tweets(body: dict[str, Any], source: str) -> list[Tweet]:
    """Turn one page of X API v2 JSON into `Tweet`s, skipping (and logging) any malformed entry."""
    data = body.get("data") or []
    if not isinstance(data, list):
        log.warning("X sent a page whose data is not a list; ignored")
        return []
    includes = body.get("includes") or {}
    users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
    authors = {str(t.get("id")): str(t.get("author_id")) for t in includes.get("tweets") or [] if isinstance(t, dict)}
    tweets = []
    for item in data:
        tweet = _parse_tweet(item, users, source, authors)
        if tweet is None:
            log.warning("Skipped a malformed tweet in an X response")
            continue
        tweets.append(tweet)
    return tweets


def half_empty(tweet: Tweet) -> bool:
    """X served the post without its text (`text: null`) or without its author (`includes` left out):
    a card drawn from it would say "_(no text)_" or "Unknown author" for good."""
    return not tweet.text or not tweet.author_handle


def _parse_tweet(item: Any, users: dict[str, dict], source: str, authors: dict[str, str]) -> Tweet | None:
    if not isinstance(item, dict):
        return None
    tweet_id, author_id = str(item.get("id", "")), str(item.get("author_id", ""))
    if not tweet_id.isdigit() or not author_id:
        return None
    references = [r for r in item.get("referenced_tweets") or [] if isinstance(r, dict)]
    replied_to = next((str(r.get("id")) for r in references if r.get("type") == "replied_to"), None)
    quoted = next((str(r.get("id")) for r in references if r.get("type") == "quoted"), None)
    user = users.get(author_id, {})
    raw_metrics = user.get("public_metrics")
    metrics: dict[str, Any] = raw_metrics if isinstance(raw_metrics, dict) else {}
    followers = metrics.get("followers_count")
    verified = user.get("verified")
    raw_note = item.get("note_tweet")
    note: dict[str, Any] = raw_note if isinstance(raw_note, dict) else {}
    text = note.get("text") if isinstance(note.get("text"), str) else item.get("text")
    return Tweet(
        id=tweet_id,
        text=text if isinstance(text, str) else "",
        author_id=author_id,
        created_at=normalise_time(item.get("created_at")),
        conversation_id=str(item.get("conversation_id") or tweet_id),
        author_handle=str(user.get("username") or ""),
        author_name=str(user.get("name") or ""),
        author_followers=followers if isinstance(followers, int) else None,
        author_verified=verified if isinstance(verified, bool) else None,
        in_reply_to_tweet_id=replied_to,
        is_retweet=any(r.get("type") == "retweeted" for r in references),
        quoted_author_id=authors.get(quoted) if quoted else None,
        source=source,
        raw=item,
    )


def normalise_time(value: Any) -> str:
    """X's `2024-01-15T10:30:00.000Z`, normalised; a missing or odd value becomes 'now'."""
    try:
        moment = from_iso(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    except ValueError:
        moment = datetime.now(UTC)
    return to_iso(moment)
