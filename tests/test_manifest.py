"""`manifest.yml` is valid against Slack's published schema and matches what the code uses."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
import yaml
from slack_bolt.request import BoltRequest

from bot.blocks.cards import case_card
from bot.slack.ids import CARD_ACTIONS, Command
from fakes.slack_requests import block_action_body, slash_command_body
from storage.cases import CardData
from tests.helpers import QUEUE, cycle, minutes_ago, wait_until

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "specs" / "slack" / "manifest.schema.1.0.0.json"
# Which bot scope each Web API method the bot calls needs (from Slack's method reference).
METHOD_SCOPES = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "conversations.history": {"channels:history", "groups:history"},
    "conversations.replies": {"channels:history", "groups:history"},
    "usergroups.users.list": {"usergroups:read"},
    "views.open": set(),
    "views.update": set(),
    "conversations.open": {"im:write"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_is_valid_against_slacks_schema(manifest):
    if not SCHEMA.exists():
        pytest.fail(f"Slack's manifest schema is expected at {SCHEMA}")
    jsonschema.validate(manifest, json.loads(SCHEMA.read_text()))


def test_slash_commands_match_the_code(manifest):
    in_manifest = {c["command"] for c in manifest["features"]["slash_commands"]}
    source = "\n".join(p.read_text() for p in (ROOT / "handlers").rglob("*.py"))
    registered = re.findall(r"app\.command\(Command\.(\w+)\)", source)
    in_code = {str(Command[name]) for name in registered}
    assert in_manifest == in_code == {str(command) for command in Command} == {"/perch"}


def test_every_button_perch_shows_has_a_listener(make_bot):
    bot = make_bot()
    shown = set()
    base = dict(
        case_id=1,
        status="new",
        tweet_id="1",
        text="@Delta hi",
        author_handle="a",
        author_name="A",
        author_followers=1,
        created_at="2026-01-01T00:00:00.000Z",
        post_attempted_at=None,
        posted_at="2026-01-01T00:01:00.000Z",
    )
    for state in (
        {},
        {"status": "claimed", "assignee": "U1"},
        {"status": "in_dm", "assignee": "U1", "in_dm": True, "author_id": "91"},
        {"status": "resolved", "resolved_at": "2026-01-01T01:00:00.000Z", "resolved_by": "U1"},
    ):
        surveys = timedelta(days=30)  # surveys on: a case in DM offers Resolve without survey
        for block in case_card(CardData(**{**base, **state}), csat_cooldown=surveys)["blocks"]:
            if block["type"] == "actions":
                shown |= {element["action_id"] for element in block["elements"]}
            if "action_id" in block.get("accessory", {}):  # a button beside a section (History)
                shown.add(block["accessory"]["action_id"])
    assert {"claim", "reply", "move_to_dm", "reply_dm", "escalate", "resolve", "unclaim", "reassign", "reopen"} <= shown
    assert {"resolve_no_survey", "history"} <= shown
    for action_id in sorted(shown | {"saved_reply_pick"}):
        body = block_action_body(action_id, "1", user="U1", channel=QUEUE, message_ts="1.1")
        assert bot.app.dispatch(BoltRequest(body=body)).status == 200, f"no listener for {action_id}"
    assert set(CARD_ACTIONS) <= shown


def test_interactivity_and_socket_mode_are_on(manifest):
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True


def test_scopes_are_exactly_what_the_bot_calls(manifest, make_bot, fake_x, fake_slack):
    first = fake_x.add_tweet("@Delta my bag", "bag_owner", created_at=minutes_ago(3))
    fake_slack.usergroups["S0SUPPORT"] = {"U1"}
    bot = make_bot(SUPPORT_USERGROUP="S0SUPPORT")
    bot.ingestor.run()
    fake_slack.script(r"chat\.postMessage$", mode="apply_then", drop_connection=True)
    bot.poster.run()
    bot.poster.run()  # reconciles through conversations.history
    fake_x.add_tweet("@Delta any news?", "bag_owner", reply_to=first)
    bot.ingestor.run()
    fake_slack.script(r"chat\.postMessage$", mode="apply_then", drop_connection=True)
    cycle(bot, times=2)  # follow-up reconciled through conversations.replies
    card = fake_slack.top_level()[0]
    for action_id, user in (("claim", "U1"), ("reply", "U1"), ("resolve", "U2")):
        body = block_action_body(action_id, "1", user=user, channel=QUEUE, message_ts=card.ts)
        assert bot.app.dispatch(BoltRequest(body=body)).status == 200
    command = slash_command_body(
        "report today csv", user="U1", channel=QUEUE, response_url=f"{fake_slack.url}/response_url/1"
    )
    assert bot.app.dispatch(BoltRequest(body=command)).status == 200
    wait_until(
        lambda: (
            fake_slack.views and fake_slack.ephemerals and fake_slack.requests_to(r"chat\.update$") and fake_slack.files
        )
    )
    called = {r.path.removeprefix("/api/") for r in fake_slack.requests if r.path.startswith("/api/")}
    assert {
        "chat.postMessage",
        "conversations.history",
        "conversations.replies",
        "usergroups.users.list",
        "views.open",
        "chat.update",
        "chat.postEphemeral",
    } <= called
    needed = {"commands"}
    for method in called:
        assert method in METHOD_SCOPES, f"add {method}'s scope to METHOD_SCOPES and manifest.yml"
        needed |= METHOD_SCOPES[method]
    needed |= {"channels:history", "groups:history"}  # the queue may be a public or a private channel
    needed |= {"channels:read", "groups:read"}  # conversations.info: a route's channel (`routes add`), doctor
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed
