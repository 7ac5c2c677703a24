"""Acknowledgement latency of card buttons with 1,000,000 cases in the database, and what History does
before its modal opens.

The bot runs as its own process (`python -m bot --http`, waitress), the fake Slack and X servers in
another, and 20 client processes send signed `block_actions` payloads at once: Claim on random cases
(two on the same case, to exercise the one-winner path), Reply and History, which open modals. Latency is the
HTTP round trip, connecting included, until Slack would have its acknowledgement. (Until December 2026
the 20 clicks came from threads of one process through `requests`; that client's own share of the
interpreter lock added about 16 ms at p50 and p99 with a server that answers at once.)

The bursts come `--pause` seconds apart (0.5 s): 20 people clicking at the same moment, as a busy team
does, each burst meeting a bot that has done the previous one's work. A last line sends the same
bursts back to back (each as soon as the previous one is acknowledged): that is the bot's throughput,
where every acknowledgement also queues behind the previous bursts' follow-up work; no target applies.

    .venv/bin/python bench/actions.py [--cases 1000000] [--rounds 50] [--concurrency 20] [--pause 0.5]
                                      [--engine sqlite|postgresql] [--processes 1]

With `--engine postgresql --processes 2`, two Perch processes share one PostgreSQL database (pgserver's
server) and each clicking client sends to one of them: the two clicks on one case reach both processes.
"""

from __future__ import annotations

import argparse
import http.client
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
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import requests
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import postgres_location  # noqa: E402
from bot.blocks.history import history_modal  # noqa: E402
from fakes.slack_api import FakeSlack  # noqa: E402
from fakes.slack_requests import block_action_body  # noqa: E402
from fakes.x_api import FakeX  # noqa: E402
from storage.customers import customer_history, customer_of_case  # noqa: E402
from storage.db import Store  # noqa: E402

QUEUE = "C0BENCH"
SECRET = "bench-secret"


def serve_fakes(pipe) -> None:
    x, slack = FakeX().start(), FakeSlack(channels=(QUEUE,)).start()
    pipe.send((x.url, slack.url))
    pipe.recv()


TWEETS_SQL = (
    "INSERT INTO tweets (id, author_id, author_handle, author_name, author_followers, text, "
    "created_at, conversation_id, source, case_id, slack_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
CASES_SQL = (
    "INSERT INTO cases (id, tweet_id, author_id, conversation_id, status, slack_channel, "
    "slack_ts, tweet_created_at, opened_at, posted_at, routed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
EVENTS_SQL = "INSERT INTO events (case_id, kind, actor, at, detail) VALUES (?,?,?,?,?)"


def build_database(location: str, count: int) -> None:
    """`count` cases with their tweets and events, written directly (setup, not what is measured), in
    the SQLite file or the PostgreSQL database `location` names."""
    Store(location).close()  # the schema, through the bot's own migrations
    if location.startswith("postgresql://"):
        with psycopg.connect(location, autocommit=True) as pg, pg.cursor() as cursor:
            for tweets, cases, events in _rows(count):
                for sql, rows in ((TWEETS_SQL, tweets), (CASES_SQL, cases), (EVENTS_SQL, events)):
                    cursor.executemany(sql.replace("?", "%s"), rows)
            cursor.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))")
        return
    conn = sqlite3.connect(location)
    for tweets, cases, events in _rows(count):
        conn.executemany(TWEETS_SQL, tweets)
        conn.executemany(CASES_SQL, cases)
        conn.executemany(EVENTS_SQL, events)
        conn.commit()
    conn.close()


