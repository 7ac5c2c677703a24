"""Block Kit's documented limits, as Slack enforces them on messages, modals and Home tabs.

Slack refuses a message or view that breaks one (`invalid_blocks`, `invalid_arguments`); the fake Slack
refuses it the same way, so a test fails where the real workspace would have shown nothing. Each check
returns a short reason (`"block 2: option text over 75"`) or None. Limits are from Slack's Block Kit
reference: blocks, block elements and composition objects. After them, every message and view is checked
against the shapes Slack publishes (`fakes/block_kit_schema.py`), which catch what no count can: a key
Slack does not know, an element where Slack allows none of its kind, a text object of the wrong type.
"""

from __future__ import annotations

import json
from typing import Any

from fakes.block_kit_schema import message_blocks_problem, view_problem

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
TEXT_TYPES = ("plain_text", "mrkdwn")
SELECTS = (
    "static_select",
    "multi_static_select",
    "external_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
)


def text_length(text: str) -> int:
    """Slack counts characters as UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def check_message(params: dict[str, Any]) -> str | None:
    """chat.postMessage, chat.update, chat.postEphemeral and response_url payloads."""
    text = params.get("text", "") or ""
    blocks = parse_json(params.get("blocks")) or []
    if not text and not blocks:
        return "no_text"
    if text_length(text) > 40000:
        return "msg_too_long"
    if not isinstance(blocks, list):
        return "blocks must be a list"
    if len(blocks) > MESSAGE_BLOCKS:
        return f"more than {MESSAGE_BLOCKS} blocks"
    if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks):
        return "input blocks belong in modals, not messages"
    metadata = parse_json(params.get("metadata"))
    if metadata and (not metadata.get("event_type") or "event_payload" not in metadata):
        return "invalid_metadata_format"
    return check_blocks(blocks) or message_blocks_problem(blocks)


def check_view(view: dict[str, Any]) -> str | None:
    """views.open / views.update / views.push (modals) and views.publish (Home tabs)."""
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return "view type must be modal or home"
    if kind == "modal":
        if "title" not in view:
            return "a modal needs a title"
        for name, limit in (("title", 24), ("submit", 24), ("close", 24)):
            if name in view and (problem := _plain(view[name], limit, f"view {name}")):
                return problem
    if len(view.get("private_metadata", "")) > 3000:
        return "private_metadata over 3000 characters"
    if len(view.get("callback_id", "")) > 255 or len(view.get("external_id", "")) > 255:
        return "callback_id/external_id over 255"
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= VIEW_BLOCKS:
        return f"a view needs 1-{VIEW_BLOCKS} blocks"
    if kind == "modal" and "submit" not in view and any(b.get("type") == "input" for b in blocks):
        return "a modal with input blocks needs a submit button"
    return check_blocks(blocks) or view_problem(view)


def check_blocks(blocks: list[Any]) -> str | None:
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            return f"block {index}: not an object"
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > 255:
                return f"block {index}: block_id over 255"
            if block_id in seen:
                return f"block {index}: duplicate block_id {block_id!r}"
            seen.add(block_id)
        problem = _check_block(block)
        if problem:
            return f"block {index}: {problem}"
    return None


def _check_block(block: dict[str, Any]) -> str | None:
    kind = block.get("type")
    if kind == "section":
        fields = block.get("fields") or []
        if len(fields) > 10 or any(_text(f, 2000, "field") for f in fields):
            return "a section has at most 10 fields of 1-2000 characters"
        if ("text" in block or not fields) and (problem := _text(block.get("text"), 3000, "section text")):
            return problem
        if "accessory" in block:
            return _check_element(block["accessory"])
        return None
    if kind == "context":
        elements = block.get("elements", [])
        if not 1 <= len(elements) <= 10:
            return "context needs 1-10 elements"
        for element in elements:
            if element.get("type") in TEXT_TYPES and (problem := _text(element, 3000, "context text")):
                return problem
        return None
    if kind == "actions":
        elements = block.get("elements", [])
        if not 1 <= len(elements) <= 25:
            return "actions needs 1-25 elements"
        ids = [e.get("action_id") for e in elements if e.get("action_id")]
        if len(ids) != len(set(ids)):
            return "duplicate action_id in one block"
        return next((p for p in map(_check_element, elements) if p), None)
    if kind == "header":
        return _plain(block.get("text"), 150, "header text")
    if kind == "input":
        if problem := _plain(block.get("label"), 2000, "label"):
            return problem
        if "hint" in block and (problem := _plain(block["hint"], 2000, "hint")):
            return problem
        return _check_element(block.get("element") or {})
    if kind == "image":
        if len(block.get("alt_text", "")) > 2000 or not block.get("alt_text"):
            return "image alt_text must be 1-2000 characters"
        return None
    if kind in ("divider", "rich_text", "file", "video"):
        return None
    return f"unknown block type {kind!r}"


def _check_element(element: dict[str, Any]) -> str | None:
    kind = element.get("type")
    if len(element.get("action_id", "")) > 255:
        return "action_id over 255"
    if "placeholder" in element and (problem := _plain(element["placeholder"], 150, "placeholder")):
        return problem
    if "confirm" in element and (problem := _check_confirm(element["confirm"])):
        return problem
    if kind == "button":
        if problem := _plain(element.get("text"), 75, "button text"):
            return problem
        if len(element.get("value", "")) > 2000 or len(element.get("url", "")) > 3000:
            return "button value/url too long"
        if element.get("style") not in (None, "primary", "danger"):
            return "button style must be primary or danger"
        return None
    if kind in SELECTS or kind in ("checkboxes", "radio_buttons", "overflow"):
        return _check_options(element)
    if kind == "plain_text_input":
        max_length = element.get("max_length", 3000)
        if not 1 <= max_length <= 3000 or element.get("min_length", 0) > 3000:
            return "plain_text_input lengths must be within 3000"
        if text_length(element.get("initial_value", "")) > max_length:
            return "initial_value longer than max_length"
        return None
    if kind in (
        "datepicker",
        "timepicker",
        "datetimepicker",
        "email_text_input",
        "number_input",
        "url_text_input",
        "image",
        "rich_text_input",
        "file_input",
    ):
        return None
    return f"unknown element type {kind!r}"


def _check_options(element: dict[str, Any]) -> str | None:
    kind = element["type"]
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        if problem := _plain(group.get("label"), 75, "option group label"):
            return problem
        options += group.get("options") or []
    if kind in ("static_select", "multi_static_select") and not 1 <= len(options) <= 100:
        return "a select needs 1-100 options"
    limits = {"checkboxes": 10, "radio_buttons": 10, "overflow": 5}
    if kind in limits and not 1 <= len(options) <= limits[kind]:
        return f"{kind} take 1-{limits[kind]} options"
    for option in options:
        if problem := _text(option.get("text"), 75, "option text"):
            return problem
        if not 1 <= len(option.get("value", "")) <= 150:
            return "option value must be 1-150 characters"
        if "description" in option and (problem := _text(option["description"], 75, "option description")):
            return problem
    keys = [json.dumps(o, sort_keys=True) for o in options]
    initial = ([element["initial_option"]] if "initial_option" in element else []) + list(
        element.get("initial_options") or []
    )
    if any(json.dumps(o, sort_keys=True) not in keys for o in initial) and kind not in (
        "external_select",
        "multi_external_select",
    ):
        return "initial_option must be one of the options"
    return None


def _check_confirm(confirm: dict[str, Any]) -> str | None:
    for name, limit, plain in (("title", 100, True), ("text", 300, False), ("confirm", 30, True), ("deny", 30, True)):
        if name not in confirm:
            return f"confirm dialog needs {name}"
        problem = (
            _plain(confirm[name], limit, f"confirm {name}") if plain else _text(confirm[name], limit, f"confirm {name}")
        )
        if problem:
            return problem
    if confirm.get("style") not in (None, "primary", "danger"):
        return "confirm style must be primary or danger"
    return None


def _text(obj: Any, limit: int, what: str) -> str | None:
    if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES or not isinstance(obj.get("text"), str):
        return f"{what} must be a text object"
    if not 1 <= text_length(obj["text"]) <= limit:
        return f"{what} must be 1-{limit} characters"
    return None


def _plain(obj: Any, limit: int, what: str) -> str | None:
    if isinstance(obj, dict) and obj.get("type") != "plain_text":
        return f"{what} must be plain_text"
    return _text(obj, limit, what)


def parse_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value
