"""Every case of a report as one row, for the CSV `/perch report … csv` attaches.

The report itself (`storage/metrics.py`) only counts; the CSV lists each case with its instants and
durations, taken from the same generated offsets so the two always agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np

from storage.business_time import BusinessClock, instants, open_durations
from storage.db import rows_as_named, to_iso
from storage.engine import Database
from storage.lifecycle import TO_DM_KINDS
from storage.report_cases import INSTANTS, REASON_JOIN, REASON_OF_CASE, period_cases, read_pass


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
    csat_score: int | None = None  # the customer's answer to the satisfaction survey, 1-5
    csat_comment: str | None = None


_CSV_ORDER = "ORDER BY c.tweet_created_at, c.id"  # the CSV's rows, and their business times beside them

_ROWS = (
    "SELECT c.id AS case_id, c.tweet_id, COALESCE(t.author_handle, d.sender_handle, '') AS author_handle, "
    "c.tweet_created_at, c.posted_at, c.claimed_at, c.first_response_at, c.resolved_at, c.status, "
    f"c.assignee, c.location, c.reopened_count, {REASON_OF_CASE} AS reason, "
    "(SELECT COUNT(*) FROM replies r WHERE r.case_id = c.id AND r.status = 'sent') AS replies_sent, "
    # Nothing in a case happens before it arrives: its DMs and moves to DM are found by time.
    "CASE WHEN c.tweet_id IS NULL THEN 'dm' WHEN c.id IN (SELECT e.case_id FROM events e "
    f"WHERE e.kind IN {TO_DM_KINDS} AND e.at >= ? UNION SELECT m.case_id FROM dm_events m "
    "WHERE m.created_at >= ?) THEN 'both' ELSE 'public' END AS channel, "
    # The durations from the generated offsets (milliseconds from arrival), as the report takes them.
    "MAX(0, c.report_posted_ms) / 1000.0 AS time_to_card, "
    "MAX(0, c.report_claimed_ms - c.report_posted_ms) / 1000.0 AS time_to_claim, "
    "MAX(0, c.report_answered_ms) / 1000.0 AS time_to_first_response, "
    "CASE WHEN c.report_answered_ms >= c.report_posted_ms "
    "THEN (c.report_answered_ms - c.report_posted_ms) / 1000.0 END AS first_response_after_posting, "
    "MAX(0, c.report_resolved_ms) / 1000.0 AS time_to_resolve, "
    "NULL AS business_first_response, NULL AS business_resolve, s.score AS csat_score, s.comment AS csat_comment "
    "FROM cases c LEFT JOIN tweets t ON t.id = c.tweet_id LEFT JOIN dm_events d ON d.id = c.dm_event_id "
    "LEFT JOIN csat_surveys s ON s.case_id = c.id "
    f"{REASON_JOIN} WHERE "
)


def case_rows(
    db: Database,
    start: datetime,
    end: datetime,
    *,
    agent: str | None = None,
    location: str | None = None,
    queue: str | None = None,
    business: BusinessClock | None = None,
) -> list[CaseRow]:
    """Every case of a report with its instants and durations (the CSV export); with `business`, the
    first response and resolve in business time too."""
    where, params = period_cases(start, end, agent, location, queue)
    since = to_iso(start)
    rows = rows_as_named(CaseRow, db.execute(f"{_ROWS}{where} {_CSV_ORDER}", [since, since, *params]))
    if business is None:
        return rows
    offsets = read_pass(db, INSTANTS, where, params, order=_CSV_ORDER)
    spans = open_durations(business, instants(offsets), datetime.now(UTC))
    first, resolve = ([None if np.isnan(s) else float(s) for s in spans[name]] for name in ("first", "resolve"))
    return [row._replace(business_first_response=first[n], business_resolve=resolve[n]) for n, row in enumerate(rows)]
