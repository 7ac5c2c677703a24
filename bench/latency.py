"""How fast a mention reaches Slack at default settings, and what the polling costs in X reads.

Two measurements, both against the stand-ins with X's 2026 per-user limits (mentions 300 / 15 min,
the brand's own posts 900, DM events 15), Perch at its defaults (no `POLL_INTERVAL_SECONDS`):

1. **Live** (wall clock): the real bot, scheduler running, while mentions become visible on X at
   random moments; prints visible → card in the queue channel (p50 / p90 / p99 / max), mention polls
   per 15 minutes against the limit, and how many answers were 429.
2. **A simulated day** (driven clock, the ingest job only): mentions at random moments over `--hours`;
   prints the posts X returned per new post stored (what X bills, if it does not de-duplicate within
   a day), and visible → stored in simulated seconds.

3. **DMs, polled and streamed** (wall clock): two bots side by side in the same run, one reading DMs
   by polling only (X's 15 DM reads per 15 minutes), one with `X_ACTIVITY_STREAM=true` (X's activity
   stream, the polls slowed to a reconciler); customers with a card each send a DM at random moments;
   prints DM sent → in the card's thread for both (target with the stream: p50 ≤ 5 s).

In the first two, a share of the mentions (`--late-share`) is indexed late: X shows it 5–30 s after it was
created, with an id lower than posts shown before it, so only a slice of time finds it. Their latency
is reported apart from the on-time ones' (target: p99 ≤ POLL_OVERLAP_SECONDS + 15 s, 45 s by default).

Surge grouping is off (`SURGE_THRESHOLD=0`): every mention gets its own card, the latency measured is
a card's. Slack's pace of one message a second per channel stays on.

    .venv/bin/python bench/latency.py [--mentions 60] [--seconds 180] [--day-mentions 2000] [--hours 24]
                                      [--late-share 0.2] [--dms 20] [--dm-seconds 240] [--only-dms]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_runtime  # noqa: E402
from bot.config import load_settings  # noqa: E402
from fakes.slack_api import FakeSlack  # noqa: E402
from fakes.x_api import FakeX  # noqa: E402
from storage.db import from_iso  # noqa: E402

QUEUE = "C0BENCH"
LIMITS_2026 = {"users/mentions": 300, "users/tweets": 900, "tweets/search/recent": 300}


def settings_for(x: FakeX, slack: FakeSlack, workdir: str, **extra: str):
    env = {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_APP_TOKEN": "xapp-bench",
        "SLACK_QUEUE_CHANNEL": QUEUE,
        "SLACK_API_URL": slack.url + "/api/",
        "X_API_URL": x.url,
        "X_API_KEY": "k",
        "X_API_SECRET": "s",
        "X_ACCESS_TOKEN": "t",
        "X_ACCESS_TOKEN_SECRET": "ts",
        "DATABASE_PATH": str(Path(workdir) / "perch.db"),
        "SURGE_THRESHOLD": "0",
        **extra,
    }
    return load_settings(env)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def late_by(rng: random.Random, share: float) -> float:
    """How late X indexes a post: 0 for most, 5–30 s for `share` of them."""
    return rng.uniform(5, 30) if rng.random() < share else 0.0


def figures(lags: list[float], unit: str = "s") -> str:
    if not lags:
        return "none"
    return (
        f"p50 {percentile(lags, 50):.2f} {unit} · p90 {percentile(lags, 90):.2f} {unit} · "
        f"p99 {percentile(lags, 99):.2f} {unit} · max {max(lags):.2f} {unit} (n={len(lags)})"
    )


def live(mentions: int, seconds: float, seed: int, late_share: float) -> None:
    rng = random.Random(seed)
    x, slack = FakeX(), FakeSlack(channels=(QUEUE,))
    x.endpoint_limits.update(LIMITS_2026)
    x.start()
    slack.start()
    runtime = build_runtime(settings_for(x, slack, tempfile.mkdtemp(prefix="perch-latency-")))
    runtime.scheduler.start()
    visible_at: dict[str, float] = {}
    wall_visible: dict[str, float] = {}
    carded_at: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for message in slack.top_level(QUEUE):
                tweet_id = ((message.metadata or {}).get("event_payload") or {}).get("tweet_id")
                if tweet_id and tweet_id not in carded_at:
                    carded_at[tweet_id] = time.monotonic()
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(3)  # start-up: the first polls learn X's budgets
    started = time.monotonic()
    moments = sorted(rng.uniform(0, seconds) for _ in range(mentions))
    late: set[str] = set()
    for n, moment in enumerate(moments):
        time.sleep(max(0.0, started + moment - time.monotonic()))
        lag = late_by(rng, late_share)  # X shows it now, `lag` after it was created
        created = datetime.now(UTC) - timedelta(seconds=lag)
        tweet_id = x.add_tweet(f"@Delta my bag is lost, case {n}", f"traveller{n}", created_at=created)
        visible_at[tweet_id] = time.monotonic()
        wall_visible[tweet_id] = time.time()
        if lag:
            late.add(tweet_id)
    deadline = time.monotonic() + 60
    while len(carded_at.keys() & visible_at.keys()) < len(visible_at) and time.monotonic() < deadline:
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    done.set()
    runtime.scheduler.shutdown(wait=True)
    polls = [r for r in x.requests_to(r"/2/users/\d+/mentions$") if r.at >= started]
    throttled = [r for r in x.requests if r.response is not None and r.response.status == 429]
    x.stop()
    slack.stop()
    lags = [carded_at[t] - visible_at[t] for t in visible_at if t in carded_at and t not in late]
    late_lags = [carded_at[t] - visible_at[t] for t in late if t in carded_at]
    stored = {
        row["id"]: from_iso(row["stored_at"]).timestamp()
        for row in runtime.store.db.query("SELECT id, stored_at FROM tweets")
    }
    to_store = [stored[t] - wall_visible[t] for t in wall_visible if t in stored]
    posting = [
        row[0]
        for row in runtime.store.db.execute(
            "SELECT (julianday(c.posted_at) - julianday(t.stored_at)) * 86400 FROM cases c JOIN tweets t "
            "ON t.id = c.tweet_id WHERE c.posted_at IS NOT NULL"
        )
    ]
    print(f"Live: {mentions} mentions at random moments over {seconds:.0f} s, default settings")
    print(f"  carded {len(lags) + len(late_lags)} of {mentions} ({len(late)} indexed 5–30 s late)")
    print(f"  visible on X → card in Slack, on time: {figures(lags)} (targets: p50 ≤ 3 s, p99 ≤ 8 s)")
    print(f"  visible on X → card in Slack, indexed late: {figures(late_lags)} (target: p99 ≤ 45 s)")
    print(
        f"    of which visible → stored: p50 {percentile(to_store, 50):.2f} s · p90 {percentile(to_store, 90):.2f} s; "
        f"stored → card recorded: p50 {percentile(posting, 50):.2f} s · p90 {percentile(posting, 90):.2f} s"
    )
    print(
        f"  mention polls: {len(polls)} in {elapsed:.0f} s = {len(polls) / elapsed * 900:.0f} per 15 min "
        f"(limit {LIMITS_2026['users/mentions']}) · answers with 429: {len(throttled)}"
    )


def dm_bot(stream: bool, customers: list[str]) -> tuple[FakeX, FakeSlack, Any]:
    """One bot with its own fake X and Slack (X's DM read limit is per user): a card per customer."""
    x, slack = FakeX(), FakeSlack(channels=(QUEUE,))
    x.endpoint_limits.update(LIMITS_2026)
    x.start()
    slack.start()
    extra = {"X_BEARER_TOKEN": "bench-bearer", "X_ACTIVITY_STREAM": "true"} if stream else {}
    runtime = build_runtime(settings_for(x, slack, tempfile.mkdtemp(prefix="perch-dm-latency-"), **extra))
    for name in customers:
        x.add_tweet(f"@Delta {name} here, my bag is lost", name, created_at=datetime.now(UTC) - timedelta(minutes=2))
    runtime.scheduler.start()
    deadline = time.monotonic() + 60
    while len(slack.top_level(QUEUE)) < len(customers) and time.monotonic() < deadline:
        time.sleep(0.1)
    return x, slack, runtime


def threaded_dms(slack: FakeSlack) -> dict[str, float]:
    """DM event id → when its thread message was first seen (the watcher's clock)."""
    return {
        str(((m.metadata or {}).get("event_payload") or {}).get("dm_event_id")): 0.0
        for m in list(slack.messages)
        if m.thread_ts and (m.metadata or {}).get("event_type") == "perch_dm"
    }


def dms_live(dms: int, seconds: float, seed: int) -> None:
    """DM sent → in the card's thread, polled and streamed, in the same run and at the same moments."""
    rng = random.Random(seed)
    customers = [f"dm_customer{n}" for n in range(dms)]
    bots = {"polled": dm_bot(False, customers), "streamed": dm_bot(True, customers)}
    sent: dict[str, dict[str, float]] = {name: {} for name in bots}
    seen: dict[str, dict[str, float]] = {name: {} for name in bots}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for name, (_x, slack, _runtime) in bots.items():
                for event_id in threaded_dms(slack):
                    seen[name].setdefault(event_id, time.monotonic())
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()
    time.sleep(3)  # the stream subscribes and connects; the polls learn X's budgets
    started = time.monotonic()
    for n, moment in enumerate(sorted(rng.uniform(0, seconds) for _ in range(dms))):
        time.sleep(max(0.0, started + moment - time.monotonic()))
        for name, (x, _slack, _runtime) in bots.items():
            sent[name][x.add_dm(f"My tag is DL{n:06d}", customers[n])] = time.monotonic()
    deadline = time.monotonic() + 150
    while any(len(seen[n].keys() & sent[n].keys()) < dms for n in bots) and time.monotonic() < deadline:
        time.sleep(0.1)
    done.set()
    print(f"DMs: {dms} customers with a card each send a DM at random moments over {seconds:.0f} s")
    for name, (x, slack, runtime) in bots.items():
        runtime.scheduler.shutdown(wait=True)
        lags = [seen[name][e] - t for e, t in sent[name].items() if e in seen[name]]
        polls = [r for r in x.requests_to(r"^/2/dm_events$") if r.at >= started]
        connects = len(x.requests_to(r"^/2/activity/stream$"))
        target = " (target: p50 ≤ 5 s)" if name == "streamed" else ""
        print(f"  DM sent → in the card's thread, {name}: {figures(lags)}{target}")
        print(f"    DM polls: {len(polls)} · stream connects: {connects}")
        x.stop()
        slack.stop()


def simulated_day(mentions: int, hours: float, seed: int, step: float, late_share: float) -> None:
    rng = random.Random(seed)
    x, slack = FakeX(), FakeSlack(channels=(QUEUE,))
    x.endpoint_limits.update(LIMITS_2026)
    x.start()
    slack.start()
    clock_now = [datetime.now(UTC).timestamp() - hours * 3600]
    clock = lambda: clock_now[0]  # noqa: E731
    x.clock = clock
    runtime = build_runtime(settings_for(x, slack, tempfile.mkdtemp(prefix="perch-day-"), X_READ_DMS="false"))
    runtime.ingestor.clock = clock
    runtime.x.clock = clock
    span = hours * 3600
    moments = sorted(rng.uniform(60, span) for _ in range(mentions))
    pending, late = [], set()
    for n, moment in enumerate(moments):
        lag = late_by(rng, late_share)  # shown at `moment`, created `lag` before
        created = datetime.fromtimestamp(clock_now[0] + moment - lag, UTC)
        tweet_id = x.add_tweet(f"@Delta help {n}", f"c{n}", created_at=created, visible=False)
        pending.append((clock_now[0] + moment, tweet_id))
        if lag:
            late.add(tweet_id)
    pending.sort()
    returned = [0]
    original = x.finish

    def count(request, response):
        if "/mentions" in request.path and isinstance(response.body, dict):
            returned[0] += len(response.body.get("data") or [])
        return original(request, response)

    x.finish = count
    stored_at: dict[str, float] = {}
    end = clock_now[0] + span + 60
    wall = time.monotonic()
    index = 0
    while clock_now[0] < end:
        while index < len(pending) and pending[index][0] <= clock_now[0]:
            x.publish(pending[index][1])
            index += 1
        report = runtime.ingestor.run()
        if report.stored:
            for row in runtime.store.db.query("SELECT id FROM tweets"):
                stored_at.setdefault(row["id"], clock_now[0])
        clock_now[0] += step
    x.stop()
    slack.stop()
    new = runtime.store.db["tweets"].count
    visible = {tweet_id: at for at, tweet_id in pending}
    lags = [stored_at[t] - visible[t] for t in visible if t in stored_at and t not in late]
    late_lags = [stored_at[t] - visible[t] for t in late if t in stored_at]
    print(
        f"\nA simulated {hours:g} h: {mentions} mentions at random moments, ingest job every {step:g} s of driven time"
    )
    print(f"  stored {new} of {mentions} ({len(late)} indexed 5–30 s late); X returned {returned[0]} posts")
    print(
        f"  posts read per new post: {returned[0] / max(new, 1):.3f} "
        f"(re-reads per new post {max(returned[0] - new, 0) / max(new, 1):.3f}; target ≤ 2.5 reads)"
    )
    print(f"  visible → stored (simulated), on time: {figures(lags)}")
    print(f"  visible → stored (simulated), indexed late: {figures(late_lags)} (target: p99 ≤ 45 s)")
    print(f"  wall time {time.monotonic() - wall:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--day-mentions", type=int, default=2000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--step", type=float, default=3.0, help="driven seconds between two ingest runs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--late-share", type=float, default=0.2, help="share of mentions indexed 5–30 s late")
    parser.add_argument("--dms", type=int, default=20, help="customers who each send one DM")
    parser.add_argument("--dm-seconds", type=float, default=240)
    parser.add_argument("--only-dms", action="store_true", help="only the DM figures (polled and streamed)")
    args = parser.parse_args()
    if not args.only_dms:
        live(args.mentions, args.seconds, args.seed, args.late_share)
        simulated_day(args.day_mentions, args.hours, args.seed, args.step, args.late_share)
    dms_live(args.dms, args.dm_seconds, args.seed)


if __name__ == "__main__":
    main()
