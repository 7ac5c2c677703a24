"""Real tweets from the repository's `data/` folder (see its README for source and licence), ready to feed FakeX.

`airline_tweets.csv` is Kaggle's "Twitter US Airline Sentiment" (CC BY-NC-SA 4.0): real customer
tweets at US airlines, February 2015, with their ids, handles and texts as X sent them (`&amp;`).
Its rows labelled "Delta" are in fact tweets at @JetBlue, which is why the demo's brand is JetBlue.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
AIRLINE_TWEETS = DATA / "airline_tweets.csv"
SUPPORT_CONVERSATIONS = DATA / "twcs_head5000.csv"
_AIRLINE_HANDLES = re.compile(r"@(united|usairways|americanair|southwestair|jetblue|virginamerica)\b", re.I)


@dataclass(frozen=True)
class RealTweet:
    tweet_id: str
    handle: str
    text: str
    sentiment: str
    airline: str
    created: str


def airline_tweets(path: Path = AIRLINE_TWEETS) -> list[RealTweet]:
    """Every row, in file order (newest first, as the data set was published)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            RealTweet(
                row["tweet_id"],
                row["name"],
                row["text"],
                row["airline_sentiment"],
                row["airline"],
                row["tweet_created"],
            )
            for row in csv.DictReader(handle)
        ]


def as_mention_of(text: str, brand: str) -> str:
    """Point a tweet at another airline to `brand` instead (for load tests that need many mentions)."""
    replaced = _AIRLINE_HANDLES.sub(f"@{brand}", text)
    return replaced if f"@{brand.lower()}" in replaced.lower() else f"@{brand} {replaced}"


def followers_for(handle: str) -> int:
    """The data set has no follower counts: a stable stand-in derived from the handle."""
    return sum(ord(ch) * (index + 7) for index, ch in enumerate(handle)) * 7 % 25_000 + 12


STORM = re.compile(r"cancel|\bhold\b|delay|rebook|stuck|stranded", re.I)


def storm_and_calm(rows: list[RealTweet]) -> tuple[list[RealTweet], list[RealTweet]]:
    """Real tweets of the kind a winter storm brings (cancellations, delays, phone holds, rebooking, as
    at American on 22–24 Feb 2015) and the rest; each tweet once (the data set repeats 155 ids)."""
    seen: set[str] = set()
    storm, calm = [], []
    for row in rows:
        if row.tweet_id in seen:
            continue
        seen.add(row.tweet_id)
        (storm if STORM.search(row.text) else calm).append(row)
    return storm, calm


def publish(
    fake_x: Any, rows: list[RealTweet], brand: str, *, start: datetime, every_seconds: float, lang: str = "en"
) -> list[str]:
    """Put real tweets on a FakeX as mentions of `brand`, `every_seconds` apart from `start` (X saying
    they are in `lang`)."""
    ids = []
    for index, row in enumerate(rows):
        author = fake_x.add_user(row.handle, row.handle, followers_for(row.handle))
        ids.append(
            fake_x.add_tweet(
                as_mention_of(row.text, brand),
                author,
                created_at=start + timedelta(seconds=index * every_seconds),
                lang=lang,
            )
        )
    return ids
