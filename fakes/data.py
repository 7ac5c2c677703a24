"""Real tweets from `../shared/data/` (see its README for source and licence), ready to feed FakeX.

`airline_tweets.csv` is Kaggle's "Twitter US Airline Sentiment" (CC BY-NC-SA 4.0): real customer
tweets at US airlines, February 2015, with their ids, handles and texts as X sent them (`&amp;`).
Its rows labelled "Delta" are in fact tweets at @JetBlue, which is why the demo's brand is JetBlue.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
AIRLINE_TWEETS = SHARED_DATA / "airline_tweets.csv"
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
        return [RealTweet(row["tweet_id"], row["name"], row["text"], row["airline_sentiment"],
                          row["airline"], row["tweet_created"]) for row in csv.DictReader(handle)]


def as_mention_of(text: str, brand: str) -> str:
    """Point a tweet at another airline to `brand` instead (for load tests that need many mentions)."""
    replaced = _AIRLINE_HANDLES.sub(f"@{brand}", text)
    return replaced if f"@{brand.lower()}" in replaced.lower() else f"@{brand} {replaced}"


def followers_for(handle: str) -> int:
    """The data set has no follower counts: a stable stand-in derived from the handle."""
    return sum(ord(ch) * (index + 7) for index, ch in enumerate(handle)) * 7 % 25_000 + 12
