"""The figures behind `/perch report`, computed exactly as `docs/metrics.md` defines them.

One query reads the period's cases from an index that holds each case's durations and flags (generated
columns, migration 16: `storage/report_cases.py`); escalations, replies and holds are read for those cases
only. The columns are counted and their percentiles taken with numpy (`storage/stats.py`); the
breakdowns are in `storage/breakdowns.py`, business time in `storage/business_time.py`, the CSV's rows in
`storage/case_rows.py`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import compress
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from storage.breakdowns import add_workload, by_agent, by_location, by_queue, by_reason
from storage.business_time import BusinessClock, BusinessTimes, business_times, instants
from storage.csat import Csat, csat_of
from storage.db import rows_as, to_iso
from storage.engine import Database
from storage.lifecycle import NOT_RESOLVED
from storage.report_cases import (
    ALL,
    HEADLINE,
    INSTANTS,
    Cases,
    Flag,
    period_cases,
    read_pass,
    since_arrival,
    unix_ms,
)
from storage.report_dms import cases_in_dm, dm_answers
from storage.stats import Seconds, Stat, above, counts_by, groups, sorted_present


class Breakdown(StrEnum):
    """The report's breakdowns (`/perch report … by X`); each is computed only when it is shown."""

    AGENT = "agent"
    HOUR = "hour"
    LOCATION = "location"
    REASON = "reason"
    QUEUE = "queue"


@dataclass
class Report:
    start: datetime
    end: datetime
    first_responses: list[float] = field(default_factory=list)  # seconds, sorted (for the chart)
    volume_in: int = 0
    handled: int = 0
    open: int = 0
    reopened: int = 0
    time_to_card: Stat = field(default_factory=lambda: Stat(0, None, None))
    time_to_claim: Stat = field(default_factory=lambda: Stat(0, None, None))
    time_to_first_response: Stat = field(default_factory=lambda: Stat(0, None, None))
    first_response_after_posting: Stat = field(default_factory=lambda: Stat(0, None, None))
    answered_before_card: int = 0  # answered on x.com before Perch carded them: left out of the above
    time_to_resolve: Stat = field(default_factory=lambda: Stat(0, None, None))
    sla_target_minutes: float = 60
    sla_breaches: int = 0
    by_hour: dict[int, int] = field(default_factory=dict)
    by_agent: list[dict] = field(default_factory=list)
    by_location: list[dict] = field(default_factory=list)
    channels: dict[str, int] = field(default_factory=dict)  # public / dm / both → cases
    time_to_dm_answer: Stat = field(default_factory=lambda: Stat(0, None, None))
    review: Review | None = None  # drafts held for review in the period's cases (None: there were none)
    answered: int = 0  # cases with a first response (docs/metrics.md, "Response rate")
    answered_by_hour: dict[int, int] = field(default_factory=dict)
    unanswered_overdue: int = 0  # open, never answered, older than the resolve target
    overdue: list[Overdue] = field(default_factory=list)  # the oldest of them, to list with links
    resolve_target_hours: float = 24
    by_reason: list[dict] = field(default_factory=list)
    by_queue: list[dict] = field(default_factory=list)
    business: BusinessTimes | None = None  # the durations again in business time (BUSINESS_HOURS set)
    daily: list[Day] = field(default_factory=list)  # periods longer than two days: the trend, day by day
    csat: Csat = field(default_factory=Csat)  # the satisfaction surveys of the period's cases

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.volume_in if self.volume_in else None


@dataclass(frozen=True)
class Day:
    """One local day of a period: cases in, and the p50 time to first response of those answered."""

    day: str  # YYYY-MM-DD in the report's time zone
    volume: int
    first_response_p50: float | None


@dataclass(frozen=True)
class Overdue:
    """A case nobody answered, open past the resolve target: listed in the report with its link."""

    case_id: int
    tweet_id: str | None
    author_handle: str
    tweet_created_at: str
    conversation_id: str


@dataclass
class Review:
    """Drafts held for a lead's review (docs/metrics.md, "Review")."""

    held: int = 0
    approved: int = 0
    sent_back: int = 0
    waiting: int = 0
    time_to_approve: Stat = field(default_factory=lambda: Stat(0, None, None))

    @property
    def reviewed(self) -> int:
        return self.approved + self.sent_back


_QUARTER_MS = 900_000  # every UTC offset since 1980 is a whole number of quarter hours, and so are its changes


