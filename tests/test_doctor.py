"""`python -m bot doctor`: each mistake a new user makes is named with its fix, and nothing is sent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.app import slack_client, x_client
from bot.config import load_settings
from bot.doctor import doctor, manifest_scopes
from tests.helpers import QUEUE

ROOT = Path(__file__).resolve().parents[1]


def run(bot_env, **overrides: str) -> dict[bool, list[str]]:
    settings = load_settings({**bot_env, **overrides})
    findings = doctor(settings, slack_client(settings), x_client(settings))
    return {ok: [f.text for f in findings if f.ok == ok] for ok in (True, False)}


def test_a_good_configuration_passes_every_check_and_sends_nothing(bot_env, fake_x, fake_slack):
    fake_slack.socket_url = "ws://127.0.0.1:1/socket"
    fake_slack.channels.add("C0REPORTS")
    fake_slack.usergroups["S0SUPPORT"] = {"U0A"}
    found = run(bot_env, SLACK_REPORT_CHANNEL="C0REPORTS", SUPPORT_USERGROUP="S0SUPPORT", X_BEARER_TOKEN="app-token")
    assert found[False] == []
    shown = "\n".join(found[True])
    assert "bot user @perch" in shown and "every scope manifest.yml asks for is granted" in shown
    assert "SLACK_QUEUE_CHANNEL" in shown and "SUPPORT_USERGROUP: @group-s0support" in shown
    assert "Perch speaks as @Delta" in shown and "app-only token" in shown and "DM events are readable" in shown
    assert fake_slack.messages == [] and fake_x.posted == [] and fake_x.dms == []
    assert all(int(r.query.get("max_results", "1")) <= 10 for r in fake_x.requests), "reads stay small"


def test_each_slack_mistake_is_named_with_its_fix(bot_env, fake_x, fake_slack):
    fake_slack.scopes.remove("files:write")
    fake_slack.channels.discard(QUEUE)
    fake_slack.not_member.add(QUEUE)
    found = run(bot_env, SLACK_REPORT_CHANNEL="C0NOSUCH", MANAGER_USERGROUP="S0NOSUCH")
    problems = "\n".join(found[False])
    assert "lacks files:write" in problems and "reinstall the app" in problems
    assert "Perch is not a member. In the channel, type /invite @Perch" in problems
    assert "SLACK_REPORT_CHANNEL C0NOSUCH was not found" in problems and "Channel ID" in problems
    assert "MANAGER_USERGROUP S0NOSUCH is not a user group" in problems
    assert "SLACK_APP_TOKEN was refused" in problems and "connections:write" in problems


def test_x_mistakes_are_named_credits_keys_and_dm_permission(bot_env, fake_x, fake_slack):
    fake_x.script(r"/users/me$", status=402, body={"title": "Payment Required", "detail": "credits depleted"})
    assert "credits are used up (402): top up" in "\n".join(run(bot_env)[False])
    fake_x.script(r"/users/me$", status=401, body={"title": "Unauthorized", "detail": "Unauthorized"})
    assert "must be generated for the brand account" in "\n".join(run(bot_env)[False])
    fake_x.script(r"^/2/dm_events$", status=403, body={"title": "Forbidden", "detail": "no DM access"})
    assert "Direct message permission" in "\n".join(run(bot_env)[False])


def test_the_doctor_command_prints_a_line_per_check_and_fails_when_something_is_wrong(bot_env, fake_x, fake_slack):
    env = {**os.environ, **bot_env, "PYTHONPATH": str(ROOT)}
    bad = subprocess.run([sys.executable, "-m", "bot", "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "✗ Socket Mode" in bad.stdout and "✓ Slack: workspace" in bad.stdout
    env["SLACK_QUEUE_CHANNEL"] = "#support"
    wrong = subprocess.run([sys.executable, "-m", "bot", "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "✗ Settings: SLACK_QUEUE_CHANNEL is malformed" in wrong.stdout


def test_start_up_refuses_when_perch_cannot_post_to_its_queue(bot_env, fake_x, fake_slack):
    fake_slack.channels.discard(QUEUE)
    fake_slack.not_member.add(QUEUE)
    env = {**os.environ, **bot_env, "PYTHONPATH": str(ROOT)}
    started = subprocess.run(
        [sys.executable, "-m", "bot", "--http"], env=env, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 2 and "/invite @Perch" in started.stderr and "not starting" in started.stderr
    assert fake_slack.messages == []


def test_the_doctor_reads_the_scopes_from_the_manifest():
    assert manifest_scopes() is not None and "chat:write" in manifest_scopes()
