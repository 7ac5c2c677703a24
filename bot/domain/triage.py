"""Priority triage: which new cases to look at first, and why (the signals are shown on the card).

"Upset" is VADER's social-media sentiment (compound ≤ -0.05), or urgency words in a tweet that is not
clearly positive. A case is high priority when the customer is upset *and* something makes it
pressing: urgency words, a detected location (someone on the ground can act), or a large audience
(10,000+ followers, or an account X verified). A public post that shows the customer's own personal
data (a card number, a phone number, …) is high priority whatever its tone: it should come down soon.
Measured against the human labels of the airline data set in tests/test_triage.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

URGENT = re.compile(
    r"\b(cancel\w*|delay\w*|stuck|stranded|miss(?:ed)?(?: my)? connection|missed|lost|refund\w*|"
    r"on hold|hold|waiting|late|broken|damaged|rebook\w*|no one|nobody|worst|never|today|tonight|"
    r"urgent|asap|help)\b",
    re.I,
)
NEGATIVE = -0.05
CLEARLY_POSITIVE = 0.3
BIG_AUDIENCE = 10_000


@dataclass(frozen=True)
class Assessment:
    priority: str  # "high" or "normal"
    upset: bool
    signals: tuple[str, ...]


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def assess(
    text: str,
    *,
    followers: int | None = None,
    location: str | None = None,
    verified: bool = False,
    personal_data: tuple[str, ...] = (),
) -> Assessment:
    """`text` as people read it (entities decoded); `personal_data` the kinds a public post shows."""
    compound = _analyzer().polarity_scores(text)["compound"]
    words = sorted({m.group(0).lower() for m in URGENT.finditer(text)})
    upset = compound <= NEGATIVE or (bool(words) and compound < CLEARLY_POSITIVE)
    signals = []
    if compound <= NEGATIVE:
        signals.append("negative")
    if words:
        signals.append("urgent: " + ", ".join(words[:4]))
    if followers is not None and followers >= BIG_AUDIENCE:
        signals.append(f"{followers:,} followers")
    if verified:
        signals.append("verified")
    if location:
        signals.append(f"at {location}")
    if personal_data:
        signals.append("personal data in public")
    pressing = bool(words) or bool(location) or (followers or 0) >= BIG_AUDIENCE or verified
    high = (upset and pressing) or bool(personal_data)
    return Assessment("high" if high else "normal", upset, tuple(signals))
