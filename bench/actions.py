"""Acknowledgement latency of card buttons with 1,000,000 cases in the database.

The bot runs as its own process (`python -m bot --http`, waitress), the fake Slack and X servers in
another, and this process sends signed `block_actions` payloads from 20 threads at once: Claim on
random cases (some on the same case, to exercise the one-winner path) and Reply, which opens a modal.
Latency is the HTTP round trip until Slack would have its acknowledgement.

    .venv/bin/python bench/actions.py [--cases 1000000] [--rounds 50] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fakes.slack_api import FakeSlack  # noqa: E402
from fakes.slack_requests import block_action_body, signed_post  # noqa: E402
from fakes.x_api import FakeX  # noqa: E402
from storage.db import Store  # noqa: E402

QUEUE = "C0BENCH"
SECRET = "bench-secret"


def serve_fakes(pipe) -> None:
    x, slack = FakeX().start(), FakeSlack(channels=(QUEUE,)).start()
    pipe.send((x.url, slack.url))
    pipe.recv()


def build_database(path: str, count: int) -> None:
    """`count` cases with their tweets and events, written directly (setup, not what is measured)."""
    Store(path)  # the schema, through the bot's own migrations
    conn = sqlite3.connect(path)
    start = datetime.now(UTC) - timedelta(days=30)
    chunk = 50_000
    for base in range(0, count, chunk):
        tweets, cases, events = [], [], []
        for n in range(base, min(base + chunk, count)):
            at = (start + timedelta(seconds=n * 2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            tweet_id = str(1_500_000_000_000_000_000 + n)
            status = "resolved" if n < count * 0.9 else "new"
            tweets.append(
                (
                    tweet_id,
                    str(10_000 + n % 50_000),
                    f"user{n % 50_000}",
                    f"User {n}",
                    100,
                    f"@Delta case number {n} needs help",
                    at,
                    tweet_id,
                    "mentions",
                    n + 1,
                    f"{n}.000100",
                )
            )
            cases.append(
                (n + 1, tweet_id, str(10_000 + n % 50_000), tweet_id, status, QUEUE, f"{n}.000100", at, at, at)
            )
            events += [(n + 1, "opened", "bot", at, "{}"), (n + 1, "posted", "bot", at, "{}")]
        conn.executemany(
            "INSERT INTO tweets (id, author_id, author_handle, author_name, author_followers, text, "
            "created_at, conversation_id, source, case_id, slack_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            tweets,
        )
        conn.executemany(
            "INSERT INTO cases (id, tweet_id, author_id, conversation_id, status, slack_channel, "
            "slack_ts, tweet_created_at, opened_at, posted_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            cases,
        )
        conn.executemany("INSERT INTO events (case_id, kind, actor, at, detail) VALUES (?,?,?,?,?)", events)
        conn.commit()
    conn.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        os.environ.pop(name, None)
    workdir = tempfile.mkdtemp(prefix="perch-bench-actions-")
    database = os.path.join(workdir, "perch.db")
    started = time.perf_counter()
    build_database(database, args.cases)
    print(
        f"database: {args.cases:,} cases built in {time.perf_counter() - started:.0f}s "
        f"({os.path.getsize(database) / 1e6:.0f} MB)"
    )

    parent, child = multiprocessing.Pipe()
    fakes = multiprocessing.Process(target=serve_fakes, args=(child,), daemon=True)
    fakes.start()
    x_url, slack_url = parent.recv()
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_QUEUE_CHANNEL": QUEUE,
        "SLACK_API_URL": slack_url + "/api/",
        "X_API_URL": x_url,
        "X_API_KEY": "k",
        "X_API_SECRET": "s",
        "X_ACCESS_TOKEN": "t",
        "X_ACCESS_TOKEN_SECRET": "ts",
        "DATABASE_PATH": database,
        "PORT": str(port),
        "POLL_INTERVAL_SECONDS": "3600",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "--http", "--host", "127.0.0.1"], env=env, cwd=workdir, stderr=subprocess.DEVNULL
    )  # the fake Slack holds none of these cards: updates fail
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    try:
        open_cases = list(range(int(args.cases * 0.9) + 1, args.cases + 1))
        for action_id in ("claim", "reply"):
            latencies = run_clicks(url + "/slack/events", action_id, open_cases, args.rounds, args.concurrency)
            print(
                f"{action_id:6} ack latency over {len(latencies)} clicks, {args.concurrency} at once: "
                f"p50 {statistics.median(latencies):6.1f} ms  p99 {percentile(latencies, 99):6.1f} ms  "
                f"max {max(latencies):6.1f} ms  (target p99 <= 100 ms)"
            )
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=30)
        parent.send("stop")


def run_clicks(url: str, action_id: str, cases: list[int], rounds: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    rng = random.Random(7)
    for _ in range(rounds):
        targets = [rng.choice(cases) for _ in range(concurrency - 2)] + [cases[0], cases[0]]
        barrier = threading.Barrier(concurrency)

        def click(case_id: int, user: str, barrier: threading.Barrier = barrier) -> None:
            body = block_action_body(
                action_id, str(case_id), user=user, channel=QUEUE, message_ts=f"{case_id - 1}.000100"
            )
            barrier.wait()
            started = time.perf_counter()
            response = signed_post(url, SECRET, body)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.status_code
            with lock:
                latencies.append(elapsed)

        threads = [threading.Thread(target=click, args=(case_id, f"U0AGENT{n}")) for n, case_id in enumerate(targets)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    return latencies


if __name__ == "__main__":
    main()
