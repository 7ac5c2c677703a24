"""Block Kit builders: the only place that decides what a case looks like in Slack.

Every string that came from X goes through `bot.blocks.mrkdwn` before it lands in a block, and every block
stays inside Slack's published limits (section text 3,000, context element 2,000, button text 75,
message fallback text kept short so notifications stay readable).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks.common import (
    SECTION_TEXT_LIMIT,
    author_line,
    button_element,
    dm_url,
    duration,
    fallback_text,
    slack_date,
    slack_time,
    slack_user,
    tweet_url,
)
from bot.blocks.history import returning_line
from bot.blocks.mrkdwn import clean, decode_x, escape_within, one_line, safe_mrkdwn
from bot.slack.ids import X_HANDLE, Action, Metadata
from storage.cases import CardData
from storage.db import from_iso
from storage.lifecycle import CaseStatus, EventKind

NOT_SUMMONED = (
    "No public Reply: X lets an app reply only to posts that @mention the brand or quote it, and this one "
    "does neither. Move to DM, or answer on X yourself."
)
CAME_BY_DM = (
    "✉️ *Came by DM.* What the customer wrote is in this card's thread, not here, so a private message "
    "does not show in the channel's notifications. Answer with *Reply in DM*."
)
SHORT_TEXT_LIMIT = 500  # the post's text on a card drawn smaller (`short_case_card`)
OPEN_BUTTONS = [
    (Action.REPLY, "Reply"),
    (Action.REPLY_DM, "Reply in DM"),
    (Action.MOVE_TO_DM, "Move to DM"),
    (Action.ESCALATE, "Escalate"),
    (Action.RESOLVE, "Resolve"),
]
STATUS_LINES: dict[str, str] = {
    CaseStatus.NEW: "🆕 New · waiting for an agent",
    CaseStatus.CLAIMED: "🙋 Claimed",
    CaseStatus.REPLIED: "↩️ Replied",
    CaseStatus.IN_DM: "✉️ Moved to DM",
    CaseStatus.ESCALATED: "📣 Escalated",
    CaseStatus.RESOLVED: "✅ Resolved",
}
EVENT_WORDS: dict[str, str] = {
    EventKind.OPENED: "opened",
    EventKind.CLAIMED: "claimed",
    EventKind.UNCLAIMED: "unclaimed",
    EventKind.REASSIGNED: "reassigned",
    EventKind.REPLIED: "replied",
    EventKind.DM_SENT: "sent a DM",
    EventKind.DM_RECEIVED: "the customer wrote by DM",
    EventKind.MOVED_TO_DM: "moved to DM",
    EventKind.RESOLVED: "resolved",
    EventKind.REOPENED: "reopened",
    EventKind.ESCALATED: "escalated",
    EventKind.ESCALATION_ACKNOWLEDGED: "escalation acknowledged",
    EventKind.ESCALATION_RESOLVED: "escalation resolved",
}


def case_card(
    card: CardData,
    now: datetime | None = None,
    last: dict[str, Any] | None = None,
    escalation: str | None = None,
    missed: tuple[str, ...] = (),
    *,
    reply_anywhere: bool = False,
    csat_cooldown: timedelta | None = None,
) -> dict[str, Any]:
    """`chat.postMessage`/`chat.update` arguments for a case's card, as its state is now.

    An open case shows the tweet, who has it and the buttons for its state; a resolved one collapses
    to a one-line summary with its durations and a Reopen button. `last` is the latest event,
    `escalation` the line saying where the case's latest escalation stands, `missed` the SLA targets
    the case has missed (the card then carries ⚠). `csat_cooldown`: `CSAT_COOLDOWN_DAYS` when surveys
    are on; where resolving would send one, **Resolve without survey** sits beside Resolve.
    """
    now = now or datetime.now(UTC)
    resolved = card.status == CaseStatus.RESOLVED
    public_reply = not card.dm_only and (reply_anywhere or bool(card.summoned))
    named = {"dm_event_id": card.dm_event_id} if card.dm_only else {"tweet_id": card.tweet_id}
    return {
        "text": _dm_fallback(card, resolved)
        if card.dm_only
        else fallback_text(card.author_handle, card.text, "Resolved:" if resolved else "New mention from"),
        "blocks": _resolved_blocks(card)
        if resolved
        else _open_blocks(
            card, now, last, escalation, missed, public_reply=public_reply, survey=card.survey_due(csat_cooldown, now)
        ),
        "metadata": {"event_type": Metadata.CASE, "event_payload": {"case_id": card.case_id, **named}},
        "unfurl_links": False,
        "unfurl_media": False,
    }


def short_case_card(
    card: CardData, now: datetime | None = None, last: dict[str, Any] | None = None, *, reply_anywhere: bool = False
) -> dict[str, Any]:
    """The card drawn smaller, for when Slack refused the full one (`msg_too_long`, a block it would not
    show): the post cut to `SHORT_TEXT_LIMIT` with the rest on X, and of the status lines only who has
    the case; the buttons stay, so the card can still be worked. A resolved card is small already."""
    message = case_card(card, now, last, reply_anywhere=reply_anywhere)
    if card.status == CaseStatus.RESOLVED:
        return message
    text = CAME_BY_DM if card.dm_only else safe_mrkdwn(card.text, SHORT_TEXT_LIMIT) or "_(no text)_"
    if not card.dm_only and text != safe_mrkdwn(card.text, SECTION_TEXT_LIMIT):
        text += "\n_(shortened here: the whole post is on X)_"
    for block in message["blocks"]:
        if block.get("block_id") == "tweet":
            block["text"]["text"] = text
        elif block.get("block_id") == "status":
            block["elements"] = [{"type": "mrkdwn", "text": _status_line(card, last)}]
    return message


def _open_blocks(
    card: CardData,
    now: datetime,
    last: dict[str, Any] | None,
    escalation: str | None,
    missed: tuple[str, ...] = (),
    *,
    public_reply: bool = True,
    survey: bool = False,
) -> list[dict[str, Any]]:
    text = CAME_BY_DM if card.dm_only else safe_mrkdwn(card.text, SECTION_TEXT_LIMIT) or "_(no text)_"
    value = str(card.case_id)
    elements = _buttons(card, public_reply=public_reply, survey=survey)
    return [
        {
            "type": "section",
            "block_id": "author",
            "text": {
                "type": "mrkdwn",
                "text": author_line(card.author_name, card.author_handle, card.author_followers),
            },
            "accessory": button_element(Action.HISTORY, "History", None, value),
        },
        {"type": "section", "block_id": "tweet", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "block_id": "meta", "elements": [{"type": "mrkdwn", "text": _meta_line(card, now)}]},
        {
            "type": "context",
            "block_id": "status",
            "elements": [
                {"type": "mrkdwn", "text": line}
                for line in (
                    returning_line(card.customer_cases),
                    _priority_line(card),
                    _personal_data_line(card),
                    "📝 *A draft waits for a lead's review* (in the thread)" if card.drafts_pending else "",
                    _missed_line(missed),
                    _status_line(card, last),
                    _dm_line(card),
                    escalation,
                    None if public_reply or card.dm_only else NOT_SUMMONED,
                )
                if line
            ],
        },
        {"type": "actions", "block_id": "case_actions", "elements": elements},
    ]


def _buttons(card: CardData, *, public_reply: bool, survey: bool) -> list[dict[str, Any]]:
    """An open card's buttons: Claim first while nobody holds it; else the main answer highlighted,
    Unclaim and the Reassign menu; Resolve without survey beside Resolve where a survey would go."""
    value = str(card.case_id)
    buttons = [(a, label) for a, label in OPEN_BUTTONS if _offered(a, card, public_reply)]
    buttons += [(Action.RESOLVE_NO_SURVEY, "Resolve without survey")] if survey else []
    if card.assignee is None:
        claim = button_element(Action.CLAIM, "Claim", "primary", value)
        return [claim, *(button_element(a, label, None, value) for a, label in buttons)]
    main = Action.REPLY if public_reply else Action.REPLY_DM
    elements = [button_element(a, label, "primary" if a == main else None, value) for a, label in buttons]
    elements.append(button_element(Action.UNCLAIM, "Unclaim", None, value))
    placeholder = {"type": "plain_text", "text": "Reassign…"}
    elements.append({"type": "users_select", "action_id": Action.REASSIGN, "placeholder": placeholder})
    return elements


def _offered(action: Action, card: CardData, public_reply: bool) -> bool:
    """Reply where X allows a public answer; Reply in DM once the case is in DM; Move to DM until then."""
    if action == Action.REPLY:
        return public_reply
    if action == Action.REPLY_DM:
        return card.in_dm
    if action == Action.MOVE_TO_DM:
        return not card.in_dm
    return True


def _dm_fallback(card: CardData, resolved: bool) -> str:
    """A DM-opened card's notification text: who wrote, never what."""
    who = f"@{card.author_handle}" if X_HANDLE.match(card.author_handle or "") else "a customer"
    return f"Resolved: DM case of {who}" if resolved else f"New DM from {who} (open the thread to read it)"


