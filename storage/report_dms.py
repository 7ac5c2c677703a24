"""The report's DM figures: which of a period's cases went to DM, and how long the brand took to answer
a customer's first DM (docs/metrics.md). Read with their own queries, through the DM and event time
indexes, beside the period's pass (`storage/metrics.py`).
"""

from __future__ import annotations

from datetime import datetime

from storage.db import to_iso
from storage.engine import Database
from storage.lifecycle import TO_DM_KINDS
from storage.replies import CSAT_SOURCE
from storage.stats import Stat


def _seconds(start: str, end: str) -> str:
    """SQL for `end - start` in seconds, never negative, NULL when either is missing."""
    return f"MAX(0.0, (julianday({end}) - julianday({start})) * 86400.0)"


def cases_in_dm(db: Database, start: datetime, where: str, params: list) -> set[int]:
    """The period's cases with any DM either way, or a move to DM (found through the events' and DMs'
    time indexes, then kept if the case is the period's: nothing in a case happens before it arrives)."""
    since = to_iso(start)
    return {
        row[0]
        for row in db.execute(
            # CROSS JOIN: SQLite reads the (few) events first, then looks their cases up.
            "SELECT e.case_id FROM events e CROSS JOIN cases c ON c.id = e.case_id "
            f"WHERE e.kind IN {TO_DM_KINDS} AND e.at >= ? AND {where} "
            "UNION SELECT d.case_id FROM dm_events d CROSS JOIN cases c ON c.id = d.case_id "
            f"WHERE d.created_at >= ? AND {where}",
            [since, *params, since, *params],
        )
    }


def dm_answers(db: Database, start: datetime, where: str, params: list) -> Stat:
    """From the customer's first DM in a case to the brand's first DM after it (docs/metrics.md)."""
    since = to_iso(start)
    rows = db.execute(
        "WITH first_in AS (SELECT d.case_id, MIN(d.created_at) AS at FROM dm_events d "
        "WHERE d.direction = 'in' AND d.case_id IS NOT NULL AND d.created_at >= ? GROUP BY d.case_id) "
        "SELECT f.case_id, (SELECT " + _seconds("f.at", "MIN(r.sent_at)") + " FROM replies r "
        "WHERE r.case_id = f.case_id AND r.kind = 'dm' AND r.status = 'sent' AND r.sent_at >= f.at "
        f"AND r.source != '{CSAT_SOURCE}') "
        f"FROM first_in f WHERE f.case_id IN (SELECT c.id FROM cases c WHERE {where})",
        [since, *params],
    ).fetchall()
    return Stat.of([row[1] for row in rows])
