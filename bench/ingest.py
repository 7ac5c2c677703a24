"""Ingest + post throughput: 10,000 real mentions through the bot, beside a bare baseline.

The fake X and Slack servers run in a child process, so the CPU time measured here is the client
side only. The bot run is the real `Ingestor.run()` then `Poster.run()` (tweepy, sqlite-utils, Block
Kit, two-phase post bookkeeping). The baseline does the same page fetches with `requests`, inserts the
same rows with `sqlite3`, and posts one message per tweet with `WebClient` (a Block Kit message of the
same shape, built inline), with no bot code.

Mentions arrive in batches of 500 (a busy day: one poll's worth each), so each poll stays inside the
mentions timeline's 800-tweet reach; the bot re-reads its overlap window every poll, the baseline
uses `since_id` and reads each tweet once.

The bot runs once per engine: on SQLite, and on PostgreSQL (pgserver's server in a temporary folder, or
`--database-url`, whose tables are dropped). For PostgreSQL the CPU is given twice: the bot's own, and
the bot's plus the server's processes (what the database costs, which SQLite spends inside the bot).

    .venv/bin/python bench/ingest.py [--mentions 10000] [--batch 500] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import psycopg
import requests
from slack_sdk import WebClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_runtime  # noqa: E402
from bot.config import load_settings  # noqa: E402
from fakes.data import airline_tweets, as_mention_of, followers_for  # noqa: E402
from fakes.slack_api import FakeSlack  # noqa: E402
from fakes.x_api import FakeX  # noqa: E402

BRAND = "JetBlue"
QUEUE = "C0BENCH"


def serve_fakes(count: int, pipe) -> None:
    """Child process: both stand-ins, loaded with `count` mentions; answers URLs, then waits."""
    x, slack = FakeX(brand_username=BRAND, brand_id="6449282"), FakeSlack(channels=(QUEUE,))
    rows = airline_tweets()
    start = datetime.now(UTC) - timedelta(hours=20)
    hidden = []
    for index in range(count):
        row = rows[index % len(rows)]
        author = x.add_user(row.handle, row.handle, followers_for(row.handle))
        hidden.append(
            x.add_tweet(
                as_mention_of(row.text, BRAND), author, created_at=start + timedelta(seconds=index * 6), visible=False
            )
        )
    x.start()
    slack.start()
    pipe.send((x.url, slack.url))
    while True:
        command = pipe.recv()
        if command == "reset":
            slack.messages.clear()
            for tweet_id in hidden:
                x.tweets[tweet_id].visible = False
            published = 0
            pipe.send("ok")
        elif command == "publish":
            batch = hidden[published : published + pipe.recv()]
            for tweet_id in batch:
                x.publish(tweet_id)
            published += len(batch)
            pipe.send(len(batch))
        elif command == "count":
            pipe.send(len(slack.top_level()))
        else:
            break
    x.stop()
    slack.stop()


def measure(run) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    handled = run()
    return time.perf_counter() - wall, time.process_time() - cpu, handled


def in_batches(pipe, batch: int, poll) -> int:
    """Publish the next `batch` mentions, then let `poll` read and post them; until none are left."""
    handled = 0
    while True:
        pipe.send("publish")
        pipe.send(batch)
        if not pipe.recv():
            return handled
        handled += poll()


def run_bot(x_url: str, slack_url: str, database: dict[str, str], pipe, batch: int) -> int:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_APP_TOKEN": "xapp-bench",
            "SLACK_QUEUE_CHANNEL": QUEUE,
            "SLACK_API_URL": slack_url + "/api/",
            "X_API_URL": x_url,
            "X_API_KEY": "k",
            "X_API_SECRET": "s",
            "X_ACCESS_TOKEN": "t",
            "X_ACCESS_TOKEN_SECRET": "ts",
            **database,
            # Raw throughput, one card per mention like the baseline: no Slack pacing, no surge grouping
            # (bench/surge.py measures those against a Slack that enforces its limit).
            "SLACK_CHANNEL_POST_INTERVAL_SECONDS": "0",
            "SURGE_THRESHOLD": "0",
        }
    )
    runtime = build_runtime(settings)

    def poll() -> int:
        opened = runtime.ingestor.run().cases_opened
        posted = runtime.poster.run().posted
        assert posted == opened, (posted, opened)
        return posted

    try:
        return in_batches(pipe, batch, poll)
    finally:
        runtime.store.close()


def bare_card(tweet_id: str, author_id: str, text: str, created_at: str) -> dict:
    """The same kind of message the bot posts (text, blocks, buttons, metadata), built inline."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")[:3000]
    buttons = [
        {"type": "button", "action_id": a, "text": {"type": "plain_text", "text": a}, "value": tweet_id}
        for a in ("claim", "reply", "move_to_dm", "escalate", "resolve")
    ]
    return {
        "text": escaped[:300],
        "unfurl_links": False,
        "unfurl_media": False,
        "metadata": {"event_type": "perch_case", "event_payload": {"tweet_id": tweet_id}},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{author_id}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": escaped}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": created_at}]},
            {"type": "actions", "elements": buttons},
        ],
    }