def _dm_line(card: CardData) -> str:
    """Whose move it is in a DM conversation."""
    if not card.in_dm:
        return ""
    if card.awaiting_customer:
        return "⏳ Waiting on the customer's answer by DM"
    if card.last_dm_in_at:
        when = slack_time(from_iso(card.last_dm_in_at))
        return f"💬 *The customer wrote by DM* {when} · waiting on the agent (see the thread)"
    return ""


def _resolved_blocks(card: CardData) -> list[dict[str, Any]]:
    created = from_iso(card.created_at)
    handle = f"@{card.author_handle}" if X_HANDLE.match(card.author_handle or "") else "a customer"
    quote = "by DM" if card.dm_only else escape_within(one_line(clean(decode_x(card.text))), 120) or "(no text)"
    facts = [
        f"resolved by {slack_user(card.resolved_by)} {slack_date(from_iso(card.resolved_at))}"
        if card.resolved_at
        else "resolved"
    ]
    if card.first_response_at:
        facts.append(f"first response {duration(from_iso(card.first_response_at) - created)}")
    else:
        facts.append("no reply sent")
    if card.resolved_at:
        facts.append(f"resolved {duration(from_iso(card.resolved_at) - created)} after the tweet")
    if card.reopened_count:
        facts.append(f"reopened {card.reopened_count}×")
    if card.reason:
        facts.append(f"🏷 {escape_within(card.reason, 60)}")
    link = dm_url(card.conversation_id) if card.dm_only else tweet_url(card.author_handle, card.tweet_id)
    summary = f"{handle} {quote}" if card.dm_only else f"{handle}: “{quote}”"
    return [
        {
            "type": "section",
            "block_id": "summary",
            "text": {"type": "mrkdwn", "text": f"✅ *Resolved* · {summary} · <{link}|View on X>"},
            "accessory": button_element(Action.HISTORY, "History", None, str(card.case_id)),
        },
        {
            "type": "context",
            "block_id": "status",
            "elements": [{"type": "mrkdwn", "text": " · ".join(facts) + f" · Case #{card.case_id}"}],
        },
        {
            "type": "actions",
            "block_id": "case_actions",
            "elements": [button_element(Action.REOPEN, "Reopen", None, str(card.case_id))],
        },
    ]


