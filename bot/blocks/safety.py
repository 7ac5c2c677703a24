"""The view that stops a public text holding personal data: what was found and where, and the way on —
send it as a DM instead (one click), or publish anyway with a reason (recorded). Shown only to the agent
who wrote it, pushed over their form, so Back returns to the text to edit it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from bot.blocks.modals import input_block, modal, text_box
from bot.blocks.mrkdwn import escape_within, one_line
from bot.slack.ids import X_HANDLE, Field, Input, View

AS_DM = "dm"  # the options' values, which `bot/sending.py` compares the choice with
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
    options = _ways_on(handle)
    choice = {"type": "radio_buttons", "action_id": Input.CHOICE, "options": options, "initial_option": options[0]}
    reason_hint = "Needed to send publicly; kept with the case's history."
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": "found", "text": {"type": "mrkdwn", "text": _what_was_found(findings, what)}},
        input_block(Field.PERSONAL_DATA_CHOICE, "What now?", choice),
        text_box(
            Field.PERSONAL_DATA_REASON,
            "Why it must be public",
            max_length=500,
            multiline=False,
            hint=reason_hint,
            optional=True,
        ),
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "*Back* returns to your text, to take the details out."}],
        },
    ]
    view = modal(callback_id, "Personal data", "Send", metadata, blocks)
    view["close"] = {"type": "plain_text", "text": "Back"}
    return view


def _what_was_found(findings: Sequence[Found], what: str) -> str:
    """Why the text was stopped, then each finding and where it is (the first few; the rest counted)."""
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
    return intro + "\n" + "\n".join(lines)


def _ways_on(handle: str | None) -> list[dict[str, Any]]:
    """As a DM (first, so the safe way is the one already picked) when there is someone to DM; publicly."""
    options = []
    if handle is not None:
        to = f"@{handle}" if X_HANDLE.match(handle) else "the customer"
        options.append(_option(AS_DM, f"Send it to {to} as a DM instead", "The same text, privately."))
    options.append(_option(PUBLIC, "Send it publicly anyway", "Say why below: the reason is recorded."))
    return options


def _option(value: str, text: str, description: str) -> dict[str, Any]:
    return {
        "text": {"type": "plain_text", "text": text[:75]},
        "description": {"type": "plain_text", "text": description},
        "value": value,
    }
