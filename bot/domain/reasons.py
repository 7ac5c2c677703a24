"""Contact reasons: why a customer wrote, picked by the agent at resolve and suggested beforehand by
keyword rules the team sets with `/perch reasons` (one rule per reason: its name and its keywords).

A keyword matches a word of the text by its English stem ("delayed" finds "delay", "delays"); a
keyword of several words matches them in a row. The reason with the most matching keywords is the
suggestion, the first in the team's list on a tie; none matching, no suggestion. Measured on the
airline data's human labels in `bench/reasons.py`. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer

WORD = re.compile(r"[a-z0-9']+")
MAX_REASONS = 40  # a menu an agent can scan at resolve (Slack's menus take 100)
MAX_KEYWORDS = 60


@dataclass(frozen=True)
class ReasonRule:
    name: str
    keywords: tuple[str, ...]  # as the team wrote them, each one or more words


def parse_keywords(raw: str) -> tuple[str, ...]:
    """`late, delay, on the tarmac` → each keyword once, lower case, in order."""
    words = [" ".join(WORD.findall(part.lower())) for part in raw.split(",")]
    return tuple(dict.fromkeys(w for w in words if w))[:MAX_KEYWORDS]


def suggest(text: str, rules: list[ReasonRule]) -> str | None:
    """The reason whose keywords `text` matches most (ties: the first rule), or None."""
    joined = f" {' '.join(stems(text))} "
    best, best_hits = None, 0
    for rule in rules:
        hits = sum(1 for keyword in rule.keywords if f" {' '.join(stems(keyword))} " in joined)
        if hits > best_hits:
            best, best_hits = rule.name, hits
    return best


def stems(text: str) -> list[str]:
    """The English stems of the text's words, in order (keywords match by stem)."""
    return [_stem(word) for word in WORD.findall(text.lower().replace("’", "'"))]


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """One word's stem, remembered: a brand's customers use the same few thousand words every day, and
    the Snowball stemmer in pure Python costs more than every other step of routing a case."""
    return str(_stemmer().stemWord(word))


@cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")
