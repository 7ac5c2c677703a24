"""A report as a CSV file: one row per case, for a spreadsheet. Pure: rows in, text out."""

from __future__ import annotations

import csv
import io

from bot.blocks.common import tweet_url
from storage.case_rows import CaseRow
from storage.lifecycle import CaseStatus

CSV_COLUMNS = [
    "case_id",
    "tweet_id",
    "tweet_link",
    "author",
    "tweeted_at",
    "posted_at",
    "claimed_at",
    "first_response_at",
    "answered",
    "reason",
    "resolved_at",
    "status",
    "channel",
    "assignee",
    "location",
    "reopened",
    "replies_sent",
    "minutes_to_card",
    "minutes_to_claim",
    "minutes_to_first_response",
    "minutes_to_resolve",
    "business_minutes_to_first_response",
    "business_minutes_to_resolve",
    "csat_score",
    "csat_comment",
]


def report_csv(cases: list[CaseRow]) -> str:
    """One row per case; times in UTC ISO 8601, durations in minutes (opens in any spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_row(c) for c in cases)
    return out.getvalue()


def _csv_row(c: CaseRow) -> list[str | int]:
    return [
        c.case_id,
        c.tweet_id or "",
        tweet_url(c.author_handle, c.tweet_id) if c.tweet_id else "",
        _cell(c.author_handle),
        c.tweet_created_at,
        c.posted_at or "",
        c.claimed_at or "",
        c.first_response_at or "",
        "yes" if c.first_response_at else "no",
        _cell(c.reason),
        c.resolved_at or "" if c.status == CaseStatus.RESOLVED else "",
        c.status,
        c.channel,
        c.assignee or "",
        c.location or "",
        c.reopened_count,
        c.replies_sent,
        *[
            "" if seconds is None else f"{seconds / 60:.1f}"
            for seconds in (
                c.time_to_card,
                c.time_to_claim,
                c.time_to_first_response,
                c.time_to_resolve,
                c.business_first_response,
                c.business_resolve,
            )
        ],
        "" if c.csat_score is None else c.csat_score,
        _cell(c.csat_comment or ""),
    ]


def _cell(text: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas: prefix them so they stay text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
