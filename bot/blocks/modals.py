"""Block Kit views for the card's modals: Reply, Move to DM, Reply in DM and Resolve; and what every Perch
modal shares: its frame (`modal`) and its inputs (`input_block`, `text_box`), whose block ids are the
`Field`s `bot/forms.py` reads back. Customer text is escaped as on cards."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.common import author_line
from bot.blocks.mrkdwn import clean, escape_within, one_line, safe_mrkdwn, utf16_len
from bot.slack.ids import X_HANDLE, Action, Field, Input, View
from storage.cases import CardData

TEXT_BOX_MAX = 3000  # Slack's max_length for a plain_text_input
DM_LINK = "https://twitter.com/messages/compose?recipient_id={brand_id}"
HANDOFF_TEMPLATE = "@{handle} We'd like to help. Please send us a DM with your booking reference: {link}"


def modal(
    callback_id: View, title: str, submit: str, metadata: dict[str, Any], blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    """The frame every Perch modal shares; `metadata` travels back with the submission."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def reply_modal(
    card: CardData,
    thread: list[dict[str, Any]],
    saved: list[dict[str, Any]],
    *,
    text: str | None = None,
    version: int = 0,
    notice: str | None = None,
    opening: str | None = None,
) -> dict[str, Any]:
    """The Reply modal: the tweet, the thread so far, saved replies, and the text box.

    `opening` is what the box starts with after the @mention (the saved reply for a post that shows
    personal data).
    `version` changes the text box's block id, which is how Slack is told to show a new initial
    value after a saved reply is picked. `notice` is a line for the agent above the box (Perch's own
    words). The box never starts with more than it can hold: Slack refuses the whole view if it does.
    """
    blocks: list[dict[str, Any]] = [_tweet_section(card)]
    if len(thread) > 1:
        blocks.append(
            {"type": "section", "block_id": "thread", "text": {"type": "mrkdwn", "text": _thread_text(thread)}}
        )
    blocks += _before_the_box(saved, notice)
    start = text if text is not None else _mention(card) + (opening or "")
    hint = (
        "Up to 280 characters as X counts them: links count 23, emoji and CJK characters 2. Sent as a reply to "
        "the customer's latest tweet."
    )
    blocks.append(text_box(f"{Field.REPLY_TEXT}_{version}", "Your reply", hint=hint, initial=fit_text_box(start)))
    return modal(View.REPLY, "Reply on X", "Send reply", {"case_id": card.case_id, "version": version}, blocks)


def reply_dm_modal(
    card: CardData,
    conversation: list[dict[str, Any]],
    saved: list[dict[str, Any]],
    *,
    text: str | None = None,
    version: int = 0,
    notice: str | None = None,
) -> dict[str, Any]:
    """Reply in DM: who, the DM conversation so far (only the agent sees a modal), saved replies, the box."""
    entries = [
        {
            "who": "Customer" if e["direction"] == "in" else "Brand" + (f" ({e['who']})" if e["who"] else ""),
            "text": e["text"],
            "from_x": e["direction"] == "in",
        }
        for e in conversation
    ]
    shown = _thread_text(entries, "*DM conversation so far*", keep=15, each=300) if entries else ""
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "block_id": "who",
            "text": {"type": "mrkdwn", "text": author_line(card.author_name, card.author_handle)},
        },
        {
            "type": "section",
            "block_id": "conversation",
            "text": {"type": "mrkdwn", "text": shown or "_No DMs in this case yet._"},
        },
    ]
    blocks += _before_the_box(saved, notice)
    hint = (
        "Sent as a private message to the customer on X (X allows 10,000 characters; this box holds 3,000). "
        "It is noted in the card's thread."
    )
    initial = fit_text_box(text) if text else None
    blocks.append(text_box(f"{Field.DM_TEXT}_{version}", "Your DM", hint=hint, initial=initial))
    return modal(View.REPLY_DM, "Reply in DM", "Send DM", {"case_id": card.case_id, "version": version}, blocks)


NO_PUBLIC_HANDOFF = (
    "No public handoff: X lets an app reply only to posts that @mention the brand or quote it, and this "
    "one does neither. Only the private message below is sent (it reaches the customer if they accept DMs "
    "from the brand)."
)


def move_to_dm_modal(card: CardData, brand_id: str, *, public_handoff: bool = True) -> dict[str, Any]:
    """The handoff: a public reply with the DM link and a first DM; where X allows no public reply to
    the post, the DM alone (then required)."""
    if not public_handoff:
        private = text_box(Field.HANDOFF_PRIVATE, "Private message")
        notice = {"type": "context", "elements": [{"type": "mrkdwn", "text": NO_PUBLIC_HANDOFF}]}
        blocks = [_tweet_section(card), notice, private]
        return modal(View.MOVE_TO_DM, "Move to DM", "Send DM", {"case_id": card.case_id, "public": False}, blocks)
    link = DM_LINK.format(brand_id=brand_id)
    public = (
        HANDOFF_TEMPLATE.format(handle=card.author_handle, link=link)
        if X_HANDLE.match(card.author_handle or "")
        else HANDOFF_TEMPLATE.format(handle="", link=link).lstrip("@ ")
    )
    blocks = [
        _tweet_section(card),
        text_box(
            Field.HANDOFF_PUBLIC,
            "Public reply",
            hint="Posted as a reply to the customer's tweet, with the link that opens a DM with the brand.",
            initial=public,
        ),
        text_box(
            Field.HANDOFF_PRIVATE,
            "First private message (optional)",
            hint="Sent as a DM when the customer accepts DMs from the brand.",
            optional=True,
        ),
    ]
    return modal(View.MOVE_TO_DM, "Move to DM", "Send", {"case_id": card.case_id}, blocks)


