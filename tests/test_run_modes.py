"""`python -m bot --http` as a real process: health check, signed requests, SIGTERM, and SIGKILL mid-post."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests

from fakes.slack_requests import block_action_body, signed_post, slash_command_body, view_submission_body
from fakes.socket_mode import FakeSocketMode
from storage.db import Store
from tests.helpers import QUEUE, SIGNING_SECRET, minutes_ago, wait_until

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """The bot as its own process, its output in a file: a pipe nobody reads fills up (64 KiB of log
    lines on a slow machine) and then blocks the process in the middle of logging, even its shutdown."""
    log = (cwd / f"perch-{uuid.uuid4().hex[:8]}.log").open("w")
    process = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, text=True)
    process.log_path = log.name  # type: ignore[attr-defined]
    return process


def output_of(process: subprocess.Popen) -> str:
    return Path(process.log_path).read_text()  # type: ignore[attr-defined]


@pytest.fixture
def start_bot(bot_env, tmp_path):
    processes: list[subprocess.Popen] = []

    def start(**overrides: str) -> tuple[subprocess.Popen, str]:
        port = free_port()
        env = {
            **os.environ,
            **bot_env,
            "PORT": str(port),
            "POLL_INTERVAL_SECONDS": "0.2",
            "POST_INTERVAL_SECONDS": "0.2",
            "PYTHONPATH": str(ROOT),
            **overrides,
        }
        env.pop("SLACK_APP_TOKEN")
        process = launch([sys.executable, "-m", "bot", "--http", "--host", "127.0.0.1"], env, tmp_path)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return requests.get(url + "/healthz", timeout=1).status_code == 200
            except requests.ConnectionError:
                assert process.poll() is None, output_of(process)
                return False

        wait_until(healthy)
        return process, url

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_http_mode_serves_slack_and_stops_cleanly_on_sigterm(start_bot, fake_x, fake_slack):
    fake_x.add_tweet("@Delta the kiosk at LGA is frozen", "kiosk_fan", created_at=minutes_ago(2))
    process, url = start_bot()
    health = requests.get(url + "/healthz", timeout=5).json()
    assert health["ok"] is True and set(health["jobs"]) == {
        "ingest",
        "post",
        "reminders",
        "sla",
        "health",
        "bulk",
        "outbox",
        "review",
    }
    wait_until(lambda: fake_slack.top_level())
    card = fake_slack.top_level()[0]

    click = block_action_body("claim", "1", user="U0AGENT", channel=QUEUE, message_ts=card.ts)
    assert signed_post(url + "/slack/events", SIGNING_SECRET, click).status_code == 200
    wait_until(lambda: "<@U0AGENT> has it" in json.dumps(fake_slack.top_level()[0].blocks))
    escalate = block_action_body("escalate", "1", user="U0AGENT", channel=QUEUE, message_ts=card.ts)
    assert signed_post(url + "/slack/events", SIGNING_SECRET, escalate).status_code == 200
    wait_until(lambda: fake_slack.ephemerals)
    assert fake_slack.ephemerals[0].ephemeral_to == "U0AGENT"
    assert "No locations are set up yet" in fake_slack.ephemerals[0].text

    assert signed_post(url + "/slack/events", "not-the-secret", escalate).status_code == 401
    stale = signed_post(url + "/slack/events", SIGNING_SECRET, escalate, timestamp=int(time.time()) - 3600)
    assert stale.status_code == 401
    assert len(fake_slack.ephemerals) == 1

    help_reply = signed_post(
        url + "/slack/events", SIGNING_SECRET, slash_command_body("help", user="U0AGENT", channel=QUEUE)
    )
    assert help_reply.status_code == 200 and "/perch help" in help_reply.json()["text"]
    odd = signed_post(
        url + "/slack/events", SIGNING_SECRET, slash_command_body("<!channel>", user="U0AGENT", channel=QUEUE)
    )
    assert "&lt;!channel&gt;" in odd.json()["text"]

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    output = output_of(process)
    assert "Perch stopped" in output
    for secret in ("xoxb-test-token", SIGNING_SECRET, "token-secret"):
        assert secret not in output


def test_sigkill_between_posting_and_recording_does_not_duplicate(start_bot, fake_x, fake_slack):
    ids = [
        fake_x.add_tweet(f"@Delta gate change chaos {n}", f"gate{n}", created_at=minutes_ago(5 - n)) for n in range(3)
    ]
    # Slack stores the first card but holds its answer back; the bot is killed while it waits.
    fake_slack.script(r"chat\.postMessage$", mode="apply_then", status=200, body={"ok": True}, delay=30)
    process, _ = start_bot()
    wait_until(lambda: fake_slack.top_level())
    process.kill()
    process.wait(timeout=10)
    assert len(fake_slack.top_level()) == 1
    fake_slack.faults.clear()
    process, url = start_bot()
    wait_until(lambda: len(fake_slack.top_level()) >= 3)
    post_runs = set()  # each post run schedules the next: several new times, several runs with nothing to post

    def several_more_post_runs() -> bool:
        post_runs.add(requests.get(url + "/healthz", timeout=5).json()["jobs"]["post"])
        return len(post_runs) > 3

    wait_until(several_more_post_runs)
    posted = [m.metadata["event_payload"]["tweet_id"] for m in fake_slack.top_level()]
    assert posted == ids
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_socket_mode_receives_a_click_acks_it_and_stops_on_sigterm(bot_env, fake_x, fake_slack, tmp_path):
    """`python -m bot` (the default mode): apps.connections.open, the WebSocket, an interaction, its ack."""
    socket_mode = FakeSocketMode().start()
    fake_slack.socket_url = socket_mode.url
    fake_x.add_tweet("@Delta the app will not load my boarding pass", "boarding", created_at=minutes_ago(2))
    env = {
        **os.environ,
        **bot_env,
        "POLL_INTERVAL_SECONDS": "0.2",
        "POST_INTERVAL_SECONDS": "0.2",
        "PYTHONPATH": str(ROOT),
    }
    process = launch([sys.executable, "-m", "bot"], env, tmp_path)
    try:
        assert socket_mode.connected.wait(20), "the bot opened the Socket Mode connection"
        wait_until(lambda: fake_slack.top_level())
        card = fake_slack.top_level()[0]
        payload = json.loads(
            parse_qs(block_action_body("claim", "1", user="U0AGENT", channel=QUEUE, message_ts=card.ts))["payload"][0]
        )
        socket_mode.send_envelope("env-claim-1", "interactive", payload)
        wait_until(lambda: "env-claim-1" in socket_mode.acks)
        wait_until(lambda: "<@U0AGENT> has it" in json.dumps(fake_slack.top_level()[0].blocks))
        assert (
            fake_slack.requests_to(r"apps\.connections\.open$")[0].headers["authorization"] == "Bearer xapp-test-token"
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        socket_mode.stop()
    assert "xoxb-test-token" not in output_of(process)


@pytest.mark.parametrize("reached_x", [True, False], ids=["reached-x", "never-reached-x"])
def test_kill_9_while_a_reply_is_on_its_way_to_x_sends_it_exactly_once(
    start_bot, bot_env, fake_x, fake_slack, reached_x
):
    """The bot is killed after submitting a reply to X and before X's answer: the restarted bot looks
    for it on X and records it (reached) or sends it once (never reached); nothing is sent twice."""
    tweet = fake_x.add_tweet("@Delta my bag did not arrive", "bag_lady", created_at=minutes_ago(5))
    process, url = start_bot()
    wait_until(lambda: fake_slack.top_level())
    card = fake_slack.top_level()[0]
    click = block_action_body("reply", "1", user="U0AGENT", channel=QUEUE, message_ts=card.ts)
    assert signed_post(url + "/slack/events", SIGNING_SECRET, click).status_code == 200
    wait_until(lambda: fake_slack.views)
    x_answers = threading.Event()
    fake_x.script(r"^/2/tweets$", mode="slow" if reached_x else "replace", hold=x_answers, status=503)
    # Until the kill, the brand's timeline is down: a poll must not find the reply on X first (it
    # would, and rightly record it as sent), so the restart is what settles it.
    fake_x.script(r"^/2/users/\d+/tweets$", status=503, times=10_000)
    body = view_submission_body(
        fake_slack.views[-1], {"reply_text_0": "@bag_lady Found it, it's on its way"}, user="U0AGENT"
    )

    def submit() -> None:
        with contextlib.suppress(requests.RequestException):  # the bot dies before it answers
            signed_post(url + "/slack/events", SIGNING_SECRET, body)

    submitting = threading.Thread(target=submit, daemon=True)
    submitting.start()
    wait_until(lambda: fake_x.requests_to(r"^/2/tweets$"))  # the reply is with X, its answer held
    process.kill()
    process.wait(timeout=10)
    x_answers.set()
    store = Store(bot_env.get("DATABASE_URL") or bot_env["DATABASE_PATH"])  # the test's engine, as the bot's
    db = store.db
    assert db.execute("SELECT status FROM replies").fetchall() == [("sending",)], "as the killed process left it"
    db.execute("UPDATE replies SET attempted_at = '2000-01-01T00:00:00+00:00'")  # long enough ago
    fake_x.faults.clear()
    process, _ = start_bot()
    wait_until(lambda: db.execute("SELECT status FROM replies").fetchone()[0] == "sent")
    assert len(fake_x.posted) == 1 and fake_x.posted[0]["reply"]["in_reply_to_tweet_id"] == tweet
    x_id = db.execute("SELECT x_id FROM replies").fetchone()[0]
    assert x_id in fake_x.tweets and fake_x.tweets[x_id].author_id == fake_x.brand["id"]
    assert db.execute("SELECT first_response_at IS NOT NULL FROM cases").fetchone()[0] == 1
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    store.close()


def test_sigterm_while_x_drips_an_answer_exits_within_the_answer_deadline(start_bot, fake_x, fake_slack):
    """A poll stuck on an answer X sends a byte at a time does not hold the process: SIGTERM stops the
    scheduler, the poll gives up at the X client's whole-answer deadline, and the process exits."""
    fake_x.add_tweet("@Delta anyone there?", "patient", created_at=minutes_ago(2))
    process, _ = start_bot()
    wait_until(lambda: fake_slack.top_level())
    drip = fake_x.script(r"/mentions$", mode="slow", drip=0.5, times=1000)  # minutes per answer, if nothing stops it
    wait_until(lambda: drip.taken > 0)  # a poll is reading the drip now (not one that came before the script)
    process.send_signal(signal.SIGTERM)
    try:
        exited = process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        pytest.fail("not stopped within 40 s (the answer deadline is 15 s); its log:\n" + output_of(process)[-4000:])
    assert exited == 0, "bounded by the answer deadline (15 s), not by X"
    assert "Perch stopped" in output_of(process)
