"""What X will accept as a tweet, counted the way X counts (twitter-text: URLs 23, CJK and emoji 2)."""

from __future__ import annotations

import re

from twitter_text import parse_tweet

MAX_WEIGHTED_LENGTH = 280
MAX_DM_LENGTH = 10_000


def tweet_problem(text: str) -> str | None:
    """Why X would refuse `text` as a tweet, in words for the agent; None when it fits."""
    if not text.strip():
        return "Write something first: the reply is empty."
    weighted = parse_tweet(text).weightedLength
    if weighted > MAX_WEIGHTED_LENGTH:
        return (
            f"Too long for X: {weighted}/{MAX_WEIGHTED_LENGTH} (links count 23, emoji and CJK characters "
            f"count 2). Cut {weighted - MAX_WEIGHTED_LENGTH}."
        )
    return None


def dm_problem(text: str, *, required: bool = False) -> str | None:
    """Why X would refuse `text` as a DM (X counts characters); an optional first DM may be empty."""
    if required and not text.strip():
        return "Write something first: the DM is empty."
    if len(text) > MAX_DM_LENGTH:
        return f"Too long for a DM: {len(text):,}/{MAX_DM_LENGTH:,} characters."
    return None


LEADING_MENTIONS = re.compile(r"^(?:\s*@[A-Za-z0-9_]{1,15}\b)+\s*")


def without_leading_mentions(text: str) -> str:
    """A public reply's text for a DM: the @handles it starts with address the post, not the person."""
    return LEADING_MENTIONS.sub("", text).strip()
