"""The figures behind `/perch report`, computed exactly as `docs/metrics.md` defines them.

One query reads the period's cases (by their first tweet's time, through an index); escalations and
replies are read for those cases only. Percentiles are computed in Python over those rows.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from storage.db import from_iso, rows_as, to_iso


@dataclass(frozen=True)
class CaseRow:
    """One case with the instants the metrics need, and its durations in seconds (computed by SQLite)."""

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
    resolved_after: float | None
    business_first_response: float | None = None  # seconds of business time (BUSINESS_HOURS set)
    business_resolve: float | None = None

    @property
    def time_to_resolve(self) -> float | None:
        return self.resolved_after if self.status == "resolved" else None


def _seconds(start: str, end: str) -> str:
    """SQL for `end - start` in seconds, never negative, NULL when either is missing."""
    return f"MAX(0.0, (julianday({end}) - julianday({start})) * 86400.0)"


def _seconds_if_after(start: str, end: str) -> str:
    """SQL for `end - start` in seconds, NULL when `end` came first (or either is missing)."""
    span = f"(julianday({end}) - julianday({start})) * 86400.0"
    return f"CASE WHEN {span} >= 0 THEN {span} END"


@dataclass(frozen=True)
class Stat:
    """Percentiles over `count` values (seconds); None when there were none."""

    count: int
    p50: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float | None]) -> Stat:
        present = sorted(v for v in values if v is not None)
        return cls(len(present), _ms(percentile(present, 50)), _ms(percentile(present, 90)))


def _ms(seconds: float | None) -> float | None:
    """Julian-day arithmetic is exact to about 10 µs: report to the millisecond."""
    return None if seconds is None else round(seconds, 3)


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


# Open seconds between two instants (BUSINESS_HOURS): handed in, so storage needs no rule of its own.
BusinessClock = Callable[[datetime, datetime], float]


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


def percentile(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


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


_DURATIONS = ", ".join(
    [
        _seconds("c.tweet_created_at", "c.posted_at") + " AS time_to_card",
        _seconds("c.posted_at", "c.claimed_at") + " AS time_to_claim",
        _seconds("c.tweet_created_at", "c.first_response_at") + " AS time_to_first_response",
        _seconds_if_after("c.posted_at", "c.first_response_at") + " AS first_response_after_posting",
        _seconds("c.tweet_created_at", "c.resolved_at") + " AS resolved_after",
    ]
)


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
    sent = dict(
        db.execute(
            f"SELECT r.case_id, COUNT(*) FROM replies r WHERE r.status = 'sent' AND r.case_id IN "
            f"(SELECT c.id FROM cases c WHERE {where}) GROUP BY r.case_id",
            params,
        ).fetchall()
    )
    rows = db.query(
        "SELECT c.id AS case_id, c.tweet_id, COALESCE(t.author_handle, d.sender_handle, '') AS author_handle, "
        "c.tweet_created_at, c.posted_at, c.claimed_at, "
        "c.first_response_at, c.resolved_at, c.status, c.assignee, c.location, c.reopened_count, "
        f"{REASON_OF_CASE} AS reason, {_DURATIONS} FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id "
        f"LEFT JOIN dm_events d ON d.id = c.dm_event_id {REASON_JOIN} WHERE {where} "
        "ORDER BY c.tweet_created_at, c.id",
        params,
    )
    in_dm = _cases_in_dm(db, start, where, params)

    def in_business(begin: str | None, finish: str | None) -> float | None:
        return business(from_iso(begin), from_iso(finish)) if business and begin and finish else None

    return [
        CaseRow(
            **row,
            replies_sent=sent.get(row["case_id"], 0),
            channel="dm" if row["tweet_id"] is None else "both" if row["case_id"] in in_dm else "public",
            business_first_response=in_business(row["tweet_created_at"], row["first_response_at"]),
            business_resolve=in_business(row["tweet_created_at"], row["resolved_at"])
            if row["status"] == "resolved"
            else None,
        )
        for row in rows
    ]


def _cases_in_dm(db: sqlite_utils.Database, start: datetime, where: str, params: list) -> set[int]:
    """The period's cases with any DM either way, or a move to DM (found through the events' and DMs'
    time indexes: nothing in a case happens before its first tweet)."""
    since = to_iso(start)
    return {
        row[0]
        for row in db.execute(
            "SELECT case_id FROM events WHERE kind IN ('moved_to_dm', 'dm_sent') AND at >= ? "
            "UNION SELECT case_id FROM dm_events WHERE case_id IS NOT NULL AND created_at >= ? "
            f"INTERSECT SELECT c.id FROM cases c WHERE {where}",
            [since, since, *params],
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
    workload: bool = True,
    business: BusinessClock | None = None,
    headline: bool = False,
) -> Report:
    """The figures of `docs/metrics.md` for one period, from one lean pass over its cases; `workload`
    adds each agent's concurrent cases (from the claim and resolve events: the `by agent` breakdown);
    `headline` stops at the summary's figures (what a previous period is compared on)."""
    where, params = _period(start, end, agent, location)
    rows = db.execute(
        f"SELECT c.status, c.assignee, c.tweet_created_at, c.reopened_count, {_DURATIONS}, "
        "julianday(c.first_response_at) < julianday(c.posted_at) "
        f"FROM cases c WHERE {where}",
        params,
    ).fetchall()
    report = Report(start, end, sla_target_minutes=sla_minutes, resolve_target_hours=resolve_hours)
    report.volume_in = len(rows)
    resolved = [r[8] if r[0] == "resolved" else None for r in rows]
    first = [r[6] for r in rows]
    report.handled = sum(1 for r, fr in zip(rows, first, strict=True) if fr is not None or r[0] == "resolved")
    report.open = sum(1 for r in rows if r[0] != "resolved")
    report.reopened = sum(1 for r in rows if r[3])
    report.time_to_card = Stat.of([r[4] for r in rows])
    report.time_to_claim = Stat.of([r[5] for r in rows])
    report.time_to_first_response = Stat.of(first)
    report.first_response_after_posting = Stat.of([r[7] for r in rows])
    report.answered_before_card = sum(1 for r in rows if r[9])
    report.time_to_resolve = Stat.of(resolved)
    report.first_responses = sorted(v for v in first if v is not None)
    target, cutoff = sla_minutes * 60, to_iso(now - timedelta(minutes=sla_minutes))
    report.sla_breaches = sum(
        1
        for r, fr in zip(rows, first, strict=True)
        if (fr is not None and round(fr, 3) > target) or (fr is None and r[2] < cutoff)
    )
    if business is not None:
        report.business, report.sla_breaches = _business_times(db, where, params, business, now, target)
    report.answered = sum(1 for fr in first if fr is not None)
    if headline:
        return report
    report.by_hour = _by_hour([r[2] for r in rows], ZoneInfo(timezone))
    if end - start > timedelta(days=2):
        report.daily = _daily([r[2] for r in rows], first, ZoneInfo(timezone))
    report.answered_by_hour = _by_hour(
        [r[2] for r, fr in zip(rows, first, strict=True) if fr is not None], ZoneInfo(timezone)
    )
    report.unanswered_overdue, report.overdue = _overdue(db, where, params, now - timedelta(hours=resolve_hours))
    report.by_agent = _by_agent(db, rows, first, resolved, where, params)
    if workload:
        _add_workload(report.by_agent, db, start, min(end, now), where, params)
    report.by_location = _by_location(db, start, end, location)
    dm_opened = db.execute(f"SELECT COUNT(*) FROM cases c WHERE c.dm_event_id IS NOT NULL AND {where}", params)
    dm_only = dm_opened.fetchone()[0]
    both = len(_cases_in_dm(db, start, where, params)) - dm_only
    report.channels = {"public": report.volume_in - dm_only - both, "dm": dm_only, "both": both}
    report.time_to_dm_answer = _dm_answers(db, start, where, params)
    report.review = _review(db, where, params)
    report.by_reason = _by_reason(db, where, params)
    return report


