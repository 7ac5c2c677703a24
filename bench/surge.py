"""A 2,000-mention burst in one minute, against a fake Slack that enforces one message per second per channel.

The real bot runs with its real scheduler (polling X every 15 s, posting every 5 s and right after a
poll that stored something). The fakes run in a child process: X publishes real storm tweets from
data/ (cancellations, delays, phone holds) at the moment each was "sent", 2,000 over 60
seconds, after a quiet morning of 100 other real airline mentions; Slack answers 429 to any
`chat.postMessage` that comes sooner than a second after the last one in the same channel.

Printed: messages posted (cards, incident cards, thread chunks), card updates, 429s seen, and the time
until every tweet is visible in Slack (as its own card, or listed in an incident's thread).

    .venv/bin/python bench/surge.py [--mentions 2000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_runtime  # noqa: E402
from bot.config import load_settings  # noqa: E402
from fakes.data import airline_tweets, as_mention_of, followers_for, publish, storm_and_calm  # noqa: E402
from fakes.slack_api import FakeSlack  # noqa: E402
from fakes.x_api import FakeX  # noqa: E402
from storage.cases import resolve  # noqa: E402

BRAND = "AmericanAir"
QUEUE = "C0BENCH"


def serve_fakes(count: int, seconds: float, pipe) -> None:
    """Child process: both stand-ins. On "go", the burst starts arriving in real time."""
    x, slack = FakeX(brand_username=BRAND, brand_id="22536055"), FakeSlack(channels=(QUEUE,))
    storm, calm = storm_and_calm(airline_tweets())
    publish(x, calm[:100], BRAND, start=datetime.now(UTC) - timedelta(hours=3), every_seconds=90)
    x.start()
    slack.start()
    pipe.send((x.url, slack.url))
    while True:
        command = pipe.recv()
        if command == "go":
            slack.channel_interval = 1.0
            before = len(slack.messages), len(slack.updates)
            start = datetime.now(UTC)
            hidden = []
            for index in range(count):
                row = storm[index % len(storm)]
                author = x.add_user(row.handle, row.handle, followers_for(row.handle))
                hidden.append(
                    (
                        start + timedelta(seconds=index * seconds / count),
                        x.add_tweet(
                            as_mention_of(row.text, BRAND),
                            author,
                            visible=False,
                            created_at=start + timedelta(seconds=index * seconds / count),
                        ),
                    )
                )
            threading.Thread(target=_arrive, args=(x, hidden), daemon=True).start()
            pipe.send(start.timestamp())
        elif command == "count":
            pipe.send(
                (
                    len(slack.messages) - before[0],
                    len(slack.updates) - before[1],
                    len(slack.rate_limited),
                    sum(1 for m in slack.messages[before[0] :] if not m.thread_ts),
                )
            )
        else:
            break
    x.stop()
    slack.stop()


def _arrive(x: FakeX, hidden: list[tuple[datetime, str]]) -> None:
    """Make each tweet visible on X at the moment it was sent."""
    for sent_at, tweet_id in hidden:
        delay = (sent_at - datetime.now(UTC)).total_seconds()
        if delay > 0:
            time.sleep(delay)
        x.publish(tweet_id)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        os.environ.pop(name, None)
    parent, child = multiprocessing.Pipe()
    fakes = multiprocessing.Process(target=serve_fakes, args=(args.mentions, args.seconds, child), daemon=True)
    fakes.start()
    x_url, slack_url = parent.recv()
    workdir = tempfile.mkdtemp(prefix="perch-surge-")
    runtime = build_runtime(
        load_settings(
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
                "DATABASE_PATH": os.path.join(workdir, "bot.db"),
                "POLL_INTERVAL_SECONDS": "15",
                "POST_INTERVAL_SECONDS": "5",
            }
        )
    )
    # The quiet morning, posted unpaced and handled before the clock starts.
    runtime.slack.pacer.interval = 0
    runtime.ingestor.run()
    runtime.poster.run()
    db = runtime.store.db
    for (case_id,) in db.execute("SELECT id FROM cases").fetchall():
        resolve(db, case_id, "U0MORNING")
    runtime.poster.run()
    runtime.slack.pacer.interval = 1.0
    quiet = db.execute("SELECT COUNT(*) FROM cases").fetchone()[0]

    parent.send("go")
    started = parent.recv()
    runtime.scheduler.start()
    visible_at = None
    while time.time() - started < args.seconds + 1800:
        stored, waiting = db.execute("SELECT COUNT(*), SUM(posted_at IS NULL) FROM cases").fetchone()
        if stored - quiet >= args.mentions and not waiting:
            visible_at = time.time()
            break
        time.sleep(0.25)
    runtime.scheduler.shutdown(wait=True)
    parent.send("count")
    messages, updates, limited, top_level = parent.recv()
    parent.send("stop")
    fakes.join(timeout=10)

    tweets = db.execute("SELECT COUNT(*) FROM tweets").fetchone()[0] - quiet
    grouped = db.execute("SELECT COUNT(*) FROM cases WHERE grouped = 1").fetchone()[0]
    incidents = list(
        db.query(
            "SELECT id, label, (SELECT COUNT(*) FROM cases c WHERE c.incident_id = i.id) AS n "
            "FROM incidents i ORDER BY id"
        )
    )
    print(f"burst: {args.mentions} real storm mentions in {args.seconds:g}s; stored {tweets}")
    print(
        f"messages posted: {messages} ({top_level} top-level: cards and incident cards; "
        f"{messages - top_level} in incident threads); card updates: {updates}"
    )
    print(f"429s seen: {limited}")
    print(
        f"grouped into incidents: {grouped} tweets; "
        + "; ".join(f"#{i['id']} “{i['label']}” {i['n']}" for i in incidents)
    )
    if visible_at is None:
        print("not every tweet was visible within 30 minutes")
    else:
        print(
            f"every tweet visible in Slack {visible_at - started:.1f}s after the first was sent "
            f"({visible_at - started - args.seconds:.1f}s after the last)"
        )


if __name__ == "__main__":
    main()
