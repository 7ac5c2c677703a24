"""Two real `python -m bot --http` processes on one SQLite file: one leads (runs the jobs), both answer
Slack; the leader killed or frozen, the other takes over, and nothing is carded or sent twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from fakes.slack_requests import block_action_body, signed_post, view_submission_body
from tests.engines import ENGINE
from tests.helpers import QUEUE, SIGNING_SECRET, minutes_ago, wait_until
from tests.test_run_modes import free_port

ROOT = Path(__file__).resolve().parents[1]
LEASE_SECONDS = "3"  # renewed every second: a takeover within 4 s of a freeze


@dataclass
class Perch:
    process: subprocess.Popen
    url: str
    log: Path  # what the process wrote (stdout and stderr)

    def health(self) -> dict:
        return requests.get(self.url + "/healthz", timeout=1).json()

    def role(self) -> str | None:
        try:
            return self.health()["role"]
        except requests.RequestException:  # frozen or dead
            return None

    def metric(self, name: str) -> float:
        """The sum of a metric's samples (all labels) in this process's `GET /metrics`."""
        text = requests.get(self.url + "/metrics", timeout=5).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name
        )

    def post(self, body: str, retry_num: int | None = None) -> requests.Response:
        return signed_post(self.url + "/slack/events", SIGNING_SECRET, body, retry_num=retry_num)


@pytest.fixture
def perch(bot_env, tmp_path) -> Iterator:
    """Start a Perch process on the test's database; the first started leads (the others wait)."""
    started: list[Perch] = []

    def start(role: str | None = None, **overrides: str) -> Perch:
        port = free_port()
        env = {
            **os.environ,
            **bot_env,
            "PORT": str(port),
            "POLL_INTERVAL_SECONDS": "0.2",
            "POST_INTERVAL_SECONDS": "0.2",
            "LEADER_LEASE_SECONDS": LEASE_SECONDS,
            "PYTHONPATH": str(ROOT),
            **overrides,
        }
        env.pop("SLACK_APP_TOKEN")
        log = tmp_path / f"perch-{port}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "--http", "--host", "127.0.0.1"],
                env=env,
                cwd=tmp_path,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        one = Perch(process, f"http://127.0.0.1:{port}", log)
        started.append(one)
        wait_until(lambda: one.role() is not None and (role is None or one.role() == role))
        return one

    yield start
    for one in started:
        if one.process.poll() is None:
            one.process.send_signal(signal.SIGCONT)
            one.process.kill()
        one.process.wait(timeout=10)


def card_tweets(fake_slack) -> list[str]:
    return [m.metadata["event_payload"].get("tweet_id") for m in fake_slack.top_level()]


def several_post_runs(perch: Perch) -> None:
    """Wait for the leader's post job to run several more times (each run schedules the next)."""
    seen: set[str] = set()

    def more() -> bool:
        seen.add(perch.health()["jobs"]["post"])
        return len(seen) > 3

    wait_until(more)


def test_of_two_processes_only_the_leader_polls_and_both_say_their_role(perch, fake_x, fake_slack):
    ids = [fake_x.add_tweet(f"@Delta lost bag {n}", f"bag{n}", created_at=minutes_ago(5 - n)) for n in range(3)]
    leader, standby = perch("leader"), perch("standby", LOG_FORMAT="json")
    wait_until(lambda: leader.metric("perch_polls_total") >= 10)
    assert standby.metric("perch_polls_total") == 0
    wait_until(lambda: len(fake_slack.top_level()) == 3)
    assert card_tweets(fake_slack) == ids
    assert {key: standby.health()[key] for key in ("ok", "role", "database")} == {
        "ok": True,
        "role": "standby",
        "database": ENGINE,
    }
    assert leader.metric("perch_lease_epoch") == standby.metric("perch_lease_epoch") == 1
    lines = [json.loads(line) for line in standby.log.read_text().splitlines()]  # LOG_FORMAT=json: each line
    assert any(line["logger"] == "bot" and line["message"].startswith("Perch ") for line in lines)
    assert "xoxb-test-token" not in standby.log.read_text()


