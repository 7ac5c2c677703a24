"""Report speed on a large database: 1,000,000 cases and about 5,000,000 events over a year.

Prints the time of the 30-day report (by agent, with the agents' workload; by hour; every breakdown;
beside the previous 30 days as `/perch report` computes it, and so in business hours too) and of its
CSV export.
The database is written directly (setup, not measured) through the bot's own schema and migrations.

    .venv/bin/python bench/report.py [--cases 1000000]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.blocks.reports import report_blocks, report_csv  # noqa: E402
from bot.domain.business_hours import parse_business_hours  # noqa: E402
from storage.case_rows import case_rows  # noqa: E402
from storage.db import Store, to_iso  # noqa: E402
from storage.metrics import Breakdown, build_report, report_with_previous  # noqa: E402

AGENTS = [f"U0AGENT{n:02d}" for n in range(40)]
OPEN = parse_business_hours("Mon-Fri 08:00-20:00; Sat 10:00-16:00", "America/New_York", "US")


def build(path: str, count: int, now: datetime) -> int:
    Store(path)
    conn = sqlite3.connect(path)
    rng = random.Random(5)
    span = timedelta(days=365).total_seconds()
    events = 0
    for base in range(0, count, 50_000):
        tweets, cases, replies, rows, escalations = [], [], [], [], []
        for n in range(base, min(base + 50_000, count)):
            created = now - timedelta(seconds=span * (1 - n / count))
            posted = created + timedelta(seconds=rng.randint(20, 120))
            claimed = posted + timedelta(seconds=rng.randint(30, 1800))
            answered = claimed + timedelta(seconds=rng.randint(60, 7200))
            resolved = answered + timedelta(seconds=rng.randint(600, 86400))
            agent = rng.choice(AGENTS)
            case_id, tweet_id = n + 1, str(1_600_000_000_000_000_000 + n)
            tweets.append(
                (tweet_id, str(n % 90_000), f"user{n % 90_000}", "@Brand help", to_iso(created), tweet_id, case_id)
            )
            cases.append(
                (
                    case_id,
                    tweet_id,
                    str(n % 90_000),
                    tweet_id,
                    "resolved",
                    agent,
                    to_iso(created),
                    to_iso(created),
                    to_iso(posted),
                    to_iso(claimed),
                    to_iso(answered),
                    to_iso(resolved),
                    agent,
                )
            )
            replies.append((case_id, f"k{case_id}", "reply", "perch", "sent", "Sorry!", agent, to_iso(answered)))
            rows += [
                (case_id, kind, actor, to_iso(moment), "{}")
                for kind, actor, moment in (
                    ("opened", "bot", created),
                    ("posted", "bot", posted),
                    ("claimed", agent, claimed),
                    ("replied", agent, answered),
                    ("resolved", agent, resolved),
                )
            ]
            if n % 50 == 0:
                escalations.append(
                    (
                        case_id,
                        rng.choice(["JFK", "LAX", "ORD", "BOS"]),
                        "normal",
                        "",
                        agent,
                        to_iso(answered),
                        "C0OPS",
                        f"{n}.1",
                        to_iso(answered + timedelta(minutes=4)),
                        to_iso(answered + timedelta(minutes=40)),
                    )
                )
        conn.executemany(
            "INSERT INTO tweets (id, author_id, author_handle, text, created_at, conversation_id, "
            "case_id) VALUES (?,?,?,?,?,?,?)",
            tweets,
        )
        conn.executemany(
            "INSERT INTO cases (id, tweet_id, author_id, conversation_id, status, assignee, "
            "tweet_created_at, opened_at, posted_at, claimed_at, first_response_at, resolved_at, "
            "resolved_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            cases,
        )
        conn.executemany(
            "INSERT INTO replies (case_id, idempotency_key, kind, source, status, text, sent_by, "
            "sent_at) VALUES (?,?,?,?,?,?,?,?)",
            replies,
        )
        conn.executemany("INSERT INTO events (case_id, kind, actor, at, detail) VALUES (?,?,?,?,?)", rows)
        conn.executemany(
            "INSERT INTO escalations (case_id, location, urgency, note, requested_by, requested_at, "
            "slack_channel, slack_ts, acknowledged_at, resolved_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            escalations,
        )
        conn.commit()
        events += len(rows)
    conn.execute("ANALYZE")
    conn.close()
    return events


def timed(label: str, work, repeat: int = 3) -> object:
    work()  # warm-up, not counted (the database's pages into the cache)
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    print(f"{label:32} {best:7.3f} s (best of {repeat})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="perch-bench-report-")
    try:
        measure(os.path.join(workdir, "perch.db"), args.cases)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # a 1,000,000-case database is about 2 GB


def measure(path: str, cases: int) -> None:
    now = datetime.now(UTC)
    started = time.perf_counter()
    events = build(path, cases, now)
    os.sync()  # the build's writes reach the disk first, so they do not slow what is measured
    print(
        f"database: {cases:,} cases, {events:,} events over 365 days, built in "
        f"{time.perf_counter() - started:.0f}s ({os.path.getsize(path) / 1e6:.0f} MB)"
    )
    store = Store(path)
    start = now - timedelta(days=30)

    def report_with_blocks(breakdown: Breakdown):
        built = build_report(store.db, start, now, now=now, breakdown=breakdown)
        report_blocks(built, "the last 30 days", breakdown)
        return built

    report = timed("30-day report by agent (+ blocks)", lambda: report_with_blocks(Breakdown.AGENT))
    print(
        f"  covers {report.volume_in:,} cases; p50 first response {report.time_to_first_response.p50:.0f}s "
        "(target: <= 0.5 s)"
    )
    timed("  … by hour (no workload)", lambda: report_with_blocks(Breakdown.HOUR))
    timed("  … every breakdown at once", lambda: build_report(store.db, start, now, now=now))
    timed(
        "  … as /perch report runs it",  # by agent, beside the 30 days before for ▲/▼
        lambda: report_with_previous(store.db, start, now, now=now, breakdown=Breakdown.AGENT),
    )
    timed(
        "  … and in business hours",
        lambda: report_with_previous(store.db, start, now, now=now, breakdown=Breakdown.AGENT, business=OPEN),
    )
    csv_text = timed("30-day CSV export", lambda: report_csv(case_rows(store.db, start, now)))
    print(f"  {csv_text.count(chr(10)) - 1:,} rows, {len(csv_text) / 1e6:.1f} MB")
    timed("  … with business-time columns", lambda: report_csv(case_rows(store.db, start, now, business=OPEN)))


if __name__ == "__main__":
    main()