def input_block(
    block_id: str, label: str, element: dict[str, Any], *, hint: str | None = None, optional: bool = False
) -> dict[str, Any]:
    """One input of a modal; `block_id` is a `Field` (a versioned one for Reply's boxes), which is how
    `bot/forms.py` finds its value again."""
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label}}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    block["element"] = element
    return block


def text_box(
    block_id: str,
    label: str,
    *,
    max_length: int = TEXT_BOX_MAX,
    multiline: bool = True,
    hint: str | None = None,
    placeholder: str | None = None,
    initial: str | None = None,
    optional: bool = False,
) -> dict[str, Any]:
    """A plain-text input; its element is always `Input.TEXT`, the one action id forms read text by."""
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": Input.TEXT}
    if multiline:
        element["multiline"] = True
    element["max_length"] = max_length
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": placeholder}
    if initial is not None:
        element["initial_value"] = initial
    return input_block(block_id, label, element, hint=hint, optional=optional)


def _before_the_box(saved: list[dict[str, Any]], notice: str | None) -> list[dict[str, Any]]:
    """What the Reply and Reply in DM modals show above their text box: the saved replies menu, and a
    line for the agent (Perch's own words) when there is one."""
    blocks = [_saved_block(saved)] if saved else []
    if notice:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": notice}]})
    return blocks


def _saved_block(saved: list[dict[str, Any]]) -> dict[str, Any]:
    """The saved-replies menu; picking one adds it to the text box."""
    return {
        "type": "actions",
        "block_id": "saved",
        "elements": [
            {
                "type": "static_select",
                "action_id": Action.SAVED_REPLY_PICK,
                "placeholder": {"type": "plain_text", "text": "Insert a saved reply…"},
                "options": [
                    {
                        "text": {"type": "plain_text", "text": escape_within(one_line(r["name"]), 75) or "?"},
                        "value": str(r["id"]),
                    }
                    for r in saved[:100]
                ],
            }
        ],
    }


def fit_text_box(text: str) -> str:
    """`text` cut, at a character boundary, to what a text box holds (UTF-16 units, as Slack counts)."""
    if utf16_len(text) <= TEXT_BOX_MAX:
        return text
    kept, size = [], 0
    for ch in text:
        size += utf16_len(ch)
        if size > TEXT_BOX_MAX:
            break
        kept.append(ch)
    return "".join(kept)


def _tweet_section(card: CardData) -> dict[str, Any]:
    tweet = safe_mrkdwn(card.text, 2800) or "_(no text)_"
    text = author_line(card.author_name, card.author_handle) + "\n" + tweet
    return {"type": "section", "block_id": "tweet", "text": {"type": "mrkdwn", "text": text}}


def _thread_text(
    thread: list[dict[str, Any]], title: str = "*Thread so far*", *, keep: int = 12, each: int = 200
) -> str:
    """`• *who*: text` per entry (the last `keep`), kept under the section limit. Entries from X carry
    X's HTML entities (`from_x`), what agents sent does not."""
    lines, size = [title], 30
    for entry in thread[-keep:]:
        who = escape_within(one_line(clean(entry["who"])), 60)
        raw = one_line(entry["text"])
        text = safe_mrkdwn(raw, each) if entry.get("from_x") else escape_within(one_line(clean(raw)), each)
        line = f"• *{who}*: {text}"
        if size + utf16_len(line) + 1 > 2900:
            break
        lines.append(line)
        size += utf16_len(line) + 1
    return "\n".join(lines)


def _mention(card: CardData) -> str:
    return f"@{card.author_handle} " if X_HANDLE.match(card.author_handle or "") else ""


def resolve_modal(card: CardData, reasons: list[str]) -> dict[str, Any]:
    """Resolve with a contact reason: the team's list, the case's suggestion (or earlier pick) chosen."""
    options = [
        {"text": {"type": "plain_text", "text": escape_within(one_line(name), 75) or "?"}, "value": name[:150]}
        for name in reasons[:100]
    ]
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": Input.REASON,
        "placeholder": {"type": "plain_text", "text": "Why did they write?"},
        "options": options,
    }
    chosen = next((o for o in options if o["value"] == (card.reason or card.suggested_reason)), None)
    if chosen is not None:
        element["initial_option"] = chosen
    hint = "Suggested from the team's keywords when one matched; reports count cases by reason."
    reason = input_block(Field.RESOLVE_REASON, "Contact reason", element, hint=hint, optional=True)
    blocks = [_tweet_section(card), reason]
    return modal(View.RESOLVE, "Resolve the case", "Resolve", {"case_id": card.case_id}, blocks)
