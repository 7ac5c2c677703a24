"""The figures behind `/perch report`, computed exactly as `docs/metrics.md` defines them.

One query reads the period's cases from an index that holds each case's durations and flags (generated
columns, migration 16); escalations, replies and holds are read for those cases only. The columns are
counted and their percentiles taken with numpy (`storage/stats.py`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntFlag, StrEnum
from itertools import compress
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import sqlite_utils

from storage.db import from_iso, rows_as, rows_as_named, to_iso
from storage.stats import (
    Seconds,
    Stat,
    above,
    column,
    concurrency,
    counts_by,
    group_codes,
    groups,
    sorted_present,
)


class CaseRow(NamedTuple):
    """One case of a report with its instants and durations in seconds (the CSV's row): a named tuple,
    as a month of a busy queue is tens of thousands of them."""

    case_id: int
    tweet_id: str | None
    author_handle: str
    tweet_created_at: str
    posted_at: str | None
    claimed_at: str | None
    first_response_at: str | None
    resolved_at: str | None
    status: str
    assignee: str | None
    location: str | None
    reopened_count: int
    reason: str
    replies_sent: int
    channel: str
    time_to_card: float | None
    time_to_claim: float | None
    time_to_first_response: float | None
    first_response_after_posting: float | None
    time_to_resolve: float | None  # resolved cases only
    business_first_response: float | None = None  # seconds of business time (BUSINESS_HOURS set)
    business_resolve: float | None = None


def _seconds(start: str, end: str) -> str:
    """SQL for `end - start` in seconds, never negative, NULL when either is missing."""
    return f"MAX(0.0, (julianday({end}) - julianday({start})) * 86400.0)"


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
    business: BusinessTimes | None = None  # the durations again in business time (BUSINESS_HOURS set)
    daily: list[Day] = field(default_factory=list)  # periods longer than two days: the trend, day by day

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
class BusinessTimes:
    """Durations counting only business hours (docs/metrics.md, "Business hours")."""

    time_to_claim: Stat
    time_to_first_response: Stat
    time_to_resolve: Stat


class BusinessClock(Protocol):
    """Business hours (BUSINESS_HOURS), handed in so storage needs no rule of its own."""

    def open_seconds(self, instants: Seconds) -> Seconds:
        """For each instant (Unix seconds; NaN: none), the open seconds since a fixed origin."""
        ...


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


def _period(start: datetime, end: datetime, agent: str | None, location: str | None) -> tuple[str, list]:
    """SQL condition on `cases c` selecting a report's cases, and its parameters."""
    where, params = ["c.tweet_created_at >= ?", "c.tweet_created_at < ?"], [to_iso(start), to_iso(end)]
    if agent:
        where.append("c.assignee = ?")
        params.append(agent)
    if location:
        where.append("c.id IN (SELECT case_id FROM escalations WHERE location = ?)")
        params.append(location)
    return " AND ".join(where), params


_CSV_ORDER = "ORDER BY c.tweet_created_at, c.id"  # the CSV's rows, and their business times beside them


def case_rows(
    db: sqlite_utils.Database,
    start: datetime,
    end: datetime,
    *,
    agent: str | None = None,
    location: str | None = None,
    business: BusinessClock | None = None,
) -> list[CaseRow]:
    """Every case of a report with its instants and durations (the CSV export); with `business`, the
    first response and resolve in business time too."""
    where, params = _period(start, end, agent, location)
    since = to_iso(start)
    rows = rows_as_named(
        CaseRow,
        db.execute(
            "SELECT c.id AS case_id, c.tweet_id, COALESCE(t.author_handle, d.sender_handle, '') AS author_handle, "
            "c.tweet_created_at, c.posted_at, c.claimed_at, c.first_response_at, c.resolved_at, c.status, "
            f"c.assignee, c.location, c.reopened_count, {REASON_OF_CASE} AS reason, "
            "(SELECT COUNT(*) FROM replies r WHERE r.case_id = c.id AND r.status = 'sent') AS replies_sent, "
            # Nothing in a case happens before it arrives: its DMs and moves to DM are found by time.
            "CASE WHEN c.tweet_id IS NULL THEN 'dm' WHEN c.id IN (SELECT e.case_id FROM events e "
            "WHERE e.kind IN ('moved_to_dm', 'dm_sent') AND e.at >= ? UNION SELECT m.case_id FROM dm_events m "
            "WHERE m.created_at >= ?) THEN 'both' ELSE 'public' END AS channel, "
            # The durations from the generated offsets (milliseconds from arrival), as the report takes them.
            "MAX(0, c.report_posted_ms) / 1000.0 AS time_to_card, "
            "MAX(0, c.report_claimed_ms - c.report_posted_ms) / 1000.0 AS time_to_claim, "
            "MAX(0, c.report_answered_ms) / 1000.0 AS time_to_first_response, "
            "CASE WHEN c.report_answered_ms >= c.report_posted_ms "
            "THEN (c.report_answered_ms - c.report_posted_ms) / 1000.0 END AS first_response_after_posting, "
            "MAX(0, c.report_resolved_ms) / 1000.0 AS time_to_resolve, "
            "NULL AS business_first_response, NULL AS business_resolve "
            "FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id LEFT JOIN dm_events d ON d.id = c.dm_event_id "
            f"{REASON_JOIN} WHERE {where} {_CSV_ORDER}",
            [since, since, *params],
        ),
    )
    if business is None:
        return rows
    offsets = _read_pass(db, _INSTANTS, where, params, order=_CSV_ORDER)
    spans = _open_durations(business, _instants(offsets), datetime.now(UTC))
    first, resolve = ([None if np.isnan(s) else float(s) for s in spans[name]] for name in ("first", "resolve"))
    return [row._replace(business_first_response=first[n], business_resolve=resolve[n]) for n, row in enumerate(rows)]


def _cases_in_dm(db: sqlite_utils.Database, start: datetime, where: str, params: list) -> set[int]:
    """The period's cases with any DM either way, or a move to DM (found through the events' and DMs'
    time indexes, then kept if the case is the period's: nothing in a case happens before it arrives)."""
    since = to_iso(start)
    return {
        row[0]
        for row in db.execute(
            # CROSS JOIN: SQLite reads the (few) events first, then looks their cases up.
            "SELECT e.case_id FROM events e CROSS JOIN cases c ON c.id = e.case_id "
            f"WHERE e.kind IN ('moved_to_dm', 'dm_sent') AND e.at >= ? AND {where} "
            "UNION SELECT d.case_id FROM dm_events d CROSS JOIN cases c ON c.id = d.case_id "
            f"WHERE d.created_at >= ? AND {where}",
            [since, *params, since, *params],
        )
    }


def _dm_answers(db: sqlite_utils.Database, start: datetime, where: str, params: list) -> Stat:
    """From the customer's first DM in a case to the brand's first DM after it (docs/metrics.md)."""
    since = to_iso(start)
    rows = db.execute(
        "WITH first_in AS (SELECT d.case_id, MIN(d.created_at) AS at FROM dm_events d "
        "WHERE d.direction = 'in' AND d.case_id IS NOT NULL AND d.created_at >= ? GROUP BY d.case_id) "
        "SELECT f.case_id, (SELECT " + _seconds("f.at", "MIN(r.sent_at)") + " FROM replies r "
        "WHERE r.case_id = f.case_id AND r.kind = 'dm' AND r.status = 'sent' AND r.sent_at >= f.at) "
        f"FROM first_in f WHERE f.case_id IN (SELECT c.id FROM cases c WHERE {where})",
        [since, *params],
    ).fetchall()
    return Stat.of([row[1] for row in rows])


class Breakdown(StrEnum):
    """The report's breakdowns (`/perch report … by X`); each is computed only when it is shown."""

    AGENT = "agent"
    HOUR = "hour"
    LOCATION = "location"
    REASON = "reason"


class _Flag(IntFlag):
    """Bits of `cases.report_flags` (migration 16)."""

    RESOLVED = 1
    REOPENED = 2
    BY_DM = 4  # opened by a DM


_QUARTER_MS = 900_000  # every UTC offset since 1980 is a whole number of quarter hours, and so are its changes


# What the period's pass reads per case, from the `cases_report` index (whose generated columns hold
# each case's arrival and the milliseconds from it to each later instant): nothing is computed per case
# at report time. Each name's type in the columns read: offsets as float (NaN: no such instant).
_PASS = {
    "flags": ("c.report_flags", np.int64),
    "arrived": ("c.report_arrived_ms", np.int64),
    "posted": ("c.report_posted_ms", np.float64),
    "claimed": ("c.report_claimed_ms", np.float64),
    "answered": ("c.report_answered_ms", np.float64),
    "resolved": ("c.report_resolved_ms", np.float64),
    "assignee": ("c.assignee", np.object_),
    "resolver": ("c.resolved_by", np.object_),
}
_HEADLINE = ("flags", "arrived", "answered", "resolved")
_INSTANTS = ("arrived", "posted", "claimed", "answered", "resolved")
_ALL = (*_HEADLINE, "posted", "claimed")


def _read_pass(
    db: sqlite_utils.Database, names: tuple[str, ...], where: str, params: list, order: str = ""
) -> dict[str, np.ndarray]:
    """The named columns of the period's cases, in one order (`order`: an ORDER BY, when the rows must
    line up with another query's). The rows become one record array at once, then a column per name."""
    rows = db.execute(
        f"SELECT {', '.join(_PASS[name][0] for name in names)} FROM cases c WHERE {where} {order}", params
    ).fetchall()
    table = np.array(rows, dtype=[(name, _PASS[name][1]) for name in names])
    return {name: np.ascontiguousarray(table[name]) for name in names}


def _unix_ms(moment: datetime) -> int:
    """Whole Unix milliseconds, as an instant is stored (to the millisecond, the rest cut)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _since_arrival(milliseconds: Seconds) -> Seconds:
    """Seconds from a case's arrival to a later instant, never negative (NaN: no such instant)."""
    return np.maximum(milliseconds, 0.0) / 1000.0


def build_report(
    db: sqlite_utils.Database,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    timezone: str = "UTC",
    sla_minutes: float = 60,
    resolve_hours: float = 24,
    agent: str | None = None,
    location: str | None = None,
    breakdown: Breakdown | None = None,
    business: BusinessClock | None = None,
    headline: bool = False,
) -> Report:
    """The figures of `docs/metrics.md` for one period, from one read of its cases; `breakdown` computes
    that breakdown only (None: all of them; `agent` includes the workload), `headline` stops at the
    figures a previous period is compared on (in, handled, answered, SLA breaches, first response,
    resolve)."""
    where, params = _period(start, end, agent, location)
    sla_cutoff, resolve_cutoff = now - timedelta(minutes=sla_minutes), now - timedelta(hours=resolve_hours)
    names = _HEADLINE if headline else _ALL
    if breakdown in (None, Breakdown.AGENT) and not headline:
        names = (*names, "assignee", "resolver")
    columns = _read_pass(db, names, where, params)
    flags = columns["flags"]
    offsets = {name: columns[name] for name in _INSTANTS if name in names}  # milliseconds; NaN: none
    first, resolve = _since_arrival(offsets["answered"]), _since_arrival(offsets["resolved"])
    answered, resolved = ~np.isnan(first), (flags & _Flag.RESOLVED.value) != 0
    arrived = columns["arrived"]
    past_sla = ~answered & (arrived < _unix_ms(sla_cutoff))  # unanswered, and waiting past the target

    def having(flag: _Flag) -> int:
        return int(np.count_nonzero(flags & flag.value))

    report = Report(start, end, sla_target_minutes=sla_minutes, resolve_target_hours=resolve_hours)
    report.volume_in = int(flags.size)
    report.answered = int(np.count_nonzero(answered))
    report.handled = int(np.count_nonzero(answered | resolved))
    report.open = report.volume_in - int(np.count_nonzero(resolved))
    report.reopened = having(_Flag.REOPENED)
    answers = sorted_present(first)
    report.first_responses = answers.tolist()
    report.time_to_first_response = Stat.of_sorted(answers)
    report.time_to_resolve = Stat.of_column(resolve)
    target = sla_minutes * 60
    if business is None:
        report.sla_breaches = above(answers, target) + int(np.count_nonzero(past_sla))
    else:
        report.business, report.sla_breaches = _business_times(business, _instants(offsets), now, target)
    if headline:
        return report
    posted = offsets["posted"]
    report.time_to_card = Stat.of_column(_since_arrival(posted))
    report.time_to_claim = Stat.of_column(np.maximum(offsets["claimed"] - posted, 0.0) / 1000.0)
    after_card = offsets["answered"] - posted  # NaN when either is missing
    report.first_response_after_posting = Stat.of_column(np.where(after_card >= 0, after_card / 1000.0, np.nan))
    report.answered_before_card = int(np.count_nonzero(after_card < 0))
    _add_arrivals(report, arrived, first, ZoneInfo(timezone))
    report.unanswered_overdue = int(np.count_nonzero(~answered & ~resolved & (arrived < _unix_ms(resolve_cutoff))))
    if report.unanswered_overdue:
        report.overdue = _overdue(db, where, params, resolve_cutoff)
    if breakdown in (None, Breakdown.AGENT):
        closed = Counter(compress(columns["resolver"], resolved.tolist()))
        cases = _Cases(where, params, narrowed=bool(agent or location))
        report.by_agent = _by_agent(db, columns["assignee"], first, resolve, closed, (start, end), cases)
        _add_workload(report.by_agent, db, (start, end), min(end, now), cases)
    if breakdown in (None, Breakdown.LOCATION):
        report.by_location = _by_location(db, start, end, location)
    if breakdown in (None, Breakdown.REASON):
        report.by_reason = _by_reason(db, where, params)
    dm_only = having(_Flag.BY_DM)
    both = len(_cases_in_dm(db, start, where, params)) - dm_only
    report.channels = {"public": report.volume_in - dm_only - both, "dm": dm_only, "both": both}
    report.time_to_dm_answer = _dm_answers(db, start, where, params)
    report.review = _review(db, where, params)
    return report


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


# A case's contact reason (docs/metrics.md, "By reason"), over `cases c` joined with REASON_JOIN.
REASON_OF_CASE = "COALESCE(c.reason, 'Surge: ' || i.label, c.suggested_reason, '')"
REASON_JOIN = "LEFT JOIN incidents i ON i.id = c.incident_id"


def _by_reason(db: sqlite_utils.Database, where: str, params: list) -> list[dict]:
    """Per reason (picked at resolve, else the case's surge topic, else the suggestion): cases, how many
    had it picked, p50 time to resolve; most cases first."""
    rows = db.execute(
        f"SELECT {REASON_OF_CASE}, c.reason IS NOT NULL, "
        "MAX(0, c.report_resolved_ms) / 1000.0 "
        f"FROM cases c {REASON_JOIN} WHERE {where}",
        params,
    ).fetchall()
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for reason, picked, resolve in rows:
        grouped[reason].append((picked, resolve))
    out = [
        {
            "reason": reason,
            "cases": len(items),
            "picked": sum(1 for picked, _ in items if picked),
            "resolve": Stat.of([resolve for _, resolve in items]),
        }
        for reason, items in grouped.items()
    ]
    return sorted(out, key=lambda r: (r["reason"] == "", -r["cases"], r["reason"]))


def _instants(offsets: dict[str, Seconds]) -> dict[str, Seconds]:
    """Each case's instants that were read, as Unix seconds (NaN: none), from its arrival (Unix
    milliseconds) and the milliseconds from it to each later instant."""
    arrived = offsets["arrived"]
    return {name: (arrived if name == "arrived" else arrived + offsets[name]) / 1000.0 for name in offsets}


def _business_times(
    clock: BusinessClock, instants: dict[str, Seconds], now: datetime, target: float
) -> tuple[BusinessTimes | None, int]:
    """The durations in business time (when every instant was read; None for a headline), and the SLA
    breaches counted in it (an unanswered case breaches once the business time since its tweet passes
    the target)."""
    spans = _open_durations(clock, instants, now)
    waited_ms = np.rint(np.where(np.isnan(spans["first"]), spans["waiting"], spans["first"]) * 1000)
    breaches = int(np.count_nonzero(waited_ms > round(target * 1000)))
    if not all(name in spans for name in ("claim", "resolve")):
        return None, breaches
    claim, first, resolve = (Stat.of_column(spans[name]) for name in ("claim", "first", "resolve"))
    return BusinessTimes(claim, first, resolve), breaches


# Each duration in business time, between the two instants named (docs/metrics.md, "Business hours").
_SPANS = {"claim": ("posted", "claimed"), "first": ("arrived", "answered"), "resolve": ("arrived", "resolved")}


def _open_durations(clock: BusinessClock, instants: dict[str, Seconds], now: datetime) -> dict[str, Seconds]:
    """Per case: its claim, first response and resolve in business time (those whose two instants are
    among `instants`), and the business time from its arrival until now (NaN where there is none)."""
    count = instants["arrived"].size
    at = clock.open_seconds(np.concatenate([*instants.values(), [now.timestamp()]]))
    opened = {name: at[n * count : (n + 1) * count] for n, name in enumerate(instants)}

    def between(start: Seconds, end: Seconds) -> Seconds:
        return np.maximum(end - start, 0.0)  # NaN stays NaN

    spans = {span: between(opened[a], opened[b]) for span, (a, b) in _SPANS.items() if a in opened and b in opened}
    spans["waiting"] = between(opened["arrived"], np.full(count, at[-1]))
    return spans


def report_with_previous(
    db: sqlite_utils.Database, start: datetime, end: datetime, **kwargs: Any
) -> tuple[Report, Report]:
    """The period's report and the one just before it, of the same length (its headline figures, for ▲/▼)."""
    before = {**kwargs, "headline": True}
    return build_report(db, start, end, **kwargs), build_report(db, start - (end - start), start, **before)


OVERDUE_LISTED = 10


def _overdue(db: sqlite_utils.Database, where: str, params: list, cutoff: datetime) -> list[Overdue]:
    """The oldest of the period's cases that are open, unanswered and older than `cutoff`."""
    return rows_as(
        Overdue,
        db.execute(
            "SELECT c.id AS case_id, c.tweet_id, COALESCE(t.author_handle, d.sender_handle, '') AS author_handle, "
            "c.tweet_created_at, c.conversation_id FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id "
            f"LEFT JOIN dm_events d ON d.id = c.dm_event_id WHERE {where} AND c.first_response_at IS NULL "
            "AND c.status != 'resolved' AND c.tweet_created_at < ? ORDER BY c.tweet_created_at LIMIT ?",
            [*params, to_iso(cutoff), OVERDUE_LISTED],
        ),
    )


def _review(db: sqlite_utils.Database, where: str, params: list) -> Review | None:
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


class _Cases(NamedTuple):
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


def _by_agent(
    db: sqlite_utils.Database,
    assignees: npt.NDArray[np.object_],
    first: Seconds,
    resolve: Seconds,
    closed: Counter[str],
    period: tuple[datetime, datetime],
    cases: _Cases,
) -> list[dict]:
    """Per assignee: cases, replies they sent, cases they resolved (`closed`), p50 first response and
    resolve, and how many of their cases were answered (their response rate)."""
    of_the_cases, narrowing = cases.kept_in("r")
    sent = dict(
        db.execute(
            # Each reply carries its case's arrival (migration 17): the period's replies are one range.
            "SELECT r.sent_by, COUNT(*) FROM replies r WHERE r.case_arrived >= ? AND r.case_arrived < ? "
            f"AND r.status = 'sent' AND r.source = 'perch'{of_the_cases} GROUP BY r.sent_by",
            [to_iso(period[0]), to_iso(period[1]), *narrowing],
        ).fetchall()
    )
    names, codes = group_codes(assignees)
    out = [
        {
            "agent": agent,
            "cases": int(rows.size),
            "replies": sent.get(agent, 0),
            "resolved": closed.get(agent, 0),
            "answered": int(np.count_nonzero(~np.isnan(first[rows]))),
            "first_response": Stat.of_column(first[rows]),
            "resolve": Stat.of_column(resolve[rows]),
        }
        for agent, rows in zip(names, groups(codes, len(names)), strict=True)
    ]
    return sorted(out, key=lambda r: (-r["cases"], r["agent"]))


def _add_workload(
    agents: list[dict],
    db: sqlite_utils.Database,
    period: tuple[datetime, datetime],
    end: datetime,
    cases: _Cases,
) -> None:
    """Per agent, over the period: how many of its cases they held at once (peak, and the median over
    the time they held any), the hours they held any, cases they resolved per such hour, and how many
    of their cases were reassigned away from them (docs/metrics.md, "Workload").

    The holds are rows the database writes as the events are appended (migration 16, in Julian days,
    with their case's arrival); nothing in a case happens before it arrives, so the period's are found
    by when they began, then by their case's arrival (and, for a report narrowed to an agent or a
    location, by the case itself): one range of the holder's index per agent. The period's holds are
    counted up to `end` (the period's, or now)."""
    start = period[0]
    since, until = _jd(start), _jd(end)
    given_away = dict(
        db.execute(
            "SELECT json_extract(e.detail, '$.from'), COUNT(*) FROM events e CROSS JOIN cases c ON c.id = e.case_id "
            f"WHERE e.kind = 'reassigned' AND e.at >= ? AND e.at < ? AND {cases.where} GROUP BY 1",
            [to_iso(start), to_iso(end), *cases.params],
        ).fetchall()
    )
    of_the_cases, narrowing = cases.kept_in("h")
    for row in agents:
        holds = db.execute(
            "SELECT h.began, h.ended FROM holds h WHERE h.holder = ? AND h.began >= ? AND h.began < ? "
            "AND h.case_arrived >= ? AND h.case_arrived < ?" + of_the_cases,
            [row["agent"], since, until, to_iso(period[0]), to_iso(period[1]), *narrowing],
        ).fetchall()
        began, ended = zip(*holds, strict=True) if holds else ((), ())
        starts = column(began)
        ends = np.minimum(np.nan_to_num(column(ended), nan=until), until)  # still held: until the period's end
        lasting = ends > starts  # a hold ended in the millisecond it began held nothing
        peak, median, days = concurrency(starts[lasting], ends[lasting])
        hours = days * 24
        row.update(
            peak=peak,
            median_concurrent=median,
            agent_hours=round(hours, 6),
            per_agent_hour=round(row["resolved"] / hours, 6) if hours else None,
            reassigned_away=given_away.get(row["agent"], 0),
        )


def _jd(moment: datetime) -> float:
    """A Julian day number, as SQLite's julianday() gives it."""
    return moment.timestamp() / 86400.0 + 2440587.5


def _by_location(db: sqlite_utils.Database, start: datetime, end: datetime, location: str | None) -> list[dict]:
    params = [to_iso(start), to_iso(end)] + ([location] if location else [])
    rows = db.execute(
        "SELECT location, requested_at, acknowledged_at, resolved_at FROM escalations WHERE slack_ts IS NOT NULL "
        "AND requested_at >= ? AND requested_at < ?" + (" AND location = ?" if location else ""),
        params,
    ).fetchall()
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    out = []
    for code, items in sorted(grouped.items()):

        def span(a: str | None, b: str | None) -> float | None:
            return (from_iso(b) - from_iso(a)).total_seconds() if a and b else None

        out.append(
            {
                "location": code,
                "escalations": len(items),
                "acknowledge": Stat.of([span(r[1], r[2]) for r in items]),
                "resolve": Stat.of([span(r[1], r[3]) for r in items]),
                "waiting": sum(1 for r in items if not r[2] and not r[3]),
            }
        )
    return out
