"""Surge mode: when mentions pour in and many say the same thing, group them under one incident card.

A surge starts when at least `threshold` new cases' tweets were sent within `window` (and ends when
fewer than half that many were). During a surge, a *topic* is a word or two-word phrase shared by a
good part of the window's tweets (at least `min_share` of them and `min_tweets`) that is also unusual
for this brand: it must be `min_lift` times more common than in the week before (when there is such
a week to compare with), so "flight" at an airline is never a topic but "cancelled flight" in a storm
is. Each topic opens an incident; tweets that share it join it. A tweet that joins before it has a
card is listed in the incident's thread instead; tweets that match no topic still get their own card.
While there is at least one topic, the other tweets that are not high priority are listed together in
an "other mentions" incident (no common reply is offered for those); high-priority ones keep their own
card. When the surge ends, new tweets get their own cards again.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache

import snowballstemmer

from bot.blocks.mrkdwn import decode_x
from storage.chunks import place_in_chunks
from storage.db import Store, to_iso
from storage.incidents import (
    OTHER,
    WindowCase,
    baseline_texts,
    end_incidents,
    join_incident,
    open_incident,
    open_incidents,
    window_cases,
)

log = logging.getLogger(__name__)

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
BASELINE = timedelta(days=7)
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


class SurgeGrouper:
    """Run by the post job before it posts cards: starts, feeds and ends incidents."""

    def __init__(
        self,
        store: Store,
        *,
        threshold: int,
        window_minutes: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.threshold = threshold
        self.window = timedelta(minutes=window_minutes)
        self.now = now

    @property
    def enabled(self) -> bool:
        return self.threshold > 0

    def run(self) -> None:
        if not self.enabled:
            return
        db = self.store.db
        since = self.now() - self.window
        cases = window_cases(db, to_iso(since))
        incidents = open_incidents(db)
        in_surge = len(cases) >= (max(1, self.threshold // 2) if incidents else self.threshold)
        if not in_surge:
            if incidents:
                end_incidents(db)
                log.info("Surge over (%d tweets in the last %s): one card per tweet again", len(cases), self.window)
            return
        waiting = [case for case in cases if case.incident_id is None and not case.answered]
        terms = {case.case_id: tweet_terms(case.text) for case in waiting}
        topics = [incident for incident in incidents if incident.term != OTHER]
        for incident in topics:
            alike = [case for case in waiting if incident.term in terms[case.case_id]]
            join_incident(db, incident.id, alike)
            waiting = _without(waiting, alike)
        if waiting and len(topics) < MAX_OPEN_INCIDENTS:
            waiting = _without(
                waiting, self._open_incidents(waiting, terms, since, len(cases), MAX_OPEN_INCIDENTS - len(topics))
            )
        self._group_the_rest(waiting)
        for incident in open_incidents(db):
            place_in_chunks(db, incident.id)

    def _group_the_rest(self, waiting: list[WindowCase]) -> None:
        """While alike tweets are grouped, the others that are not high priority are listed together too,
        so the channel is not flooded with them; high-priority ones keep their own cards."""
        db = self.store.db
        incidents = open_incidents(db)
        rest = [case for case in waiting if not case.carded and case.priority != "high"]
        if not rest or not any(incident.term != OTHER for incident in incidents):
            return
        other = next((incident.id for incident in incidents if incident.term == OTHER), None)
        if other is None:
            other = open_incident(db, OTHER, "other mentions")
        join_incident(db, other, rest)

    def _open_incidents(
        self, waiting: list[WindowCase], terms: dict[int, frozenset[str]], since: datetime, in_window: int, room: int
    ) -> list[WindowCase]:
        """New incidents for the topics among `waiting`; returns the cases they took."""
        db = self.store.db
        baseline = [tweet_terms(text) for text in baseline_texts(db, to_iso(since - BASELINE), to_iso(since))]
        topics = find_topics(
            [terms[case.case_id] for case in waiting], baseline, min_tweets=max(5, self.threshold // 3), max_topics=room
        )
        taken: list[WindowCase] = []
        for topic in topics:
            label = readable(topic.label, [waiting[index].text for index in topic.members[:200]])
            incident_id = open_incident(db, topic.term, label)
            join_incident(db, incident_id, [waiting[index] for index in topic.members])
            log.warning(
                "Surge: %d of %d recent tweets mention %r; grouped as incident %d",
                len(topic.members),
                in_window,
                topic.term,
                incident_id,
            )
            taken += [waiting[index] for index in topic.members]
        return taken


def _without(cases: list[WindowCase], taken: list[WindowCase]) -> list[WindowCase]:
    gone = {case.case_id for case in taken}
    return [case for case in cases if case.case_id not in gone]
