"""`GET /metrics`: one runtime's figures in Prometheus' text format, read when they are scraped.

Each part counts what happens where it happens, in plain counters of its own (the ingest job's polls,
the outbox's sends, the Slack client's 429s, storage's translated errors, the X client's rate-limit
memory); this collector reads them, and the lease and the database, at each scrape. Each runtime has
its own `CollectorRegistry` (never the global one), so several runtimes in one process never clash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from slack_sdk import WebClient

from bot.jobs.scheduler import SourceWorkers
from bot.leader import Leader
from bot.slack.client import CountedRateLimits
from bot.x.client import XClient
from bot.x.outbox import Outbox
from storage import errors
from storage.cards import cards_waiting_count
from storage.db import Store, from_iso
from storage.errors import StorageError
from storage.tweets import all_cursors

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Observed:
    """What the collector reads: the parts of one runtime that count something."""

    store: Store
    leader: Leader
    workers: SourceWorkers
    outbox: Outbox
    x: XClient
    slack: WebClient


class Observer:
    """The runtime's registry, with this one collector in it."""

    def __init__(self, observed: Observed, clock: Callable[[], float] = time.time) -> None:
        self.observed = observed
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def collect(self) -> Iterator[Metric]:
        yield from self._lease()
        yield from self._counted()
        yield from self._x_limits()
        try:
            yield from self._stored()
        except StorageError as error:  # the scrape still answers, with what needs no database
            log.warning("Metrics read without the database: %s", error)

    def _lease(self) -> Iterator[Metric]:
        leader = self.observed.leader
        role = GaugeMetricFamily(
            "perch_role", "1 for this process's role: leader (runs the jobs) or standby", labels=["role"]
        )
        for name in ("leader", "standby"):
            role.add_metric([name], float(leader.role == name))
        yield role
        yield GaugeMetricFamily(
            "perch_lease_epoch", "The leader's lease epoch, as this process last read it", value=leader.seen_epoch
        )

    def _counted(self) -> Iterator[Metric]:
        polls = CounterMetricFamily(
            "perch_polls", "X polls by this process, by source and outcome", labels=["source", "outcome"]
        )
        for (source, outcome), count in sorted(self.observed.workers.polls.items()):
            polls.add_metric([source, outcome], count)
        yield polls
        sends = CounterMetricFamily(
            "perch_sends", "Replies and DMs sent through the outbox, by outcome", labels=["outcome"]
        )
        for outcome, count in sorted(self.observed.outbox.outcomes.items()):
            sends.add_metric([outcome], count)
        yield sends
        handlers = [h for h in self.observed.slack.retry_handlers if isinstance(h, CountedRateLimits)]
        yield CounterMetricFamily(
            "perch_slack_rate_limited", "Slack's 429 answers", value=sum(h.seen for h in handlers)
        )
        failures = CounterMetricFamily(
            "perch_database_errors", "The database's errors, by kind (process-wide)", labels=["kind"]
        )
        for kind, count in sorted(errors.SEEN.items()):
            failures.add_metric([kind], count)
        yield failures

    def _x_limits(self) -> Iterator[Metric]:
        remaining = GaugeMetricFamily(
            "perch_x_rate_limit_remaining", "Calls left in X's window, by endpoint", labels=["endpoint"]
        )
        for endpoint, (left, _reset) in sorted(self.observed.x.calls.limits.items()):
            remaining.add_metric([endpoint], left)
        yield remaining

    def _stored(self) -> Iterator[Metric]:
        db = self.observed.store.db
        age = GaugeMetricFamily(
            "perch_source_newest_post_age_seconds", "Age of each source's newest post read", labels=["source"]
        )
        now = self.clock()
        for source, cursor in sorted(all_cursors(db).items()):
            if cursor.newest_at:
                age.add_metric([source], max(now - from_iso(cursor.newest_at).timestamp(), 0.0))
        yield age
        waiting = cards_waiting_count(db)
        yield GaugeMetricFamily("perch_cards_waiting", "Cases whose card is not in Slack yet", value=waiting)
