"""The fake Slack answers as Slack's Web API does, and refuses what Slack refuses."""

from __future__ import annotations

import json

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from fakes.block_kit import check_blocks, check_message, check_view
from fakes.block_kit_schema import message_blocks_problem, view_answer_problem
from fakes.slack_requests import signed_post
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


PLAIN = {"type": "plain_text", "text": "Go"}


def button(text: dict, action_id: str = "go") -> dict:
    return {"type": "button", "action_id": action_id, "text": text}


def test_a_mrkdwn_button_is_refused_by_slacks_published_shapes(client, fake_slack):
    """slack_sdk's models build it without complaint; Slack's own types (the schema) do not allow it."""
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject

    built = ActionsBlock(elements=[ButtonElement(text=MarkdownTextObject(text="*Go*"), action_id="go")]).to_dict()
    assert built["elements"][0]["text"]["type"] == "mrkdwn", "slack_sdk accepts it"
    pointer = "[json-pointer:/blocks/0/elements/0/text/type]"
    assert message_blocks_problem([built]) == f"'plain_text' was expected {pointer}"
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel=QUEUE, text="t", blocks=[built])
    assert refused.value.response["error"] == "invalid_blocks" and fake_slack.messages == []
    assert refused.value.response["errors"] and "plain_text" in refused.value.response["errors"][0]


@pytest.mark.parametrize(
    ("blocks", "reason"),
    [
        (
            [{"type": "context", "elements": [button({"type": "plain_text", "text": "Go"})]}],
            "Slack has no 'button' here [json-pointer:/blocks/0/elements/0]",
        ),
        (
            [section("x", acessory=button({"type": "plain_text", "text": "Go"}))],
            "('acessory' was unexpected) [json-pointer:/blocks/0]",
        ),
        ([{"type": "divider"}, {"type": "image", "alt_text": "a chart"}], "'image_url' is a required property"),
        (
            [section("x", accessory={"type": "plain_text_input", "action_id": "t"})],
            "Slack has no 'plain_text_input' here [json-pointer:/blocks/0/accessory]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "radio_buttons",
                            "action_id": "r",
                            "options": [{**option("a", "a"), "description": {"type": "mrkdwn", "text": "*b*"}}],
                        }
                    ],
                }
            ],
            "'plain_text' was expected [json-pointer:/blocks/0/elements/0/options/0/description/type]",
        ),
    ],
)
def test_shapes_the_limit_checks_cannot_see_are_refused(client, fake_slack, blocks, reason):
    assert check_blocks(blocks) is None, "no count or length is wrong here"
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel=QUEUE, text="t", blocks=blocks)
    assert refused.value.response["error"] == "invalid_blocks"
    assert reason in refused.value.response["errors"][0]
    assert fake_slack.block_errors == refused.value.response["errors"] and fake_slack.messages == []


def test_modals_and_home_tabs_are_held_to_slacks_shapes(client, fake_slack):
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Reply"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [{"type": "input", "label": {"type": "plain_text", "text": "Go"}, "element": button(PLAIN)}],
    }
    with pytest.raises(SlackApiError) as refused:
        client.views_open(trigger_id="1.2.3", view=modal)
    messages = refused.value.response["response_metadata"]["messages"]
    assert messages == ["[ERROR] Slack has no 'button' here [json-pointer:/view/blocks/0/element]"]
    home = {"type": "home", "blocks": [section("Your queue"), {"type": "context", "elements": [button(PLAIN)]}]}
    with pytest.raises(SlackApiError) as refused:
        client.views_publish(user_id="U0AGENT", view=home)
    assert refused.value.response["errors"] == ["Slack has no 'button' here [json-pointer:/view/blocks/1/elements/0]"]
    assert len(fake_slack.block_errors) == 2 and fake_slack.views == [] and fake_slack.homes == {}
    home["blocks"][1] = {"type": "actions", "elements": [button(PLAIN)]}
    assert client.views_publish(user_id="U0AGENT", view=home)["ok"] and "U0AGENT" in fake_slack.homes


def test_a_pushed_view_slack_would_refuse_fails_the_sender(fake_slack):
    """A view_submission's answer goes back to whoever sent it: `signed_post` checks the view in it."""
    view = {"type": "modal", "title": {"type": "mrkdwn", "text": "*Stop*"}, "blocks": [section("x")]}
    url = fake_slack.url + "/api/views.submission"
    assert "[json-pointer:/view/title/type]" in (view_answer_problem({"response_action": "push", "view": view}) or "")
    fake_slack.script("views.submission", 200, {"response_action": "push", "view": view})
    with pytest.raises(AssertionError, match="Slack would refuse"):
        signed_post(url, "secret", "payload=x")
    view["title"]["type"] = "plain_text"
    fake_slack.script("views.submission", 200, {"response_action": "update", "view": view})
    assert signed_post(url, "secret", "payload=x").json()["response_action"] == "update"
    assert view_answer_problem({"response_action": "errors", "errors": {"b": "no"}}) is None
