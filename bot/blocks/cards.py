"""Block Kit builders: the only place that decides what a case looks like in Slack.

Every string that came from X goes through `bot.blocks.mrkdwn` before it lands in a block, and every block
stays inside Slack's published limits (section text 3,000, context element 2,000, button text 75,
message fallback text kept short so notifications stay readable).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from bot.blocks.mrkdwn import clean, cut_mrkdwn, decode_x, escape_within, one_line, safe_mrkdwn
from bot.slack.ids import USER_ID, X_HANDLE, Action, Metadata, user_mention
from storage.cases import CardData
from storage.db import from_iso
from storage.follow_ups import FollowUp

SECTION_TEXT_LIMIT = 3000
FALLBACK_TEXT_LIMIT = 300
NAME_LIMIT = 100


OPEN_BUTTONS = [
    (Action.REPLY, "Reply"),
    (Action.MOVE_TO_DM, "Move to DM"),
    (Action.ESCALATE, "Escalate"),
    (Action.RESOLVE, "Resolve"),
]
STATUS_LINES = {
    "new": "🆕 New · waiting for an agent",
    "claimed": "🙋 Claimed",
    "replied": "↩️ Replied",
    "in_dm": "✉️ Moved to DM",
    "escalated": "📣 Escalated",
    "resolved": "✅ Resolved",
}
EVENT_WORDS = {
    "opened": "opened",
    "claimed": "claimed",
    "unclaimed": "unclaimed",
    "reassigned": "reassigned",
    "replied": "replied",
    "dm_sent": "sent a DM",
    "moved_to_dm": "moved to DM",
    "resolved": "resolved",
    "reopened": "reopened",
    "escalated": "escalated",
    "escalation_acknowledged": "escalation acknowledged",
    "escalation_resolved": "escalation resolved",
}


def tweet_url(handle: str, tweet_id: str) -> str:
    """A link to the tweet; a handle that is not a valid X handle is left out of the URL."""
    if X_HANDLE.match(handle or ""):
        return f"https://twitter.com/{handle}/status/{tweet_id}"
    return f"https://twitter.com/i/web/status/{tweet_id}"


def author_line(name: str, handle: str, followers: int | None = None) -> str:
    """`*Name* @handle · 1,234 followers`, escaped; an empty display name falls back to the handle."""
    handle_text = f"@{handle}" if X_HANDLE.match(handle or "") else escape_within(one_line(clean(handle)), 30)
    display = escape_within(one_line(clean(decode_x(name))), NAME_LIMIT) or handle_text or "Unknown author"
    line = f"*{display}*"
    if handle_text:
        line += f" {handle_text}"
    if followers is not None:
        line += f" · {followers:,} follower{'' if followers == 1 else 's'}"
    return line


def case_card(
    card: CardData,
    now: datetime | None = None,
    last: dict[str, Any] | None = None,
    escalation: str | None = None,
    missed: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`chat.postMessage`/`chat.update` arguments for a case's card, as its state is now.

    An open case shows the tweet, who has it and the buttons for its state; a resolved one collapses
    to a one-line summary with its durations and a Reopen button. `last` is the latest event,
    `escalation` the line saying where the case's latest escalation stands, `missed` the SLA targets
    the case has missed (the card then carries ⚠).
    """
    now = now or datetime.now(UTC)
    resolved = card.status == "resolved"
    return {
        "text": _fallback(card.author_handle, card.text, "Resolved:" if resolved else "New mention from"),
        "blocks": _resolved_blocks(card) if resolved else _open_blocks(card, now, last, escalation, missed),
        "metadata": {
            "event_type": Metadata.CASE,
            "event_payload": {"case_id": card.case_id, "tweet_id": card.tweet_id},
        },
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _open_blocks(
    card: CardData, now: datetime, last: dict[str, Any] | None, escalation: str | None, missed: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    text = safe_mrkdwn(card.text, SECTION_TEXT_LIMIT) or "_(no text)_"
    value = str(card.case_id)
    if card.assignee is None:
        elements = [button_element(Action.CLAIM, "Claim", "primary", value)]
        elements += [button_element(a, label, None, value) for a, label in OPEN_BUTTONS]
    else:
        elements = [
            button_element(a, label, "primary" if a == Action.REPLY else None, value) for a, label in OPEN_BUTTONS
        ]
        elements.append(button_element(Action.UNCLAIM, "Unclaim", None, value))
        elements.append(
            {
                "type": "users_select",
                "action_id": Action.REASSIGN,
                "placeholder": {"type": "plain_text", "text": "Reassign…"},
            }
        )
    return [
        {
            "type": "section",
            "block_id": "author",
            "text": {
                "type": "mrkdwn",
                "text": author_line(card.author_name, card.author_handle, card.author_followers),
            },
        },
        {"type": "section", "block_id": "tweet", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "block_id": "meta", "elements": [{"type": "mrkdwn", "text": _meta_line(card, now)}]},
        {
            "type": "context",
            "block_id": "status",
            "elements": [
                {"type": "mrkdwn", "text": line}
                for line in (_priority_line(card), _missed_line(missed), _status_line(card, last), escalation)
                if line
            ],
        },
        {"type": "actions", "block_id": "case_actions", "elements": elements},
    ]


def _resolved_blocks(card: CardData) -> list[dict[str, Any]]:
    created = from_iso(card.created_at)
    handle = f"@{card.author_handle}" if X_HANDLE.match(card.author_handle or "") else "a customer"
    quote = escape_within(one_line(clean(decode_x(card.text))), 120) or "(no text)"
    facts = [
        f"resolved by {slack_user(card.resolved_by)} {_slack_date(from_iso(card.resolved_at))}"
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
    link = tweet_url(card.author_handle, card.tweet_id)
    return [
        {
            "type": "section",
            "block_id": "summary",
            "text": {"type": "mrkdwn", "text": f"✅ *Resolved* · {handle}: “{quote}” · <{link}|View on X>"},
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


def _missed_line(missed: tuple[str, ...]) -> str:
    names = {"claim": "claim", "first_response": "first response", "resolve": "resolve"}
    return "⚠️ *Missed:* " + ", ".join(names.get(t, t) for t in missed) + " target" if missed else ""


def _status_line(card: CardData, last: dict[str, Any] | None) -> str:
    line = STATUS_LINES.get(card.status, escape_within(card.status, 40))
    if card.assignee:
        line += f" · {slack_user(card.assignee)} has it"
        if card.claimed_at and card.posted_at:
            line += f" (claimed {duration(from_iso(card.claimed_at) - from_iso(card.posted_at))} after posting)"
    if card.first_response_at:
        line += f" · first response {duration(from_iso(card.first_response_at) - from_iso(card.created_at))}"
    if card.reopened_count:
        line += f" · reopened {card.reopened_count}×"
    if last is not None and last["kind"] != "opened":
        line += f" · last: {describe_event(last)}"
    return line


def describe_event(event: dict[str, Any]) -> str:
    """`claimed by @x 14:02`: the latest state change, for the card's status line."""
    detail = event.get("detail") or {}
    if isinstance(detail, str):
        detail = json.loads(detail or "{}")
    words = EVENT_WORDS.get(event["kind"], escape_within(event["kind"], 40))
    actor = event["actor"]
    if event["kind"] == "reassigned":
        words += f" to {slack_user(detail.get('to'))}"
    if actor == "x.com":
        by = " on x.com"
    elif actor == "bot":
        by = " (the customer wrote again)" if event["kind"] == "reopened" else ""
    else:
        by = f" by {slack_user(actor)}"
    return f"{words}{by} {_slack_time(from_iso(event['at']))}"


def slack_user(user: str | None) -> str:
    """A Slack user as a mention (cards are edited, and edits notify nobody) or a neutral word."""
    if user and USER_ID.match(user):
        return user_mention(user)
    return "Perch" if user == "bot" else "someone"


def follow_up_message(follow_up: FollowUp) -> dict[str, Any]:
    """A thread reply carrying the customer's next tweet into its case (never `perch_case` metadata).

    When the tweet reopened a resolved case, the last assignee is pinged: that is the one mention
    Perch makes on purpose, built from a Slack user id, never from tweet text.
    """
    text = safe_mrkdwn(follow_up.text, SECTION_TEXT_LIMIT) or "_(no text)_"
    link = tweet_url(follow_up.author_handle, follow_up.tweet_id)
    lead = "💬 " + author_line(follow_up.author_name, follow_up.author_handle) + " followed up"
    if follow_up.reopened_for is not None:
        ping = f"{slack_user(follow_up.reopened_for)} " if USER_ID.match(follow_up.reopened_for or "") else ""
        lead = f"🔁 {ping}the customer wrote again, so the case is open again.\n" + lead
    return {
        "thread_ts": follow_up.thread_ts,
        "text": _fallback(follow_up.author_handle, follow_up.text, "Follow-up from"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": lead}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"<{link}|View on X> · " + _slack_date(from_iso(follow_up.created_at))}
                ],
            },
        ],
        "metadata": {
            "event_type": Metadata.FOLLOW_UP,
            "event_payload": {"case_id": follow_up.case_id, "tweet_id": follow_up.tweet_id},
        },
        "unfurl_links": False,
        "unfurl_media": False,
    }


def reply_note(note: dict[str, Any], brand_handle: str) -> dict[str, Any]:
    """The thread record of what the brand sent: `↩ alice replied: “…” · View on X`."""
    who = escape_within(one_line(clean(note.get("sent_by_name") or "")), 60) or "An agent"
    body = escape_within(one_line(clean(note["text"])), 2000)
    link = tweet_url(brand_handle, note["x_id"]) if note.get("x_id") and note["kind"] == "reply" else ""
    if note["kind"] == "dm":
        lead = f"✉️ *{who}* sent a DM: “{body}”"
    elif note["source"] == "bulk":
        lead = f"📣 *{who}*'s surge status update went out as a reply: “{body}”"
    elif note["source"] == "x.com":
        lead = f"↩️ Replied on x.com as @{escape_within(brand_handle, 20)}: “{body}”"
    else:
        lead = f"↩️ *{who}* replied: “{body}”"
    fallback = escape_within(_as_seen(lead), FALLBACK_TEXT_LIMIT)  # escaped again: the text field is mrkdwn too
    if link:
        lead += f" · <{link}|View on X>"
    return {
        "thread_ts": note["thread_ts"],
        "text": fallback,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": lead}}],
        "metadata": {
            "event_type": Metadata.REPLY,
            "event_payload": {"case_id": note["case_id"], "reply_id": note["id"]},
        },
        "unfurl_links": False,
        "unfurl_media": False,
    }


def case_note_message(note: dict[str, Any]) -> dict[str, Any]:
    """A note Perch writes in a case's thread (escalation news, reminders); its text is built by Perch."""
    return {
        "thread_ts": note["thread_ts"],
        "text": cut_mrkdwn(note["text"], FALLBACK_TEXT_LIMIT),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": cut_mrkdwn(note["text"], SECTION_TEXT_LIMIT)}}
        ],
        "metadata": {
            "event_type": Metadata.NOTE,
            "event_payload": {"case_id": note["case_id"], "note_id": note["id"]},
        },
        "unfurl_links": False,
        "unfurl_media": False,
    }


def card_as_text(blocks: list[dict[str, Any]]) -> str:
    """Blocks as a reader would see them (links as text, dates as their fallback), for the demo and logs."""
    lines = []
    for block in blocks:
        if block["type"] == "section":
            lines.append(_as_seen(block["text"]["text"]))
        elif block["type"] == "context":
            lines.append("  " + " ".join(_as_seen(element.get("text", "")) for element in block["elements"]))
        elif block["type"] == "actions":
            labels = [(e.get("text") or e.get("placeholder") or {}).get("text", "?") for e in block["elements"]]
            lines.append("  " + " ".join(f"[{label}]" for label in labels))
    return "\n".join(lines)


def _as_seen(mrkdwn: str) -> str:
    shown = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", mrkdwn)
    shown = re.sub(r"<(https?://[^|>]+)\|([^>]*)>", r"\2 (\1)", shown)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _meta_line(card: CardData, now: datetime) -> str:
    created = from_iso(card.created_at)
    posted = from_iso(card.posted_at) if card.posted_at else now
    link = tweet_url(card.author_handle, card.tweet_id)
    where = f" · 📍 {card.suggested_location}?" if card.suggested_location and not card.location else ""
    return (
        f"<{link}|View on X> · Tweeted {_slack_date(created)} "
        f"· in the queue {duration(posted - created)} later · Case #{card.case_id}{where}"
    )


def _slack_date(moment: datetime) -> str:
    """Slack renders this in each reader's own time zone; the fallback is UTC."""
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _slack_time(moment: datetime) -> str:
    fallback = moment.astimezone(UTC).strftime("%H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{time}}|{fallback}>"


def duration(delta: Any) -> str:
    """`45s`, `12m`, `3h 5m`, `2d 4h`: how long, for people."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def _fallback(handle: str, raw_text: str, lead: str) -> str:
    who = f"@{handle}" if X_HANDLE.match(handle or "") else "a customer"
    return f"{lead} {who}: " + escape_within(one_line(clean(decode_x(raw_text))), FALLBACK_TEXT_LIMIT)


def button_element(action_id: Action, label: str, style: str | None, value: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
    if style:
        button["style"] = style
    return button