# A case's contact reason (docs/metrics.md, "By reason"), over `cases c` joined with REASON_JOIN.
REASON_OF_CASE = "COALESCE(c.reason, 'Surge: ' || i.label, c.suggested_reason, '')"
REASON_JOIN = "LEFT JOIN incidents i ON i.id = c.incident_id"


def _by_reason(db: sqlite_utils.Database, where: str, params: list) -> list[dict]:
    """Per reason (picked at resolve, else the case's surge topic, else the suggestion): cases, how many
    had it picked, p50 time to resolve; most cases first."""
    rows = db.execute(
        f"SELECT {REASON_OF_CASE}, c.reason IS NOT NULL, "
        f"CASE WHEN c.status = 'resolved' THEN {_seconds('c.tweet_created_at', 'c.resolved_at')} END "
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


def _business_times(
    db: sqlite_utils.Database, where: str, params: list, clock: BusinessClock, now: datetime, target: float
) -> tuple[BusinessTimes, int]:
    """The durations in business time, and the SLA breaches counted in it (an unanswered case breaches
    once the business time since its tweet passes the target)."""
    claims, firsts, resolves, breaches = [], [], [], 0
    for created, posted, claimed, answered, resolved, status in db.execute(
        "SELECT c.tweet_created_at, c.posted_at, c.claimed_at, c.first_response_at, c.resolved_at, c.status "
        f"FROM cases c WHERE {where}",
        params,
    ):
        tweeted = from_iso(created)
        claims.append(clock(from_iso(posted), from_iso(claimed)) if posted and claimed else None)
        first = clock(tweeted, from_iso(answered)) if answered else None
        firsts.append(first)
        resolves.append(clock(tweeted, from_iso(resolved)) if resolved and status == "resolved" else None)
        waited = first if first is not None else clock(tweeted, now)
        breaches += round(waited, 3) > target
    return BusinessTimes(Stat.of(claims), Stat.of(firsts), Stat.of(resolves)), breaches


def report_with_previous(
    db: sqlite_utils.Database, start: datetime, end: datetime, **kwargs: Any
) -> tuple[Report, Report]:
    """The period's report and the one just before it, of the same length (its headline figures, for ▲/▼)."""
    before = {**kwargs, "workload": False, "headline": True}
    return build_report(db, start, end, **kwargs), build_report(db, start - (end - start), start, **before)


OVERDUE_LISTED = 10


def _overdue(db: sqlite_utils.Database, where: str, params: list, cutoff: datetime) -> tuple[int, list[Overdue]]:
    """How many of the period's cases are open, unanswered and older than `cutoff`; the oldest few."""
    condition = f"{where} AND c.first_response_at IS NULL AND c.status != 'resolved' AND c.tweet_created_at < ?"
    count = db.execute(f"SELECT COUNT(*) FROM cases c WHERE {condition}", [*params, to_iso(cutoff)]).fetchone()[0]
    listed = rows_as(
        Overdue,
        db.execute(
            "SELECT c.id AS case_id, c.tweet_id, COALESCE(t.author_handle, d.sender_handle, '') AS author_handle, "
            "c.tweet_created_at, c.conversation_id FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id "
            f"LEFT JOIN dm_events d ON d.id = c.dm_event_id WHERE {condition} ORDER BY c.tweet_created_at LIMIT ?",
            [*params, to_iso(cutoff), OVERDUE_LISTED],
        ),
    )
    return int(count), listed


def _review(db: sqlite_utils.Database, where: str, params: list) -> Review | None:
    """The drafts of the period's cases: how many were decided which way, and held → approved."""
    rows = db.execute(
        "SELECT d.status, (julianday(d.decided_at) - julianday(d.created_at)) * 86400 "
        f"FROM drafts d JOIN cases c ON c.id = d.case_id WHERE {where}",
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


def _daily(created: list[str], first: list[float | None], zone: ZoneInfo) -> list[Day]:
    """Cases and p50 first response per local day; each UTC minute is converted once (exact for every
    zone offset)."""
    day_of: dict[str, str] = {}
    volume: Counter[str] = Counter()
    answers: dict[str, list[float | None]] = defaultdict(list)
    for stamp, seconds in zip(created, first, strict=True):
        minute = stamp[:16]
        day = day_of.get(minute)
        if day is None:
            day = day_of[minute] = from_iso(minute + ":00+00:00").astimezone(zone).date().isoformat()
        volume[day] += 1
        answers[day].append(seconds)
    return [Day(day, volume[day], Stat.of(answers[day]).p50) for day in sorted(volume)]


def _by_hour(created: list[str], zone: ZoneInfo) -> dict[int, int]:
    """Cases by local hour of day: counted per UTC minute first (exact for every zone offset, and far
    fewer conversions than cases on a busy month), then converted."""
    buckets = Counter(value[:16] for value in created)  # "2026-03-10T10:42"
    local: Counter[int] = Counter()
    for bucket, count in buckets.items():
        local[from_iso(bucket + ":00+00:00").astimezone(zone).hour] += count
    return dict(sorted(local.items()))


def _by_agent(
    db: sqlite_utils.Database, rows: list[tuple], first: list, resolved: list, where: str, params: list
) -> list[dict]:
    """Per assignee: cases, replies they sent, cases they resolved, p50 first response and resolve."""
    sent = dict(
        db.execute(
            f"SELECT sent_by, COUNT(*) FROM replies WHERE status = 'sent' AND source = 'perch' AND "
            f"case_id IN (SELECT c.id FROM cases c WHERE {where}) GROUP BY sent_by",
            params,
        ).fetchall()
    )
    closed = dict(
        db.execute(
            f"SELECT c.resolved_by, COUNT(*) FROM cases c WHERE c.status = 'resolved' AND {where} "
            "GROUP BY c.resolved_by",
            params,
        ).fetchall()
    )
    firsts: dict[str, list] = defaultdict(list)
    resolves: dict[str, list] = defaultdict(list)
    # `first` holds each case's time to first response (None: unanswered): an agent's response rate
    for row, fr, res in zip(rows, first, resolved, strict=True):
        if row[1]:
            firsts[row[1]].append(fr)
            resolves[row[1]].append(res)
    out = [
        {
            "agent": agent,
            "cases": len(firsts[agent]),
            "replies": sent.get(agent, 0),
            "resolved": closed.get(agent, 0),
            "answered": sum(1 for v in firsts[agent] if v is not None),
            "first_response": Stat.of(firsts[agent]),
            "resolve": Stat.of(resolves[agent]),
        }
        for agent in firsts
    ]
    return sorted(out, key=lambda r: (-r["cases"], r["agent"]))


HOLD_EVENTS = ("claimed", "unclaimed", "reassigned", "resolved", "reopened")


def _add_workload(
    agents: list[dict], db: sqlite_utils.Database, start: datetime, end: datetime, where: str, params: list
) -> None:
    """Per agent, over the period: how many of its cases they held at once (peak, and the median over
    the time they held any), the hours they held any, cases they resolved per such hour, and how many
    of their cases were reassigned away from them (docs/metrics.md, "Workload").

    Each claim, reassignment or reopen starts a hold (by the claimer, the new assignee, the assignee)
    that the case's next such event ends: SQLite pairs them (`LEAD`), in Julian days."""
    marks = ",".join("?" for _ in HOLD_EVENTS)
    holds = db.execute(
        "SELECT holder, MAX(began, ?), MIN(COALESCE(ended, ?), ?) FROM ("
        "  SELECT CASE e.kind WHEN 'claimed' THEN e.actor WHEN 'reassigned' THEN json_extract(e.detail, '$.to') "
        "  WHEN 'reopened' THEN json_extract(e.detail, '$.assignee') END AS holder, julianday(e.at) AS began, "
        # Ordered as the (case_id, at) index reads them: no sort (two of a case's events in the same
        # millisecond are in no particular order; a hold between them lasts 0 s either way).
        "  julianday(LEAD(e.at) OVER (PARTITION BY e.case_id ORDER BY e.at)) AS ended "
        # Nothing in a case happens before its first tweet: its events are found by time, through the
        # (kind, at) index, then kept if the case is the period's.
        f"  FROM events e WHERE e.kind IN ({marks}) AND e.at >= ? AND e.at < ? "
        f"  AND e.case_id IN (SELECT c.id FROM cases c WHERE {where})"
        ") WHERE holder IS NOT NULL AND COALESCE(ended, ?) > ?",
        [_jd(start), _jd(end), _jd(end), *HOLD_EVENTS, to_iso(start), to_iso(end), *params, _jd(end), _jd(start)],
    ).fetchall()
    given_away = dict(
        db.execute(
            "SELECT json_extract(e.detail, '$.from'), COUNT(*) FROM events e WHERE e.kind = 'reassigned' "
            f"AND e.at >= ? AND e.at < ? AND e.case_id IN (SELECT c.id FROM cases c WHERE {where}) GROUP BY 1",
            [to_iso(start), to_iso(end), *params],
        ).fetchall()
    )
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for holder, began, ended in holds:
        if ended > began:
            spans[holder].append((began, ended))
    for row in agents:
        peak, median, days = _concurrency(spans.get(row["agent"], []))
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


def _concurrency(spans: list[tuple[float, float]]) -> tuple[int, float | None, float]:
    """(peak, time-weighted median while holding any, time holding any) of overlapping spans."""
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    held: dict[int, float] = defaultdict(float)  # cases held at once → time
    count, peak, last = 0, 0, 0.0
    for at, step in edges:
        if count:
            held[count] += at - last
        count += step
        peak, last = max(peak, count), at
    total = sum(held.values())
    if not total:
        return peak, None, 0.0
    running = 0.0
    for level in sorted(held):
        running += held[level]
        if running >= total / 2:
            return peak, float(level), total
    return peak, None, total


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
