"""The view that stops a public text holding personal data: what was found and where, and the way on —
send it as a DM instead (one click), or publish anyway with a reason (recorded). Shown only to the agent
who wrote it, pushed over their form, so Back returns to the text to edit it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from bot.blocks.modals import modal
from bot.blocks.mrkdwn import escape_within, one_line
from bot.slack.ids import X_HANDLE, View

CHOICE_BLOCK = "personal_data_choice"
REASON_BLOCK = "personal_data_reason"
AS_DM = "dm"
PUBLIC = "public"


class Found(Protocol):
    """One piece of personal data found (the detector's `Finding`): what, and where in the text."""

    @property
    def what(self) -> str: ...  # "a phone number"

    @property
    def value(self) -> str: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


MAX_LISTED = 10  # findings listed one by one; more are counted
METADATA_MAX = 3000  # Slack's limit on a view's private_metadata


def personal_data_modal(
    callback_id: View,
    findings: Sequence[Found],
    metadata: dict[str, Any],
    *,
    handle: str | None,
    what: str = "reply",
) -> dict[str, Any] | None:
    """`handle` is the customer a DM would go to (None: no DM possible, as for a status update);
    `what` names the text ("reply", "status update"); `metadata` (which holds the text) travels back
    with the submission. None when it would not fit Slack's 3,000 characters of metadata (a text
    with very long links): the caller says so on the form instead."""
    if len(json.dumps(metadata)) > METADATA_MAX:
        return None
    lines = [
        f"• {finding.what}: “{escape_within(one_line(finding.value), 80)}” "
        f"(characters {finding.start + 1}–{finding.end})"
        for finding in findings[:MAX_LISTED]
    ]
    if len(findings) > MAX_LISTED:
        lines.append(f"• and {len(findings) - MAX_LISTED} more")
    kinds = list(dict.fromkeys(finding.what for finding in findings))
    found = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    intro = (
        f"*Your {what} shows {found}.* Everyone on X can read it, and it stays in search and "
        "screenshots even if deleted later."
    )
    options = []
    if handle is not None:
        to = f"@{handle}" if X_HANDLE.match(handle) else "the customer"
        options.append(_option(AS_DM, f"Send it to {to} as a DM instead", "The same text, privately."))
    options.append(_option(PUBLIC, "Send it publicly anyway", "Say why below: the reason is recorded."))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": "found", "text": {"type": "mrkdwn", "text": intro + "\n" + "\n".join(lines)}},
        {
            "type": "input",
            "block_id": CHOICE_BLOCK,
            "label": {"type": "plain_text", "text": "What now?"},
            "element": {
                "type": "radio_buttons",
                "action_id": "choice",
                "options": options,
                "initial_option": options[0],
            },
        },
        {
            "type": "input",
            "block_id": REASON_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Why it must be public"},
            "hint": {"type": "plain_text", "text": "Needed to send publicly; kept with the case's history."},
            "element": {"type": "plain_text_input", "action_id": "text", "max_length": 500},
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "*Back* returns to your text, to take the details out."}],
        },
    ]
    view = modal(callback_id, "Personal data", "Send", metadata, blocks)
    view["close"] = {"type": "plain_text", "text": "Back"}
    return view


def _option(value: str, text: str, description: str) -> dict[str, Any]:
    return {
        "text": {"type": "plain_text", "text": text[:75]},
        "description": {"type": "plain_text", "text": description},
        "value": value,
    }


def chosen(view: dict[str, Any]) -> tuple[str, str]:
    """(the option picked, the reason typed) from a submitted personal-data view."""
    values = (view.get("state") or {}).get("values") or {}
    option = ((values.get(CHOICE_BLOCK) or {}).get("choice") or {}).get("selected_option") or {}
    reason = ((values.get(REASON_BLOCK) or {}).get("text") or {}).get("value") or ""
    return str(option.get("value") or ""), reason.strip()