def _rows(count: int):
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
                (n + 1, tweet_id, str(10_000 + n % 50_000), tweet_id, status, QUEUE, f"{n}.000100", at, at, at, at)
            )
            events += [(n + 1, "opened", "bot", at, "{}"), (n + 1, "posted", "bot", at, "{}")]
        yield tweets, cases, events


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
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between two bursts")
    parser.add_argument("--engine", default="sqlite", help="sqlite, or postgresql (pgserver's server)")
    parser.add_argument("--processes", type=int, default=1, help="Perch processes the clicks are shared by")
    args = parser.parse_args()
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        os.environ.pop(name, None)
    workdir = tempfile.mkdtemp(prefix="perch-bench-actions-")
    server = None
    if args.engine == "postgresql":
        database, server = postgres_location(None, workdir)
        setting = {"DATABASE_URL": database}
    else:
        database = os.path.join(workdir, "perch.db")
        setting = {"DATABASE_PATH": database}
    started = time.perf_counter()
    build_database(database, args.cases)
    print(
        f"database: {args.engine}, {args.cases:,} cases built in {time.perf_counter() - started:.0f}s; "
        f"{args.processes} Perch process(es) share the clicks"
    )
    try:
        measure(args, database, setting, workdir)
    finally:
        if server is not None:
            server.cleanup()