def _priority_line(card: CardData) -> str:
    if card.priority != "high":
        return ""
    signals = escape_within(card.priority_signals or "", 300)
    return "🔴 *High priority*" + (f" · {signals}" if signals else "")


def _personal_data_line(card: CardData) -> str:
    """What kind of personal data the customer's own post shows (never the value: the post shows it
    once already) and what to do about it."""
    if not card.personal_data or card.dm_only:
        return ""
    kinds = escape_within(card.personal_data, 200)
    return f"🔒 *Their post shows personal data* ({kinds}): ask them to delete it and continue in DM"


def _missed_line(missed: tuple[str, ...]) -> str:
    names = {"claim": "claim", "first_response": "first response", "resolve": "resolve"}
    return "⚠️ *Missed:* " + ", ".join(names.get(t, t) for t in missed) + " target" if missed else ""


def _status_line(card: CardData, last: dict[str, Any] | None) -> str:
    line = STATUS_LINES.get(card.status, escape_within(card.status, 40))
    if card.dm_only and card.status == CaseStatus.IN_DM:
        line = "✉️ In DM"
    if card.assignee:
        line += f" · {slack_user(card.assignee)} has it"
        if card.claimed_at and card.posted_at:
            line += f" (claimed {duration(from_iso(card.claimed_at) - from_iso(card.posted_at))} after posting)"
    if card.first_response_at:
        line += f" · first response {duration(from_iso(card.first_response_at) - from_iso(card.created_at))}"
    if card.reopened_count:
        line += f" · reopened {card.reopened_count}×"
    if last is not None and last["kind"] != EventKind.OPENED:
        line += f" · last: {describe_event(last)}"
    return line


def describe_event(event: dict[str, Any]) -> str:
    """`claimed by @x 14:02`: the latest state change, for the card's status line."""
    detail = event.get("detail") or {}
    if isinstance(detail, str):
        detail = json.loads(detail or "{}")
    words = EVENT_WORDS.get(event["kind"], escape_within(event["kind"], 40))
    actor = event["actor"]
    if event["kind"] == EventKind.REASSIGNED:
        words += f" to {slack_user(detail.get('to'))}"
    if actor == "x.com":
        by = " on x.com"
    elif actor == "bot":
        by = " (the customer wrote again)" if event["kind"] == EventKind.REOPENED else ""
    else:
        by = f" by {slack_user(actor)}"
    return f"{words}{by} {slack_time(from_iso(event['at']))}"


def _meta_line(card: CardData, now: datetime) -> str:
    created = from_iso(card.created_at)
    posted = from_iso(card.posted_at) if card.posted_at else now
    where = f" · 📍 {card.suggested_location}?" if card.suggested_location and not card.location else ""
    if card.suggested_reason and not card.reason:
        where += f" · 🏷 {escape_within(card.suggested_reason, 60)}?"
    if card.dm_only:
        link, label, verb = dm_url(card.conversation_id), "Open the conversation on X", "Wrote"
    else:
        link, label, verb = tweet_url(card.author_handle, card.tweet_id), "View on X", "Tweeted"
    return (
        f"<{link}|{label}> · {verb} {slack_date(created)} "
        f"· in the queue {duration(posted - created)} later · Case #{card.case_id}{where}"
    )
