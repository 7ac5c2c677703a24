"""Report speed on a large database: 1,000,000 cases and about 5,000,000 events over a year.

Prints the time of the 30-day report (by agent, with the agents' workload; by hour; every breakdown;
beside the previous 30 days as `/perch report` computes it, and so in business hours too) and of its
CSV export, on SQLite and on PostgreSQL side by side (the same rows in each; PostgreSQL is a server
pgserver starts in a temporary folder, or the one `--database-url` names: its tables are dropped).
The database is written directly (setup, not measured) through the bot's own schema and migrations.

    .venv/bin/python bench/report.py [--cases 1000000] [--engines sqlite,postgresql] [--database-url URL]
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

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.blocks.report_csv import report_csv  # noqa: E402
from bot.blocks.reports import report_blocks  # noqa: E402
from bot.domain.business_hours import parse_business_hours  # noqa: E402
from storage.case_rows import case_rows  # noqa: E402
from storage.db import Store, to_iso  # noqa: E402
from storage.engine import is_postgresql  # noqa: E402
from storage.metrics import Breakdown, build_report, report_with_previous  # noqa: E402

AGENTS = [f"U0AGENT{n:02d}" for n in range(40)]
OPEN = parse_business_hours("Mon-Fri 08:00-20:00; Sat 10:00-16:00", "America/New_York", "US")


TABLES = {
    "tweets": "id, author_id, author_handle, text, created_at, conversation_id, case_id",
    "cases": "id, tweet_id, author_id, conversation_id, status, assignee, tweet_created_at, opened_at, posted_at, "
    "claimed_at, first_response_at, resolved_at, resolved_by",
    "replies": "case_id, idempotency_key, kind, source, status, text, sent_by, sent_at",
    "events": "case_id, kind, actor, at, detail",
    "escalations": "case_id, location, urgency, note, requested_by, requested_at, slack_channel, slack_ts, "
    "acknowledged_at, resolved_at",
}


def build(location: str, count: int, now: datetime) -> int:
    """The same rows on either engine: SQLite's through sqlite3, PostgreSQL's through COPY."""
    Store(location).close()
    if is_postgresql(location):
        with psycopg.connect(location) as conn:
            events = sum(_copy(conn, batch) for batch in batches(count, now))
        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))")
            conn.execute("VACUUM ANALYZE")
        return events
    conn = sqlite3.connect(location)
    events = 0
    for batch in batches(count, now):
        for table, rows in batch.items():
            columns = TABLES[table]
            marks = ",".join("?" * len(columns.split(",")))
            conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        conn.commit()
        events += len(batch["events"])
    conn.execute("ANALYZE")
    conn.close()
    return events


def _copy(conn: psycopg.Connection, batch: dict[str, list[tuple]]) -> int:
    with conn.cursor() as cursor:
        for table, rows in batch.items():
            with cursor.copy(f"COPY {table} ({TABLES[table]}) FROM STDIN".encode()) as copy:
                for row in rows:
                    copy.write_row(row)
    conn.commit()
    return len(batch["events"])


def batches(count: int, now: datetime):
    """A year of cases, 50,000 at a time, as rows of `TABLES` (the same on every run: a fixed seed)."""
    rng = random.Random(5)
    span = timedelta(days=365).total_seconds()
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
        yield {"tweets": tweets, "cases": cases, "replies": replies, "events": rows, "escalations": escalations}


def timed(work, repeat: int = 3) -> tuple[float, object]:
    """The best of `repeat` runs after a warm-up (the database's pages into the cache), and its result."""
    work()
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--database-url", help="a PostgreSQL to use (its tables are dropped) instead of pgserver's")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    workdir = tempfile.mkdtemp(prefix="perch-bench-report-")
    server = None
    try:
        figures = {}
        for engine in engines:
            if engine == "sqlite":
                location = os.path.join(workdir, "perch.db")
            else:
                location, server = postgres_location(args.database_url, workdir)
            figures[engine] = measure(engine, location, args.cases)
        show(figures)
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)  # a 1,000,000-case database is about 2 GB


def postgres_location(url: str | None, workdir: str):
    """`url` emptied of Perch's tables, or a database on a server pgserver starts in `workdir`."""
    if url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        return url, None
    import pgserver  # a development dependency: the tests' server

    server = pgserver.get_server(os.path.join(workdir, "pg"), cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE perch_bench")
    return server.get_uri().replace("/postgres?", "/perch_bench?", 1), server


def measure(engine: str, location: str, cases: int) -> dict[str, str]:
    """Each figure of one engine, by label."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    events = build(location, cases, now)
    os.sync()  # the build's writes reach the disk first, so they do not slow what is measured
    print(f"{engine}: {cases:,} cases, {events:,} events over 365 days, built in {time.perf_counter() - started:.0f}s")
    store = Store(location)
    start = now - timedelta(days=30)
    figures: dict[str, str] = {}

    def report_with_blocks(breakdown: Breakdown):
        built = build_report(store.db, start, now, now=now, breakdown=breakdown)
        report_blocks(built, "the last 30 days", breakdown)
        return built

    def figure(label: str, work) -> object:
        seconds, result = timed(work)
        figures[label] = f"{seconds:7.3f} s"
        return result

    report = figure("30-day report by agent (+ blocks)", lambda: report_with_blocks(Breakdown.AGENT))
    figures["  covers (cases, p50 first response)"] = f"{report.volume_in:,}, {report.time_to_first_response.p50:.0f}s"
    figure("  … by hour (no workload)", lambda: report_with_blocks(Breakdown.HOUR))
    figure("  … every breakdown at once", lambda: build_report(store.db, start, now, now=now))
    figure(  # by agent, beside the 30 days before for ▲/▼
        "  … as /perch report runs it",
        lambda: report_with_previous(store.db, start, now, now=now, breakdown=Breakdown.AGENT),
    )
    figure(
        "  … and in business hours",
        lambda: report_with_previous(store.db, start, now, now=now, breakdown=Breakdown.AGENT, business=OPEN),
    )
    csv_text = figure("30-day CSV export", lambda: report_csv(case_rows(store.db, start, now)))
    figures["  rows, size"] = f"{csv_text.count(chr(10)) - 1:,}, {len(csv_text) / 1e6:.1f} MB"
    figure("  … with business-time columns", lambda: report_csv(case_rows(store.db, start, now, business=OPEN)))
    store.close()
    return figures


def show(figures: dict[str, dict[str, str]]) -> None:
    """One line per figure, one column per engine (best of 3; target: the 30-day report <= 0.5 s)."""
    engines = list(figures)
    print(f"\n{'':38}" + "".join(f"{e:>22}" for e in engines))
    for label in figures[engines[0]]:
        print(f"{label:38}" + "".join(f"{figures[e].get(label, ''):>22}" for e in engines))


if __name__ == "__main__":
    main()