def run_baseline(x_url: str, slack_url: str, workdir: str, pipe, batch: int) -> int:
    session = requests.Session()
    conn = sqlite3.connect(os.path.join(workdir, "baseline.db"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE tweets (id TEXT PRIMARY KEY, author_id TEXT, text TEXT, created_at TEXT)")
    slack = WebClient(token="xoxb-bench", base_url=slack_url + "/api/")
    params = {
        "max_results": 100,
        "tweet.fields": "created_at,conversation_id,author_id,referenced_tweets",
        "expansions": "author_id",
        "user.fields": "username,name,public_metrics",
    }
    headers = {"Authorization": "Bearer bench"}
    me = session.get(x_url + "/2/users/me", headers=headers, timeout=10).json()["data"]["id"]
    newest: str | None = None

    def poll() -> int:
        nonlocal newest
        rows, token = [], None
        while True:
            extra = {"since_id": newest} if newest else {}
            if token:
                extra["pagination_token"] = token
            page = session.get(
                f"{x_url}/2/users/{me}/mentions", headers=headers, timeout=10, params={**params, **extra}
            ).json()
            rows += [(t["id"], t["author_id"], t["text"], t["created_at"]) for t in page.get("data", [])]
            token = page["meta"].get("next_token")
            if not token:
                break
        with conn:
            conn.executemany("INSERT INTO tweets VALUES (?, ?, ?, ?)", rows)
        for row in sorted(rows, key=lambda r: r[3]):
            slack.chat_postMessage(channel=QUEUE, **bare_card(*row))
        newest = max((r[0] for r in rows), key=int, default=newest)
        return len(rows)

    return in_batches(pipe, batch, poll)


def postgres(url: str | None, workdir: str):
    """A PostgreSQL for the bot (`url` emptied, or pgserver's), and the server's process id if it runs here."""
    if url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        return url, None, None
    import pgserver  # a development dependency: the tests' server

    server = pgserver.get_server(os.path.join(workdir, "pg"), cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE perch_bench")
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    postmaster = psutil.Process(pid).parent()
    return server.get_uri().replace("/postgres?", "/perch_bench?", 1), server, postmaster


def server_cpu(postmaster) -> float:
    """CPU seconds the PostgreSQL server's processes have used (0 when it runs elsewhere)."""
    if postmaster is None:
        return 0.0
    total = 0.0
    for process in [postmaster, *postmaster.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--engines", default="sqlite,postgresql", help="the bot's engines: sqlite, postgresql or both")
    parser.add_argument("--database-url", help="a PostgreSQL to use (its tables are dropped) instead of pgserver's")
    args = parser.parse_args()
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        os.environ.pop(name, None)
    parent, child = multiprocessing.Pipe()
    fakes = multiprocessing.Process(target=serve_fakes, args=(args.mentions, child), daemon=True)
    fakes.start()
    x_url, slack_url = parent.recv()
    workdir = tempfile.mkdtemp(prefix="perch-bench-")
    runs = [("baseline", lambda: run_baseline(x_url, slack_url, workdir, parent, args.batch), None)]
    server = None
    for engine in (e.strip() for e in args.engines.split(",") if e.strip()):
        if engine == "sqlite":
            database = {"DATABASE_PATH": os.path.join(workdir, "bot.db")}
            runs.append(("perch", lambda d=database: run_bot(x_url, slack_url, d, parent, args.batch), None))
        else:
            url, server, postmaster = postgres(args.database_url, workdir)
            database = {"DATABASE_URL": url}
            bot = lambda d=database: run_bot(x_url, slack_url, d, parent, args.batch)  # noqa: E731
            runs.append(("perch-pg", bot, postmaster))
    results = {}
    try:
        for name, run, postmaster in runs:
            parent.send("reset")
            parent.recv()
            before = server_cpu(postmaster)
            wall, cpu, handled = measure(run)
            served = server_cpu(postmaster) - before
            parent.send("count")
            in_slack = parent.recv()
            results[name] = (wall, cpu, cpu + served, handled)
            line = (
                f"{name:9} {handled:6d} mentions  {in_slack:6d} messages in Slack  "
                f"{handled / wall:8.1f} tweets/s  {cpu / handled * 1000:6.3f} CPU ms/tweet  ({wall:.1f}s wall)"
            )
            if postmaster is not None:
                line += f"  {(cpu + served) / handled * 1000:6.3f} CPU ms/tweet with the server's"
            print(line)
    finally:
        parent.send("stop")
        fakes.join(timeout=10)
        if server is not None:
            server.cleanup()
    compare(results)


def compare(results: dict[str, tuple[float, float, float, int]]) -> None:
    base = results["baseline"]
    if "perch" in results:
        wall, cpu = results["perch"][0], results["perch"][1]
        print(f"ratio perch/baseline: {wall / base[0]:.2f}x wall time, {cpu / base[1]:.2f}x CPU (target <= 1.3x)")
    if "perch" in results and "perch-pg" in results:
        sqlite, pg = results["perch"], results["perch-pg"]
        print(
            f"ratio perch on PostgreSQL/SQLite: {pg[1] / sqlite[1]:.2f}x CPU (the bot's), "
            f"{pg[2] / sqlite[1]:.2f}x CPU with the server's (target <= 1.5x), {pg[0] / sqlite[0]:.2f}x wall time"
        )


if __name__ == "__main__":
    main()