def test_the_leader_killed_during_a_poll_is_replaced_and_every_mention_is_carded_once(perch, fake_x, fake_slack):
    leader, standby = perch("leader"), perch("standby")
    answer = threading.Event()
    stalled = fake_x.script(r"/mentions$", mode="slow", hold=answer)
    ids = [fake_x.add_tweet(f"@Delta cancelled {n}", f"flyer{n}", created_at=minutes_ago(5 - n)) for n in range(5)]
    wait_until(lambda: stalled.taken == 1)  # the leader's poll is with X now
    leader.process.kill()
    leader.process.wait(timeout=10)
    answer.set()
    wait_until(lambda: standby.role() == "leader")
    wait_until(lambda: len(fake_slack.top_level()) >= 5)
    several_post_runs(standby)
    assert card_tweets(fake_slack) == ids


def test_a_frozen_leader_wakes_as_standby_and_posts_nothing_twice(perch, fake_x, fake_slack):
    """The leader is frozen (SIGSTOP) while Slack holds the answer to its first card; the standby takes
    over, finds that card in the channel and posts the rest; woken, the old leader writes nothing."""
    leader, standby = perch("leader"), perch("standby")
    answer = threading.Event()
    fake_slack.script(r"chat\.postMessage$", mode="slow", hold=answer)
    ids = [fake_x.add_tweet(f"@Delta delayed {n}", f"late{n}", created_at=minutes_ago(5 - n)) for n in range(3)]
    wait_until(lambda: fake_slack.top_level())  # the first card is in Slack; its answer is held
    leader.process.send_signal(signal.SIGSTOP)
    answer.set()
    wait_until(lambda: standby.role() == "leader")
    wait_until(lambda: len(fake_slack.top_level()) >= 3)
    leader.process.send_signal(signal.SIGCONT)
    wait_until(lambda: leader.role() == "standby")
    ids.append(fake_x.add_tweet("@Delta and now?", "later", created_at=minutes_ago(1)))
    wait_until(lambda: len(fake_slack.top_level()) >= 4)
    several_post_runs(standby)
    assert card_tweets(fake_slack) == ids
    assert standby.metric("perch_lease_epoch") == 2


def test_five_simultaneous_claims_sent_to_two_processes_have_one_winner(perch, fake_x, fake_slack):
    fake_x.add_tweet("@Delta my seat is broken", "seat", created_at=minutes_ago(2))
    processes = [perch("leader"), perch("standby")]
    wait_until(lambda: fake_slack.top_level())
    card = fake_slack.top_level()[0]
    users = [f"U0AGENT{n}" for n in range(5)]
    barrier = threading.Barrier(5)

    def click(n: int) -> None:
        barrier.wait()
        processes[n % 2].post(block_action_body("claim", "1", user=users[n], channel=QUEUE, message_ts=card.ts))

    threads = [threading.Thread(target=click, args=(n,)) for n in range(5)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    wait_until(lambda: len(fake_slack.ephemerals) == 4)
    winners = set(users) - {m.ephemeral_to for m in fake_slack.ephemerals}
    assert len(winners) == 1
    winner = winners.pop()
    assert all(m.text == f"Already claimed by <@{winner}>." for m in fake_slack.ephemerals)
    wait_until(lambda: f"<@{winner}> has it" in str(fake_slack.top_level()[0].blocks))


def test_a_reply_submitted_to_the_standby_and_retried_to_the_leader_posts_once(perch, fake_x, fake_slack):
    tweet = fake_x.add_tweet("@Delta my bag did not arrive", "bag_lady", created_at=minutes_ago(2))
    leader, standby = perch("leader"), perch("standby")
    wait_until(lambda: fake_slack.top_level())
    card = fake_slack.top_level()[0]
    standby.post(block_action_body("reply", "1", user="U0AGENT", channel=QUEUE, message_ts=card.ts))
    wait_until(lambda: fake_slack.views)
    body = view_submission_body(fake_slack.views[-1], {"reply_text_0": "@bag_lady Found it!"}, user="U0AGENT")
    assert standby.post(body).status_code == 200
    assert leader.post(body, retry_num=1).status_code == 200  # Slack's retry, through the load balancer
    assert standby.post(body, retry_num=2).status_code == 200
    posts = fake_x.requests_to(r"^/2/tweets$")
    assert len(posts) == 1 and fake_x.posted[0]["reply"]["in_reply_to_tweet_id"] == tweet
    wait_until(lambda: fake_slack.thread(card.ts))
    several_post_runs(leader)
    assert len(fake_x.requests_to(r"^/2/tweets$")) == 1
    assert standby.metric("perch_sends_total") == 1
