"""Block Kit builders: the only place that decides what a case looks like in Slack.

Every string that came from X goes through `bot.mrkdwn` before it lands in a block, and every block
stays inside Slack's published limits (section text 3,000, context element 2,000, button text 75,
message fallback text kept short so notifications stay readable).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.mrkdwn import clean, decode_x, escape_within, one_line, safe_mrkdwn
from storage.cases import CardData, FollowUp
from storage.db import from_iso

CASE_EVENT_TYPE = "perch_case"
FOLLOW_UP_EVENT_TYPE = "perch_follow_up"
SECTION_TEXT_LIMIT = 3000
FALLBACK_TEXT_LIMIT = 300
NAME_LIMIT = 100
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")

CARD_BUTTONS = [
    ("claim", "Claim", "primary"),
    ("reply", "Reply", None),
    ("move_to_dm", "Move to DM", None),
    ("escalate", "Escalate", None),
    ("resolve", "Resolve", None),
]
STATUS_LINES = {
    "new": "🆕 New · waiting for an agent",
    "claimed": "🙋 Claimed",
    "replied": "↩️ Replied",
    "in_dm": "✉️ Moved to DM",
    "escalated": "📣 Escalated",
    "resolved": "✅ Resolved",
}


def tweet_url(handle: str, tweet_id: str) -> str:
    """A link to the tweet; a handle that is not a valid X handle is left out of the URL."""
    if _HANDLE.match(handle or ""):
        return f"https://twitter.com/{handle}/status/{tweet_id}"
    return f"https://twitter.com/i/web/status/{tweet_id}"


def author_line(name: str, handle: str, followers: int | None = None) -> str:
    """`*Name* @handle · 1,234 followers`, escaped; an empty display name falls back to the handle."""
    handle_text = f"@{handle}" if _HANDLE.match(handle or "") else escape_within(one_line(clean(handle)), 30)
    display = escape_within(one_line(clean(decode_x(name))), NAME_LIMIT) or handle_text or "Unknown author"
    line = f"*{display}*"
    if handle_text:
        line += f" {handle_text}"
    if followers is not None:
        line += f" · {followers:,} follower{'' if followers == 1 else 's'}"
    return line


def case_card(card: CardData, now: datetime | None = None) -> dict[str, Any]:
    """`chat.postMessage` arguments for a case's card: text, blocks and its `perch_case` metadata."""
    now = now or datetime.now(UTC)
    text = safe_mrkdwn(card.text, SECTION_TEXT_LIMIT) or "_(no text)_"
    blocks = [
        {"type": "section", "block_id": "author",
         "text": {"type": "mrkdwn", "text": author_line(card.author_name, card.author_handle,
                                                         card.author_followers)}},
        {"type": "section", "block_id": "tweet", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "block_id": "meta", "elements": [
            {"type": "mrkdwn", "text": _meta_line(card, now)}]},
        {"type": "context", "block_id": "status", "elements": [
            {"type": "mrkdwn", "text": STATUS_LINES.get(card.status, card.status)}]},
        {"type": "actions", "block_id": "case_actions", "elements": [
            _button(action_id, label, style, str(card.case_id)) for action_id, label, style in CARD_BUTTONS]},
    ]
    return {
        "text": _fallback(card.author_handle, card.text, "New mention from"),
        "blocks": blocks,
        "metadata": {"event_type": CASE_EVENT_TYPE,
                     "event_payload": {"case_id": card.case_id, "tweet_id": card.tweet_id}},
        "unfurl_links": False,
        "unfurl_media": False,
    }


def follow_up_message(follow_up: FollowUp) -> dict[str, Any]:
    """A thread reply carrying the customer's next tweet into its case (never `perch_case` metadata)."""
    text = safe_mrkdwn(follow_up.text, SECTION_TEXT_LIMIT) or "_(no text)_"
    link = tweet_url(follow_up.author_handle, follow_up.tweet_id)
    return {
        "thread_ts": follow_up.thread_ts,
        "text": _fallback(follow_up.author_handle, follow_up.text, "Follow-up from"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "💬 " + author_line(
                follow_up.author_name, follow_up.author_handle) + " followed up"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|View on X> · "
                                              + _slack_date(from_iso(follow_up.created_at))}]},
        ],
        "metadata": {"event_type": FOLLOW_UP_EVENT_TYPE,
                     "event_payload": {"case_id": follow_up.case_id, "tweet_id": follow_up.tweet_id}},
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
            lines.append("  " + " ".join(f"[{e['text']['text']}]" for e in block["elements"]))
    return "\n".join(lines)


def _as_seen(mrkdwn: str) -> str:
    shown = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", mrkdwn)
    shown = re.sub(r"<(https?://[^|>]+)\|([^>]*)>", r"\2 (\1)", shown)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _meta_line(card: CardData, now: datetime) -> str:
    created = from_iso(card.created_at)
    link = tweet_url(card.author_handle, card.tweet_id)
    return (f"<{link}|View on X> · Tweeted {_slack_date(created)} "
            f"({_duration(now - created)} ago) · Case #{card.case_id}")


def _slack_date(moment: datetime) -> str:
    """Slack renders this in each reader's own time zone; the fallback is UTC."""
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _duration(delta: Any) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def _fallback(handle: str, raw_text: str, lead: str) -> str:
    who = f"@{handle}" if _HANDLE.match(handle or "") else "a customer"
    return f"{lead} {who}: " + escape_within(one_line(clean(decode_x(raw_text))), FALLBACK_TEXT_LIMIT)


def _button(action_id: str, label: str, style: str | None, value: str) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id,
                              "text": {"type": "plain_text", "text": label}, "value": value}
    if style:
        button["style"] = style
    return button
