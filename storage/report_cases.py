"""A report's cases: which cases a period takes, and the one pass that reads their columns.

Every figure of `/perch report` starts from the same condition on `cases c` (the period, narrowed to an
agent or a location) and most from one read of the `cases_report` index, whose generated columns
(migration 16) hold each case's arrival and the milliseconds from it to each later instant: nothing is
computed per case at report time. Kept apart from the figures (`storage/metrics.py`), the breakdowns and
the CSV, which all read through it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import IntFlag
from typing import NamedTuple

import numpy as np

from storage.db import to_iso
from storage.engine import Database
from storage.stats import Seconds


def period_cases(
    start: datetime, end: datetime, agent: str | None, location: str | None, queue: str | None = None
) -> tuple[str, list]:
    """SQL condition on `cases c` selecting a report's cases, and its parameters. `queue`: a route's
    channel, or "" for the default queue (the cases no route took); None: every queue."""
    where, params = ["c.tweet_created_at >= ?", "c.tweet_created_at < ?"], [to_iso(start), to_iso(end)]
    if queue == "":
        where.append("c.queue_channel IS NULL")
    elif queue is not None:
        where.append("c.queue_channel = ?")
        params.append(queue)
    if agent:
        where.append("c.assignee = ?")
        params.append(agent)
    if location:
        where.append("c.id IN (SELECT case_id FROM escalations WHERE location = ?)")
        params.append(location)
    return " AND ".join(where), params


class Cases(NamedTuple):
    """A report's cases: the condition on `cases c` and its parameters, and whether the report is
    narrowed to an agent or a location (or takes the whole period)."""

    where: str
    params: list
    narrowed: bool

    def kept_in(self, table: str) -> tuple[str, list]:
        """The condition keeping the rows of `table` (which have a `case_id`) whose case is one of these,
        and its parameters; none when the whole period is taken (its rows are found by the period)."""
        if not self.narrowed:
            return "", []
        return f" AND {table}.case_id IN (SELECT c.id FROM cases c WHERE {self.where})", self.params


# A case's queue (docs/metrics.md, "By queue"): the channel its route chose, "" for the default queue.
QUEUE_OF_CASE = "COALESCE(c.queue_channel, '')"
# A case's contact reason (docs/metrics.md, "By reason"), over `cases c` joined with REASON_JOIN.
REASON_OF_CASE = "COALESCE(c.reason, 'Surge: ' || i.label, c.suggested_reason, '')"
REASON_JOIN = "LEFT JOIN incidents i ON i.id = c.incident_id"


class Flag(IntFlag):
    """Bits of `cases.report_flags` (migration 16)."""

    RESOLVED = 1
    REOPENED = 2
    BY_DM = 4  # opened by a DM


# What the period's pass reads per case, from the `cases_report` index. Each name's type in the columns
# read: offsets as float (NaN: no such instant).
PASS = {
    "flags": ("c.report_flags", np.int64),
    "arrived": ("c.report_arrived_ms", np.int64),
    "posted": ("c.report_posted_ms", np.float64),
    "claimed": ("c.report_claimed_ms", np.float64),
    "answered": ("c.report_answered_ms", np.float64),
    "resolved": ("c.report_resolved_ms", np.float64),
    "assignee": ("c.assignee", np.object_),
    "resolver": ("c.resolved_by", np.object_),
}
HEADLINE = ("flags", "arrived", "answered", "resolved")
INSTANTS = ("arrived", "posted", "claimed", "answered", "resolved")
ALL = (*HEADLINE, "posted", "claimed")


def read_pass(db: Database, names: tuple[str, ...], where: str, params: list, order: str = "") -> dict[str, np.ndarray]:
    """The named columns of the period's cases, in one order (`order`: an ORDER BY, when the rows must
    line up with another query's). The rows become one record array at once, then a column per name."""
    rows = db.execute(
        f"SELECT {', '.join(PASS[name][0] for name in names)} FROM cases c WHERE {where} {order}", params
    ).fetchall()
    table = np.array(rows, dtype=[(name, PASS[name][1]) for name in names])
    return {name: np.ascontiguousarray(table[name]) for name in names}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def unix_ms(moment: datetime) -> int:
    """Whole Unix milliseconds, as an instant is stored (to the millisecond, the rest cut)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def since_arrival(milliseconds: Seconds) -> Seconds:
    """Seconds from a case's arrival to a later instant, never negative (NaN: no such instant)."""
    return np.maximum(milliseconds, 0.0) / 1000.0