def measure(args: argparse.Namespace, database: str, setting: dict[str, str], workdir: str) -> None:
    """Start the fakes and the Perch processes, then time the bursts of clicks."""

    parent, child = multiprocessing.Pipe()
    fakes = multiprocessing.Process(target=serve_fakes, args=(child,), daemon=True)
    fakes.start()
    x_url, slack_url = parent.recv()
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
        **setting,
        "POLL_INTERVAL_SECONDS": "3600",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    bots, urls = [], []
    for _ in range(args.processes):  # the fake Slack holds none of these cards: updates fail
        port = free_port()
        command = [sys.executable, "-m", "bot", "--http", "--host", "127.0.0.1"]
        bots.append(subprocess.Popen(command, env={**env, "PORT": str(port)}, cwd=workdir, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
        while True:
            try:
                if requests.get(urls[-1] + "/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
    url = ",".join(urls)  # each clicking client sends to one of them, in turn
    try:
        open_cases = list(range(int(args.cases * 0.9) + 1, args.cases + 1))
        bursts = Bursts(args.rounds, args.concurrency, args.pause)
        floor = answering_at_once(open_cases, bursts)
        show("floor", floor, bursts, "(the same clicks to a server that answers at once)")
        p99s = {}
        for action_id in ("claim", "reply", "history"):
            latencies = run_clicks(events_urls(url), action_id, open_cases, bursts)
            p99s[action_id] = percentile(latencies, 99)
            ratio = p99s[action_id] / percentile(floor, 99)
            show(action_id, latencies, bursts, f"(target p99 <= 100 ms; p99 {ratio:.1f}x the floor's)")
        show_history_opening(database, args.cases, p99s["claim"])
        back_to_back = Bursts(args.rounds, args.concurrency, 0.0)
        latencies, seconds = run_clicks_timed(events_urls(url), "claim", open_cases, back_to_back)
        show("claim", latencies, back_to_back, f"(throughput: {len(latencies) / seconds:.0f} clicks/s; no target)")
    finally:
        for bot in bots:
            bot.send_signal(signal.SIGTERM)
        for bot in bots:
            bot.wait(timeout=30)
        parent.send("stop")


def events_urls(urls: str) -> str:
    """Each process's Slack endpoint, comma-separated (a client clicks on one of them)."""
    return ",".join(f"{url}/slack/events" for url in urls.split(","))


@dataclass(frozen=True)
class Bursts:
    rounds: int
    concurrency: int
    pause: float  # seconds between two bursts; 0: back to back

    def __str__(self) -> str:
        spacing = f"{self.pause:g} s apart" if self.pause else "back to back"
        return f"{self.rounds * self.concurrency} clicks, {self.concurrency} at once, {spacing}"


def show(label: str, latencies: list[float], bursts: Bursts, note: str) -> None:
    print(
        f"{label:7} ack latency over {bursts}: "
        f"p50 {statistics.median(latencies):6.1f} ms  p99 {percentile(latencies, 99):6.1f} ms  "
        f"max {max(latencies):6.1f} ms  {note}"
    )


def show_history_opening(database: str, cases: int, claim_p99: float, customers: int = 1000) -> None:
    """What History does once acknowledged, before `views.open` (Slack allows 3 s from the click): the
    customer's look-up (their cases by X user id, the notes, the totals) and the modal drawn, timed in
    this process on the same database for `customers` random customers (each has `cases / 50,000`
    cases), printed beside Claim's acknowledgement p99."""
    store = Store(database)
    db = store.db
    rng = random.Random(11)
    timings = []
    for _ in range(customers):
        case_id = rng.randint(1, cases)
        started = time.perf_counter()
        customer = customer_of_case(db, case_id) or ""
        history_modal(customer_history(db, customer, except_case=case_id), case_id=case_id)
        timings.append((time.perf_counter() - started) * 1000)
    print(
        f"history look-up + modal over {customers:,} customers ({max(1, cases // 50_000)} cases each): "
        f"p50 {statistics.median(timings):6.1f} ms  p99 {percentile(timings, 99):6.1f} ms  "
        f"max {max(timings):6.1f} ms  (Slack: 3 s to open; claim ack p99 {claim_p99:.1f} ms)"
    )
    store.close()


FLOOR_APP = """
import logging
from waitress import serve
def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]
logging.getLogger("waitress").setLevel(logging.ERROR)  # not its queue-depth warnings
serve(app, host="127.0.0.1", port={port}, threads=16, _quiet=True)
"""


def answering_at_once(cases: list[int], bursts: Bursts) -> list[float]:
    """The clicks' latency to a waitress server whose app answers at once: what the machine, the HTTP
    stack and the client cost, measured in the same run as Perch."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", FLOOR_APP.format(port=port)])
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        return run_clicks(f"http://127.0.0.1:{port}/slack/events", "claim", cases, bursts)
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_clicks(url: str, action_id: str, cases: list[int], bursts: Bursts) -> list[float]:
    return run_clicks_timed(url, action_id, cases, bursts)[0]


def run_clicks_timed(url: str, action_id: str, cases: list[int], bursts: Bursts) -> tuple[list[float], float]:
    """The latencies (ms) and the seconds from the first click sent to the last one answered:
    `bursts.rounds` bursts of `bursts.concurrency` simultaneous clicks, each from a process of its own
    (as Slack's requests come from machines of their own: no client shares an interpreter lock with
    another), signed before the burst; each round two of them click the same case (the one-winner path)."""
    barrier = multiprocessing.Barrier(bursts.concurrency)
    results: multiprocessing.Queue = multiprocessing.Queue()
    clients = [
        multiprocessing.Process(target=click_rounds, args=(url, action_id, cases, bursts, n, barrier, results))
        for n in range(bursts.concurrency)
    ]
    [client.start() for client in clients]
    clicks = [results.get(timeout=120) for _ in range(bursts.rounds * bursts.concurrency)]
    [client.join() for client in clients]
    first_sent, last_answered = min(sent for _, sent, _ in clicks), max(answered for _, _, answered in clicks)
    return [latency for latency, _, _ in clicks], last_answered - first_sent


def click_rounds(url, action_id, cases, bursts: Bursts, client, barrier, results) -> None:
    rng = random.Random(7 + client + int(bursts.pause * 1000))  # other cases for the back-to-back bursts
    endpoints = url.split(",")
    target = urlsplit(endpoints[client % len(endpoints)])  # the two clicks on one case reach two processes
    for _ in range(bursts.rounds):
        case_id = cases[0] if client < 2 else rng.choice(cases)
        body = block_action_body(
            action_id, str(case_id), user=f"U0AGENT{client}", channel=QUEUE, message_ts=f"{case_id - 1}.000100"
        ).encode()
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body.decode())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }
        time.sleep(bursts.pause)
        barrier.wait()
        started = time.perf_counter()
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        answered = time.perf_counter()  # the monotonic clock, the same in every process
        connection.close()
        assert response.status == 200, response.status
        results.put(((answered - started) * 1000, started, answered))


if __name__ == "__main__":
    main()
