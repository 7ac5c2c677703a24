"""The report's breakdowns (`/perch report … by agent|location|reason|queue`): its figures again per group.

Each breakdown is computed only when it is shown, so each reads what it needs on its own: per agent
from the period's pass (plus their replies and their holds, for the workload), per location from the
escalations, per reason from the cases. Kept apart from the headline figures (`storage/metrics.py`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

import numpy as np
import numpy.typing as npt

from storage.csat import Csat, csat_by
from storage.db import from_iso, to_iso
from storage.engine import Database
from storage.lifecycle import EventKind
from storage.report_cases import QUEUE_OF_CASE, REASON_JOIN, REASON_OF_CASE, Cases
from storage.stats import Seconds, Stat, column, concurrency, group_codes, groups


def by_reason(db: Database, where: str, params: list) -> list[dict]:
    """Per reason (picked at resolve, else the case's surge topic, else the suggestion): cases, how many
    had it picked, p50 time to resolve, satisfaction; most cases first."""
    grouped, scores = _per_group(
        db, REASON_OF_CASE, "c.reason IS NOT NULL, MAX(0, c.report_resolved_ms) / 1000.0", where, params, REASON_JOIN
    )
    out = [
        {
            "reason": reason,
            "cases": len(items),
            "picked": sum(1 for picked, _ in items if picked),
            "resolve": Stat.of([resolve for _, resolve in items]),
            "csat": scores.get(reason, Csat()),
        }
        for reason, items in grouped.items()
    ]
    return sorted(out, key=lambda r: (r["reason"] == "", -r["cases"], r["reason"]))


def by_queue(db: Database, where: str, params: list) -> list[dict]:
    """Per queue (the channel its route chose; "" the default queue): cases, how many were answered,
    p50 first response and resolve, satisfaction; most cases first."""
    grouped, scores = _per_group(
        db, QUEUE_OF_CASE, "c.report_answered_ms / 1000.0, MAX(0, c.report_resolved_ms) / 1000.0", where, params
    )
    out = [
        {
            "queue": queue,
            "cases": len(items),
            "answered": sum(1 for first, _ in items if first is not None),
            "first_response": Stat.of([first for first, _ in items]),
            "resolve": Stat.of([resolve for _, resolve in items]),
            "csat": scores.get(queue, Csat()),
        }
        for queue, items in grouped.items()
    ]
    return sorted(out, key=lambda r: (-r["cases"], r["queue"]))


def _per_group(
    db: Database, key: str, values: str, where: str, params: list, join: str = ""
) -> tuple[dict[str, list[tuple]], dict[str, Csat]]:
    """The period's cases grouped by the SQL `key` (each a tuple of the SQL `values`), and their
    satisfaction by the same key: what a per-group breakdown (reason, queue) starts from."""
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for group, *rest in db.execute(f"SELECT {key}, {values} FROM cases c {join} WHERE {where}", params).fetchall():
        grouped[group].append(tuple(rest))
    return grouped, csat_by(db, key, where, params)


def by_agent(
    db: Database,
    assignees: npt.NDArray[np.object_],
    first: Seconds,
    resolve: Seconds,
    closed: Counter[str],
    period: tuple[datetime, datetime],
    cases: Cases,
) -> list[dict]:
    """Per assignee: cases, replies they sent, cases they resolved (`closed`), p50 first response and
    resolve, how many of their cases were answered (their response rate), and their customers'
    satisfaction."""
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
    scores = csat_by(db, "c.assignee", cases.where, cases.params)
    out = [
        {
            "agent": agent,
            "cases": int(rows.size),
            "replies": sent.get(agent, 0),
            "resolved": closed.get(agent, 0),
            "answered": int(np.count_nonzero(~np.isnan(first[rows]))),
            "first_response": Stat.of_column(first[rows]),
            "resolve": Stat.of_column(resolve[rows]),
            "csat": scores.get(agent, Csat()),
        }
        for agent, rows in zip(names, groups(codes, len(names)), strict=True)
    ]
    return sorted(out, key=lambda r: (-r["cases"], r["agent"]))


def add_workload(
    agents: list[dict],
    db: Database,
    period: tuple[datetime, datetime],
    end: datetime,
    cases: Cases,
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
            f"WHERE e.kind = '{EventKind.REASSIGNED}' AND e.at >= ? AND e.at < ? AND {cases.where} GROUP BY 1",
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


def by_location(db: Database, start: datetime, end: datetime, location: str | None) -> list[dict]:
    """Per location: its escalations, how long they took to be acknowledged and resolved, and how many
    still wait for either."""
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
