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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.domain.topics import MAX_OPEN_INCIDENTS, find_topics, readable, tweet_terms
from storage.chunks import place_in_chunks
from storage.db import Store, to_iso
from storage.incidents import (
    OTHER,
    Incident,
    WindowCase,
    baseline_texts,
    end_incidents,
    join_incident,
    open_incident,
    open_incidents,
    window_cases,
)

log = logging.getLogger(__name__)

BASELINE = timedelta(days=7)


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
        """Each queue's surge on its own: a queue's tweets are counted, grouped and carded in its channel,
        never with another queue's (a Spanish desk's storm stays in its channel)."""
        if not self.enabled:
            return
        since = self.now() - self.window
        by_queue: dict[str | None, list[WindowCase]] = {}
        for case in window_cases(self.store.db, to_iso(since)):
            by_queue.setdefault(case.queue_channel, []).append(case)
        open_now = open_incidents(self.store.db)
        for queue in sorted(set(by_queue) | {i.queue_channel for i in open_now}, key=lambda q: q or ""):
            incidents = [incident for incident in open_now if incident.queue_channel == queue]
            self._run_queue(queue, by_queue.get(queue, []), incidents, since)
        for incident in open_incidents(self.store.db):
            place_in_chunks(self.store.db, incident.id)

    def _run_queue(
        self, queue: str | None, cases: list[WindowCase], incidents: list[Incident], since: datetime
    ) -> None:
        """One queue's window: start, feed or end its surge (`queue` None: the default queue)."""
        db = self.store.db
        in_surge = len(cases) >= (max(1, self.threshold // 2) if incidents else self.threshold)
        if not in_surge:
            if incidents:
                end_incidents(db, queue)
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
            room = MAX_OPEN_INCIDENTS - len(topics)
            waiting = _without(waiting, self._open_incidents(queue, waiting, terms, since, len(cases), room))
        self._group_the_rest(queue, waiting)

    def _group_the_rest(self, queue: str | None, waiting: list[WindowCase]) -> None:
        """While alike tweets are grouped, the others that are not high priority are listed together too,
        so the channel is not flooded with them; high-priority ones keep their own cards."""
        db = self.store.db
        incidents = [incident for incident in open_incidents(db) if incident.queue_channel == queue]
        rest = [case for case in waiting if not case.carded and case.priority != "high"]
        if not rest or not any(incident.term != OTHER for incident in incidents):
            return
        other = next((incident.id for incident in incidents if incident.term == OTHER), None)
        if other is None:
            other = open_incident(db, OTHER, "other mentions", queue)
        join_incident(db, other, rest)

    def _open_incidents(
        self,
        queue: str | None,
        waiting: list[WindowCase],
        terms: dict[int, frozenset[str]],
        since: datetime,
        in_window: int,
        room: int,
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
            incident_id = open_incident(db, topic.term, label, queue)
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
