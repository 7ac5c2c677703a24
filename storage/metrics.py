"""The figures behind `/perch report`, computed exactly as `docs/metrics.md` defines them.

One query reads the period's cases (by their first tweet's time, through an index); escalations and
replies are read for those cases only. Percentiles are computed in Python over those rows.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from storage.db import from_iso, to_iso


@dataclass(frozen=True)
class CaseRow:
    """One case with the instants the metrics need, and its durations in seconds (computed by SQLite)."""

    case_id: int
    tweet_id: str
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
    replies_sent: int
    time_to_card: float | None
    time_to_claim: float | None
    time_to_first_response: float | None
    first_response_after_posting: float | None
    resolved_after: float | None

    @property
    def time_to_resolve(self) -> float | None:
        return self.resolved_after if self.status == "resolved" else None


def _seconds(start: str, end: str) -> str:
    """SQL for `end - start` in seconds, never negative, NULL when either is missing."""
    return f"MAX(0.0, ROUND((julianday({end}) - julianday({start})) * 86400.0, 3))"


@dataclass(frozen=True)
class Stat:
    """Percentiles over `count` values (seconds); None when there were none."""

    count: int
    p50: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float | None]) -> Stat:
        present = sorted(v for v in values if v is not None)
        return cls(len(present), percentile(present, 50), percentile(present, 90))


@dataclass
class Report:
    start: datetime
    end: datetime
    cases: list[CaseRow]
    volume_in: int = 0
    handled: int = 0
    open: int = 0
    reopened: int = 0
    time_to_card: Stat = field(default_factory=lambda: Stat(0, None, None))
    time_to_claim: Stat = field(default_factory=lambda: Stat(0, None, None))
    time_to_first_response: Stat = field(default_factory=lambda: Stat(0, None, None))
    first_response_after_posting: Stat = field(default_factory=lambda: Stat(0, None, None))
    time_to_resolve: Stat = field(default_factory=lambda: Stat(0, None, None))
    sla_target_minutes: float = 60
    sla_breaches: int = 0
    by_hour: dict[int, int] = field(default_factory=dict)
    by_agent: list[dict] = field(default_factory=list)
    by_location: list[dict] = field(default_factory=list)


def percentile(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def case_rows(db: sqlite_utils.Database, start: datetime, end: datetime, *, agent: str | None = None,
              location: str | None = None) -> list[CaseRow]:
    where, params = ["c.tweet_created_at >= ?", "c.tweet_created_at < ?"], [to_iso(start), to_iso(end)]
    if agent:
        where.append("c.assignee = ?")
        params.append(agent)
    if location:
        where.append("c.id IN (SELECT case_id FROM escalations WHERE location = ?)")
        params.append(location)
    rows = db.execute(
        "SELECT c.id, c.tweet_id, t.author_handle, c.tweet_created_at, c.posted_at, c.claimed_at, "
        "c.first_response_at, c.resolved_at, c.status, c.assignee, c.location, c.reopened_count, "
        "(SELECT COUNT(*) FROM replies r WHERE r.case_id = c.id AND r.status = 'sent'), "
        f"{_seconds('c.tweet_created_at', 'c.posted_at')}, {_seconds('c.posted_at', 'c.claimed_at')}, "
        f"{_seconds('c.tweet_created_at', 'c.first_response_at')}, {_seconds('c.posted_at', 'c.first_response_at')}, "
        f"{_seconds('c.tweet_created_at', 'c.resolved_at')} "
        f"FROM cases c JOIN tweets t ON t.id = c.tweet_id WHERE {' AND '.join(where)} "
        "ORDER BY c.tweet_created_at, c.id",
        params,
    ).fetchall()
    return [CaseRow(*row) for row in rows]


def build_report(db: sqlite_utils.Database, start: datetime, end: datetime, *, now: datetime,
                 timezone: str = "UTC", sla_minutes: float = 60, agent: str | None = None,
                 location: str | None = None) -> Report:
    cases = case_rows(db, start, end, agent=agent, location=location)
    report = Report(start, end, cases, sla_target_minutes=sla_minutes)
    report.volume_in = len(cases)
    report.handled = sum(1 for c in cases if c.first_response_at or c.status == "resolved")
    report.open = sum(1 for c in cases if c.status != "resolved")
    report.reopened = sum(1 for c in cases if c.reopened_count)
    report.time_to_card = Stat.of([c.time_to_card for c in cases])
    report.time_to_claim = Stat.of([c.time_to_claim for c in cases])
    report.time_to_first_response = Stat.of([c.time_to_first_response for c in cases])
    report.first_response_after_posting = Stat.of([c.first_response_after_posting for c in cases])
    report.time_to_resolve = Stat.of([c.time_to_resolve for c in cases])
    target = sla_minutes * 60
    report.sla_breaches = sum(1 for c in cases if _breached(c, target, now))
    report.by_hour = _by_hour(cases, ZoneInfo(timezone))
    report.by_agent = _by_agent(db, cases)
    report.by_location = _by_location(db, start, end, location)
    return report


def _breached(case: CaseRow, target: float, now: datetime) -> bool:
    if case.first_response_at:
        return (case.time_to_first_response or 0) > target
    return (now - from_iso(case.tweet_created_at)).total_seconds() > target


def _by_hour(cases: list[CaseRow], zone: ZoneInfo) -> dict[int, int]:
    """Cases by local hour of day: counted per UTC minute first (exact for every zone offset, and far
    fewer conversions than cases on a busy month), then converted."""
    buckets = Counter(c.tweet_created_at[:16] for c in cases)  # "2026-03-10T10:42"
    local: Counter[int] = Counter()
    for bucket, count in buckets.items():
        local[from_iso(bucket + ":00+00:00").astimezone(zone).hour] += count
    return dict(sorted(local.items()))


def _by_agent(db: sqlite_utils.Database, cases: list[CaseRow]) -> list[dict]:
    """Per assignee: cases, replies they sent, cases they resolved, p50 first response and resolve."""
    ids = [c.case_id for c in cases]
    sent: Counter[str] = Counter()
    resolved: Counter[str] = Counter()
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        marks = ",".join("?" for _ in chunk)
        sent.update(dict(db.execute(f"SELECT sent_by, COUNT(*) FROM replies WHERE status = 'sent' AND source = 'perch' "
                                    f"AND case_id IN ({marks}) GROUP BY sent_by", chunk).fetchall()))
        resolved.update(dict(db.execute(f"SELECT resolved_by, COUNT(*) FROM cases WHERE status = 'resolved' AND "
                                        f"id IN ({marks}) GROUP BY resolved_by", chunk).fetchall()))
    mine: dict[str, list[CaseRow]] = defaultdict(list)
    for case in cases:
        if case.assignee:
            mine[case.assignee].append(case)
    rows = [{"agent": agent, "cases": len(own), "replies": sent.get(agent, 0), "resolved": resolved.get(agent, 0),
             "first_response": Stat.of([c.time_to_first_response for c in own]),
             "resolve": Stat.of([c.time_to_resolve for c in own])}
            for agent, own in mine.items()]
    return sorted(rows, key=lambda r: (-r["cases"], r["agent"]))


def _by_location(db: sqlite_utils.Database, start: datetime, end: datetime, location: str | None) -> list[dict]:
    params = [to_iso(start), to_iso(end)] + ([location] if location else [])
    rows = db.execute(
        "SELECT location, requested_at, acknowledged_at, resolved_at FROM escalations WHERE slack_ts IS NOT NULL "
        "AND requested_at >= ? AND requested_at < ?" + (" AND location = ?" if location else ""), params).fetchall()
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    out = []
    for code, items in sorted(grouped.items()):
        def span(a: str | None, b: str | None) -> float | None:
            return (from_iso(b) - from_iso(a)).total_seconds() if a and b else None
        out.append({"location": code, "escalations": len(items),
                    "acknowledge": Stat.of([span(r[1], r[2]) for r in items]),
                    "resolve": Stat.of([span(r[1], r[3]) for r in items]),
                    "waiting": sum(1 for r in items if not r[2] and not r[3])})
    return out
