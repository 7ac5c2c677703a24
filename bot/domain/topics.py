"""Topic detection, the pure half of surge mode (no I/O): a tweet's terms (stemmed words and word pairs,
stop words, handles and links dropped), and the topics a window of tweets shares that are unusual
against the week before."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer

from bot.blocks.mrkdwn import decode_x

_WORD = re.compile(r"[a-z0-9][a-z0-9'’]*[a-z0-9]|[a-z0-9]")


_NOISE = re.compile(r"@\w+|https?://\S+|#")


_STOP_WORDS = """
a about after again all also am an and any are as at be because been before being but by can can't cant could
did didn't do does doesn't don't dont for from get got had has have having he her here hers him his how i i'd i'm
i've if im in into is isn't it it's its just me more most my no nor not now of off on once only or other our out
over own same she should so some such than that that's the their them then there these they this those through
to too under until up very was wasn't we we're were what when where which while who why will with won't would
you you're your yours amp rt via
"""


STOP_WORDS = frozenset(_STOP_WORDS.split())


MAX_OPEN_INCIDENTS = 4  # topics at once (the "other mentions" group aside)


MIN_BASELINE = 50  # fewer earlier tweets than this: nothing to compare with, skip the "unusual" test


@dataclass(frozen=True)
class Topic:
    term: str
    label: str
    members: tuple[int, ...]  # indexes into the texts given


@cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


def content_words(text: str) -> list[str]:
    """Lower-cased words without handles, links, stop words or numbers."""
    words = [w.replace("’", "'") for w in _WORD.findall(_NOISE.sub(" ", decode_x(text).lower()))]
    return [w for w in words if len(w) > 2 and w not in STOP_WORDS and not w.isdigit()]


@lru_cache(maxsize=20_000)  # stemming is the costly part: a window's and a week's tweets are stemmed once
def tweet_terms(text: str) -> frozenset[str]:
    """Stems of the content words ("cancelled", "cancellation" → "cancel") and adjacent pairs of them."""
    stems = _stemmer().stemWords(content_words(text))
    return frozenset(stems) | {f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False)}


def readable(label: str, texts: list[str]) -> str:
    """A label of stems in the words the tweets most often used for them ("cancel · flight" → "cancelled · flight")."""
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        words = content_words(text)
        for word, stem in zip(words, _stemmer().stemWords(words), strict=True):
            forms.setdefault(stem, Counter())[word] += 1
    return " ".join(forms[part].most_common(1)[0][0] if part in forms else part for part in label.split(" "))


def find_topics(
    terms: list[frozenset[str]],
    baseline: list[frozenset[str]],
    *,
    min_tweets: int,
    min_share: float = 0.15,
    min_lift: float = 3.0,
    max_topics: int = MAX_OPEN_INCIDENTS,
) -> list[Topic]:
    """Greedily, the most shared unusual term, its tweets set aside, then the next."""
    base = Counter(term for tweet in baseline for term in tweet)
    compare = len(baseline) >= MIN_BASELINE
    left = set(range(len(terms)))
    need = max(min_tweets, int(min_share * len(terms)))
    topics: list[Topic] = []
    while left and len(topics) < max_topics:
        counts = Counter(term for index in left for term in terms[index])

        def unusual(term: str, count: int) -> bool:
            if not compare:
                return True
            return count / len(terms) >= min_lift * (base[term] + 1) / (len(baseline) + 1)

        ranked = sorted(
            (
                (count * (1.25 if " " in term else 1.0), term)
                for term, count in counts.items()
                if count >= need and unusual(term, count)
            ),
            reverse=True,
        )
        if not ranked:
            break
        term = ranked[0][1]
        members = tuple(sorted(index for index in left if term in terms[index]))
        topics.append(Topic(term, _label(term, [terms[i] for i in members]), members))
        left -= set(members)
    return topics


def _label(term: str, tweets: list[frozenset[str]]) -> str:
    """The term, and up to two words most of its tweets also share ("cancelled flight · dfw")."""
    also = Counter(t for tweet in tweets for t in tweet if " " not in t and t not in term.split())
    extra = [t for t, count in also.most_common(2) if count >= len(tweets) / 2]
    return " · ".join([term, *extra])
