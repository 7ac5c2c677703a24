"""Pieces every presenter uses: Slack's text limits, links to tweets, the author line, people,
durations and dates, buttons, and a message's blocks read as plain text (for the demo and logs)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.blocks.mrkdwn import clean, decode_x, escape_within, one_line
from bot.slack.ids import USER_ID, X_HANDLE, Action, user_mention

SECTION_TEXT_LIMIT = 3000


FALLBACK_TEXT_LIMIT = 300


NAME_LIMIT = 100


def tweet_url(handle: str, tweet_id: str) -> str:
    """A link to the tweet; a handle that is not a valid X handle is left out of the URL."""
    if X_HANDLE.match(handle or ""):
        return f"https://twitter.com/{handle}/status/{tweet_id}"
    return f"https://twitter.com/i/web/status/{tweet_id}"


def dm_url(conversation_id: str) -> str:
    """The DM conversation on x.com (only the brand's own people can open it)."""
    safe = conversation_id if re.fullmatch(r"\d+-\d+", conversation_id or "") else ""
    return f"https://x.com/messages/{safe}" if safe else "https://x.com/messages"


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


def slack_user(user: str | None) -> str:
    """A Slack user as a mention (cards are edited, and edits notify nobody) or a neutral word."""
    if user and USER_ID.match(user):
        return user_mention(user)
    return "Perch" if user == "bot" else "someone"


def card_as_text(blocks: list[dict[str, Any]]) -> str:
    """Blocks as a reader would see them (links as text, dates as their fallback), for the demo and logs."""
    lines = []
    for block in blocks:
        if block["type"] == "section":
            lines.append(as_seen(block["text"]["text"]))
        elif block["type"] == "context":
            lines.append("  " + " ".join(as_seen(element.get("text", "")) for element in block["elements"]))
        elif block["type"] == "actions":
            labels = [(e.get("text") or e.get("placeholder") or {}).get("text", "?") for e in block["elements"]]
            lines.append("  " + " ".join(f"[{label}]" for label in labels))
    return "\n".join(lines)


def as_seen(mrkdwn: str) -> str:
    shown = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", mrkdwn)
    shown = re.sub(r"<(https?://[^|>]+)\|([^>]*)>", r"\2 (\1)", shown)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_date(moment: datetime) -> str:
    """Slack renders this in each reader's own time zone; the fallback is UTC."""
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def slack_time(moment: datetime) -> str:
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


def fallback_text(handle: str, raw_text: str, lead: str) -> str:
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
