"""The fake Slack answers as Slack's Web API does, and refuses what Slack refuses."""

from __future__ import annotations

import json

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from fakes.block_kit import check_message, check_view
from tests.helpers import QUEUE

pytestmark = pytest.mark.refused_blocks  # these tests send refused payloads on purpose


@pytest.fixture
def client(fake_slack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake_slack.url + "/api/")


def section(text: str, **extra) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def option(text: str, value: str) -> dict:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def test_chat_update_echoes_channel_ts_text_and_message(client):
    posted = client.chat_postMessage(channel=QUEUE, text="first")
    updated = client.chat_update(channel=QUEUE, ts=posted["ts"], text="second")
    assert updated["channel"] == QUEUE and updated["ts"] == posted["ts"] and updated["text"] == "second"
    assert updated["message"]["text"] == "second" and "blocks" not in updated["message"], "omitted, not null"


def test_history_bounds_are_exclusive_unless_inclusive(client):
    ts = [client.chat_postMessage(channel=QUEUE, text=f"m{n}")["ts"] for n in range(3)]
    found = client.conversations_history(channel=QUEUE, oldest=ts[0], latest=ts[2])["messages"]
    assert [m["ts"] for m in found] == [ts[1]]
    found = client.conversations_history(channel=QUEUE, oldest=ts[0], latest=ts[2], inclusive=True)["messages"]
    assert [m["ts"] for m in found] == ts[::-1]


def test_thread_parents_carry_thread_ts_and_reply_count(client):
    parent = client.chat_postMessage(
        channel=QUEUE, text="card", metadata={"event_type": "perch_case", "event_payload": {"case_id": 1}}
    )
    reply = client.chat_postMessage(channel=QUEUE, text="note", thread_ts=parent["ts"])
    (message,) = client.conversations_history(channel=QUEUE)["messages"]
    assert message["thread_ts"] == message["ts"] and message["reply_count"] == 1
    assert message["latest_reply"] == reply["ts"] and "metadata" not in message
    with_metadata = client.conversations_history(channel=QUEUE, include_all_metadata=True)["messages"][0]
    assert with_metadata["metadata"]["event_type"] == "perch_case"
    lone = client.chat_postMessage(channel=QUEUE, text="no thread")
    latest = client.conversations_history(channel=QUEUE, limit=1)["messages"][0]
    assert latest["ts"] == lone["ts"] and "thread_ts" not in latest and "reply_count" not in latest


def test_home_views_follow_view_rules_not_message_rules(client):
    home = {"type": "home", "blocks": [section(f"line {n}") for n in range(80)]}
    assert client.views_publish(user_id="U0AGENT", view=home)["ok"]
    home["blocks"] = [section(f"line {n}") for n in range(101)]
    with pytest.raises(SlackApiError):
        client.views_publish(user_id="U0AGENT", view=home)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=QUEUE, text="too many", blocks=[section(f"l{n}") for n in range(51)])


@pytest.mark.parametrize(
    ("blocks", "reason"),
    [
        (
            [
                {
                    "type": "actions",
                    "elements": [{"type": "static_select", "action_id": "s", "options": [option("x" * 76, "v")]}],
                }
            ],
            "option text",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [{"type": "static_select", "action_id": "s", "options": [option("x", "v" * 151)]}],
                }
            ],
            "option value",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "b",
                            "text": {"type": "plain_text", "text": "Go"},
                            "confirm": {
                                "title": {"type": "plain_text", "text": "t" * 101},
                                "text": {"type": "mrkdwn", "text": "sure?"},
                                "confirm": {"type": "plain_text", "text": "Yes"},
                                "deny": {"type": "plain_text", "text": "No"},
                            },
                        }
                    ],
                }
            ],
            "confirm title",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "b",
                            "text": {"type": "plain_text", "text": "Go"},
                            "confirm": {
                                "title": {"type": "plain_text", "text": "Sure"},
                                "text": {"type": "mrkdwn", "text": "x" * 301},
                                "confirm": {"type": "plain_text", "text": "Yes"},
                                "deny": {"type": "plain_text", "text": "No"},
                            },
                        }
                    ],
                }
            ],
            "confirm text",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "static_select",
                            "action_id": "s",
                            "options": [option("a", "a")],
                            "placeholder": {"type": "plain_text", "text": "p" * 151},
                        }
                    ],
                }
            ],
            "placeholder",
        ),
        ([section("a", block_id="same"), section("b", block_id="same")], "duplicate block_id"),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "checkboxes",
                            "action_id": "c",
                            "options": [option(f"o{n}", f"{n}") for n in range(11)],
                        }
                    ],
                }
            ],
            "checkboxes",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "radio_buttons",
                            "action_id": "r",
                            "options": [option(f"o{n}", f"{n}") for n in range(11)],
                        }
                    ],
                }
            ],
            "radio_buttons",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "static_select",
                            "action_id": "s",
                            "options": [option("a", "a")],
                            "initial_option": option("b", "b"),
                        }
                    ],
                }
            ],
            "initial_option",
        ),
        (
            [section("x", accessory={"type": "button", "action_id": "b", "text": {"type": "mrkdwn", "text": "*Go*"}})],
            "plain_text",
        ),
    ],
)
def test_block_kit_limits_are_enforced_on_every_way_of_posting(client, fake_slack, blocks, reason):
    assert reason in (check_message({"text": "t", "blocks": blocks}) or "")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=QUEUE, text="t", blocks=blocks)
    with pytest.raises(SlackApiError):
        client.chat_postEphemeral(channel=QUEUE, user="U0AGENT", text="t", blocks=blocks)
    answer = requests.post(fake_slack.url + "/response_url/T0/1/abc", json={"text": "t", "blocks": blocks}, timeout=5)
    assert answer.json() == {"ok": False, "error": "invalid_blocks"} and fake_slack.responses == []
    assert len(fake_slack.block_errors) == 3 and not fake_slack.messages and not fake_slack.ephemerals


def test_modal_input_limits(client):
    view = {
        "type": "modal",
        "callback_id": "reply",
        "title": {"type": "plain_text", "text": "Reply"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "text",
                "label": {"type": "plain_text", "text": "Reply"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "max_length": 280,
                    "initial_value": "x" * 281,
                },
            }
        ],
    }
    assert "initial_value longer than max_length" in (check_view(view) or "")
    with pytest.raises(SlackApiError) as refused:
        client.views_open(trigger_id="1.2.3", view=view)
    assert refused.value.response["error"] == "invalid_arguments"
    view["blocks"][0]["element"]["initial_value"] = "x" * 280
    assert client.views_open(trigger_id="1.2.3", view=json.loads(json.dumps(view)))["ok"]