@dataclass(frozen=True)
class _Pass:
    """The period's pass as the figures take it: the columns read, each instant's offset from arrival
    (milliseconds; NaN: none), the seconds to first response and to resolve, and which cases were
    answered and which resolved."""

    columns: dict[str, np.ndarray]
    offsets: dict[str, Seconds]
    first: Seconds
    resolve: Seconds
    answered: npt.NDArray[np.bool_]
    resolved: npt.NDArray[np.bool_]

    @classmethod
    def read(cls, db: Database, names: tuple[str, ...], cases: Cases) -> _Pass:
        columns = read_pass(db, names, cases.where, cases.params)
        offsets = {name: columns[name] for name in INSTANTS if name in names}
        first, resolve = since_arrival(offsets["answered"]), since_arrival(offsets["resolved"])
        resolved = (columns["flags"] & Flag.RESOLVED.value) != 0
        return cls(columns, offsets, first, resolve, ~np.isnan(first), resolved)

    @property
    def arrived(self) -> npt.NDArray[np.int64]:
        return self.columns["arrived"]

    def having(self, flag: Flag) -> int:
        return int(np.count_nonzero(self.columns["flags"] & flag.value))


def _names(breakdown: Breakdown | None, headline: bool) -> tuple[str, ...]:
    """The columns the pass reads: a headline's, or all the instants (and who held and resolved each
    case, when the agents' breakdown is shown)."""
    if headline:
        return HEADLINE
    return (*ALL, "assignee", "resolver") if breakdown in (None, Breakdown.AGENT) else ALL


def _count(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.count_nonzero(mask))


def build_report(
    db: Database,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    timezone: str = "UTC",
    sla_minutes: float = 60,
    resolve_hours: float = 24,
    agent: str | None = None,
    location: str | None = None,
    queue: str | None = None,
    breakdown: Breakdown | None = None,
    business: BusinessClock | None = None,
    headline: bool = False,
) -> Report:
    """The figures of `docs/metrics.md` for one period, from one read of its cases; `breakdown` computes
    that breakdown only (None: all of them; `agent` includes the workload), `headline` stops at the
    figures a previous period is compared on (in, handled, answered, SLA breaches, first response,
    resolve, satisfaction); `queue` narrows it to one queue ("" the default one)."""
    narrowed = bool(agent or location) or queue is not None
    cases = Cases(*period_cases(start, end, agent, location, queue), narrowed=narrowed)
    read = _Pass.read(db, _names(breakdown, headline), cases)
    report = Report(start, end, sla_target_minutes=sla_minutes, resolve_target_hours=resolve_hours)
    _add_headline(report, read, now, business)
    report.csat = csat_of(db, cases.where, cases.params)
    if headline:
        return report
    _add_durations(report, read)
    _add_arrivals(report, read.arrived, read.first, ZoneInfo(timezone))
    _add_overdue(report, db, read, cases, now)
    _add_breakdowns(report, db, read, cases, breakdown, location=location, now=now)
    _add_channels(report, db, read, cases)
    report.review = _review(db, cases.where, cases.params)
    return report


def _add_headline(report: Report, read: _Pass, now: datetime, business: BusinessClock | None) -> None:
    """What a previous period is compared on: cases in, answered, handled, open, reopened, first
    response, resolve and SLA breaches (in business time, with business hours)."""
    report.volume_in = int(read.columns["flags"].size)
    report.answered = _count(read.answered)
    report.handled = _count(read.answered | read.resolved)
    report.open = report.volume_in - _count(read.resolved)
    report.reopened = read.having(Flag.REOPENED)
    answers = sorted_present(read.first)
    report.first_responses = answers.tolist()
    report.time_to_first_response = Stat.of_sorted(answers)
    report.time_to_resolve = Stat.of_column(read.resolve)
    target = report.sla_target_minutes * 60
    if business is None:
        sla_cutoff = now - timedelta(minutes=report.sla_target_minutes)
        past_sla = ~read.answered & (read.arrived < unix_ms(sla_cutoff))  # unanswered, waiting past the target
        report.sla_breaches = above(answers, target) + _count(past_sla)
    else:
        report.business, report.sla_breaches = business_times(business, instants(read.offsets), now, target)


def _add_durations(report: Report, read: _Pass) -> None:
    """Time to card and to claim, and the first response counted from the card (those answered on
    x.com before Perch carded them are counted apart)."""
    posted = read.offsets["posted"]
    report.time_to_card = Stat.of_column(since_arrival(posted))
    report.time_to_claim = Stat.of_column(np.maximum(read.offsets["claimed"] - posted, 0.0) / 1000.0)
    after_card = read.offsets["answered"] - posted  # NaN when either is missing
    report.first_response_after_posting = Stat.of_column(np.where(after_card >= 0, after_card / 1000.0, np.nan))
    report.answered_before_card = int(np.count_nonzero(after_card < 0))


def _add_overdue(report: Report, db: Database, read: _Pass, cases: Cases, now: datetime) -> None:
    """How many cases are open, never answered and older than the resolve target, and the oldest."""
    cutoff = now - timedelta(hours=report.resolve_target_hours)
    report.unanswered_overdue = _count(~read.answered & ~read.resolved & (read.arrived < unix_ms(cutoff)))
    if report.unanswered_overdue:
        report.overdue = _overdue(db, cases.where, cases.params, cutoff)


def _add_breakdowns(
    report: Report,
    db: Database,
    read: _Pass,
    cases: Cases,
    breakdown: Breakdown | None,
    *,
    location: str | None,
    now: datetime,
) -> None:
    """The breakdown asked for (None: all of them); the agents' with their workload up to now."""
    period = (report.start, report.end)
    if breakdown in (None, Breakdown.AGENT):
        closed = Counter(compress(read.columns["resolver"], read.resolved.tolist()))
        report.by_agent = by_agent(db, read.columns["assignee"], read.first, read.resolve, closed, period, cases)
        add_workload(report.by_agent, db, period, min(report.end, now), cases)
    if breakdown in (None, Breakdown.LOCATION):
        report.by_location = by_location(db, report.start, report.end, location)
    if breakdown in (None, Breakdown.REASON):
        report.by_reason = by_reason(db, cases.where, cases.params)
    if breakdown in (None, Breakdown.QUEUE):
        report.by_queue = by_queue(db, cases.where, cases.params)


def _add_channels(report: Report, db: Database, read: _Pass, cases: Cases) -> None:
    """Cases by where they were answered (public, DM, both), and the time to the brand's first DM."""
    dm_only = read.having(Flag.BY_DM)
    both = len(cases_in_dm(db, report.start, cases.where, cases.params)) - dm_only
    report.channels = {"public": report.volume_in - dm_only - both, "dm": dm_only, "both": both}
    report.time_to_dm_answer = dm_answers(db, report.start, cases.where, cases.params)


def _add_arrivals(report: Report, arrived_ms: np.ndarray, first: Seconds, zone: ZoneInfo) -> None:
    """Cases (and those answered) by local hour of arrival, and for a period longer than two days the
    daily trend: each UTC quarter hour of arrival is converted once, which is exact for every offset."""
    quarters, at_quarter = np.unique(arrived_ms // _QUARTER_MS, return_inverse=True)
    local = [datetime.fromtimestamp(int(quarter) * _QUARTER_MS / 1000, zone) for quarter in quarters]
    hours = np.array([moment.hour for moment in local], dtype=np.int64)[at_quarter]
    report.by_hour = counts_by(hours)
    report.answered_by_hour = counts_by(hours[~np.isnan(first)])
    if report.end - report.start > timedelta(days=2):
        days, day_at_quarter = np.unique([moment.date().isoformat() for moment in local], return_inverse=True)
        report.daily = [
            Day(str(name), int(rows.size), Stat.of_column(first[rows]).p50)
            for name, rows in zip(days, groups(day_at_quarter[at_quarter], len(days)), strict=True)
        ]


def report_with_previous(db: Database, start: datetime, end: datetime, **kwargs: Any) -> tuple[Report, Report]:
    """The period's report and the one just before it, of the same length (its headline figures, for ▲/▼)."""
    before = {**kwargs, "headline": True}
    return build_report(db, start, end, **kwargs), build_report(db, start - (end - start), start, **before)


OVERDUE_LISTED = 10


def _overdue(db: Database, where: str, params: list, cutoff: datetime) -> list[Overdue]:
    """The oldest of the period's cases that are open, unanswered and older than `cutoff`."""
    return rows_as(
        Overdue,
        db.execute(
            "SELECT c.id AS case_id, c.tweet_id, COALESCE(t.author_handle, d.sender_handle, '') AS author_handle, "
            "c.tweet_created_at, c.conversation_id FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id "
            f"LEFT JOIN dm_events d ON d.id = c.dm_event_id WHERE {where} AND c.first_response_at IS NULL "
            f"AND c.{NOT_RESOLVED} AND c.tweet_created_at < ? ORDER BY c.tweet_created_at LIMIT ?",
            [*params, to_iso(cutoff), OVERDUE_LISTED],
        ),
    )


def _review(db: Database, where: str, params: list) -> Review | None:
    """The drafts of the period's cases: how many were decided which way, and held → approved."""
    rows = db.execute(
        "SELECT d.status, (julianday(d.decided_at) - julianday(d.created_at)) * 86400 "
        f"FROM drafts d CROSS JOIN cases c ON c.id = d.case_id WHERE {where}",  # the (few) drafts first
        params,
    ).fetchall()
    if not rows:
        return None
    statuses = Counter(status for status, _ in rows)
    return Review(
        held=len(rows),
        approved=statuses["approved"],
        sent_back=statuses["sent_back"],
        waiting=statuses["pending"],
        time_to_approve=Stat.of([waited for status, waited in rows if status == "approved"]),
    )
