"""Requests the way Slack sends them to an app: form-encoded payloads, signed with the signing secret."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

from fakes.block_kit import check_view
from fakes.block_kit_schema import view_answer_problem


def signed_post(
    url: str,
    secret: str,
    body: str,
    *,
    retry_num: int | None = None,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> requests.Response:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    answer = requests.post(url, data=body.encode(), headers=headers, timeout=10)
    refused = view_answer_refused(answer)
    if refused:
        raise AssertionError(f"Slack would refuse the view in this answer: {refused}")
    return answer


def view_answer_refused(answer: requests.Response) -> str | None:
    """Why Slack would refuse the modal an app's answer pushes or updates to (it shows the person an
    error instead), or None. Answers go back to the sender, not to the fake Slack: so they are checked here."""
    if "json" not in answer.headers.get("content-type", ""):
        return None
    body = answer.json()
    if not isinstance(body, dict) or body.get("response_action") not in ("update", "push"):
        return None
    return check_view(body.get("view") or {}) or view_answer_problem(body)


def block_action_body(
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str,
    message_ts: str,
    response_url: str = "https://hooks.slack.com/actions/T0PERCH/1/x",
) -> str:
    """A `block_actions` interaction payload for a button click on a message."""
    return _block_actions(
        action_id,
        value,
        user=user,
        block_id="case_actions",
        trigger="1",
        where={
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": "support-queue"},
            "message": {"type": "message", "ts": message_ts, "text": "card"},
            "response_url": response_url,
        },
    )


def home_action_body(action_id: str, value: str, *, user: str, view: dict[str, Any]) -> str:
    """A `block_actions` payload for a button in the user's App Home tab (no channel, no message)."""
    return _block_actions(
        action_id,
        value,
        user=user,
        block_id="home_queue",
        trigger="3",
        where={
            "container": {"type": "view", "view_id": "VHOME"},
            "view": {**view, "id": "VHOME", "type": "home"},
        },
    )


def _block_actions(action_id: str, value: str, *, user: str, block_id: str, trigger: str, where: dict[str, Any]) -> str:
    """The frame Slack sends for any button click; `where` says what surface it was on."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0PERCH", "domain": "perch-demo"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0PERCH"},
        "api_app_id": "A0PERCH",
        "token": "legacy-verification-token",
        "trigger_id": f"{int(time.time())}.{trigger}.trigger",
        **where,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": action_id},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def slash_command_body(
    text: str,
    *,
    user: str,
    channel: str,
    command: str = "/perch",
    response_url: str = "https://hooks.slack.com/commands/T0PERCH/1/x",
) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T0PERCH",
            "team_domain": "perch-demo",
            "channel_id": channel,
            "channel_name": "support-queue",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0PERCH",
            "response_url": response_url,
            "trigger_id": "1.1.trigger",
        }
    )


def view_submission_body(
    view: dict[str, Any], values: dict[str, str], *, user: str, picked: dict[str, tuple[str, str]] | None = None
) -> str:
    """A `view_submission` payload for a modal opened with `views.open`: `values` maps block id → text,
    `picked` block id → (action id, value) of a radio button or menu option chosen."""
    state: dict[str, Any] = {
        block_id: {"text": {"type": "plain_text_input", "value": text}} for block_id, text in values.items()
    }
    for block_id, (action_id, value) in (picked or {}).items():
        state[block_id] = {action_id: {"type": "radio_buttons", "selected_option": {"value": value}}}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0PERCH", "domain": "perch-demo"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0PERCH"},
        "api_app_id": "A0PERCH",
        "token": "legacy-verification-token",
        "trigger_id": f"{int(time.time())}.2.trigger",
        "view": {
            **view,
            "state": {"values": state},
        },
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)})
