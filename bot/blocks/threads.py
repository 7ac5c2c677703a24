"""What Perch posts in a card's thread: a customer's follow-up tweets and DMs, notes of what the brand
sent, and Perch's own notes (escalation news, reminders)."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.common import (
    FALLBACK_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    as_seen,
    author_line,
    dm_url,
    fallback_text,
    slack_date,
    slack_user,
    tweet_url,
)
from bot.blocks.mrkdwn import clean, cut_mrkdwn, escape_within, one_line, safe_mrkdwn
from bot.slack.ids import USER_ID, X_HANDLE, Metadata
from storage.db import from_iso
from storage.dms import DMToPost
from storage.follow_ups import FollowUp


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
        "text": fallback_text(follow_up.author_handle, follow_up.text, "Follow-up from"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": lead}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"<{link}|View on X> · " + slack_date(from_iso(follow_up.created_at))}
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


def dm_message(dm: DMToPost) -> dict[str, Any]:
    """A customer's DM in its case's thread, escaped like tweet text. Its text is in the blocks only:
    the notification text says who wrote, not what, so a private message spreads no further. A DM that
    answered the satisfaction survey is shown as its score (`csat_message`)."""
    if dm.csat_score is not None:
        return csat_message(dm, dm.csat_score)
    text = safe_mrkdwn(dm.text, SECTION_TEXT_LIMIT) or "_(no text)_"
    who = author_line(dm.sender_name, dm.sender_handle)
    lead = f"✉️ {who} " + ("wrote to the brand by DM" if dm.opened_case else "answered by DM")
    if dm.reopened_for is not None:
        ping = f"{slack_user(dm.reopened_for)} " if USER_ID.match(dm.reopened_for or "") else ""
        lead = f"🔁 {ping}the customer wrote again by DM, so the case is open again.\n" + lead
    extras = [f"<{dm_url(dm.conversation_id)}|Open the conversation on X>", slack_date(from_iso(dm.created_at))]
    posts = [i for i in json.loads(dm.referenced_tweet_ids or "[]") if str(i).isdigit()][:5]
    extras += [f"<{tweet_url('', str(post))}|Post they shared>" for post in posts]
    if dm.media_count:
        extras.append(f"📎 {dm.media_count} attachment{'' if dm.media_count == 1 else 's'} (open the conversation)")
    sender = f"@{dm.sender_handle}" if X_HANDLE.match(dm.sender_handle or "") else "a customer"
    return {
        "thread_ts": dm.thread_ts,
        "text": f"New DM from {sender} (open the thread to read it)",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": lead}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(extras)}]},
        ],
        "metadata": {
            "event_type": Metadata.DM,
            "event_payload": {"case_id": dm.case_id, "dm_event_id": dm.dm_event_id},
        },
        "unfurl_links": False,
        "unfurl_media": False,
    }


def csat_message(dm: DMToPost, score: int) -> dict[str, Any]:
    """`⭐ 4/5 “…”`: the customer's answer to the survey, with `perch_csat` metadata for automations.
    The comment is the customer's own words, escaped like any of theirs, and kept out of the notification."""
    comment = escape_within(one_line(clean(dm.csat_comment or "")), 2000)
    who = author_line(dm.sender_name, dm.sender_handle)
    line = f"⭐ {score}/5" + (f" “{comment}”" if comment else "")
    sender = f"@{dm.sender_handle}" if X_HANDLE.match(dm.sender_handle or "") else "the customer"
    return {
        "thread_ts": dm.thread_ts,
        "text": f"⭐ {score}/5: {sender} answered the satisfaction survey",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": line}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"{who} answered the satisfaction survey by DM · "
                        + slack_date(from_iso(dm.created_at)),
                    }
                ],
            },
        ],
        "metadata": {"event_type": Metadata.CSAT, "event_payload": {"case_id": dm.case_id, "score": score}},
        "unfurl_links": False,
        "unfurl_media": False,
    }


def reply_note(note: dict[str, Any], brand_handle: str) -> dict[str, Any]:
    """The thread record of what the brand sent: `↩ alice replied: “…” · View on X`."""
    who = escape_within(one_line(clean(note.get("sent_by_name") or "")), 60) or "An agent"
    body = escape_within(one_line(clean(note["text"])), 2000)
    link = tweet_url(brand_handle, note["x_id"]) if note.get("x_id") and note["kind"] == "reply" else ""
    if note["kind"] == "dm" and note["source"] == "x.com":
        lead = f"✉️ Sent a DM on x.com as @{escape_within(brand_handle, 20)}: “{body}”"
    elif note["kind"] == "dm":
        lead = f"✉️ *{who}* sent a DM: “{body}”"
    elif note["source"] == "bulk":
        lead = f"📣 *{who}*'s surge status update went out as a reply: “{body}”"
    elif note["source"] == "x.com":
        lead = f"↩️ Replied on x.com as @{escape_within(brand_handle, 20)}: “{body}”"
    else:
        lead = f"↩️ *{who}* replied: “{body}”"
    fallback = escape_within(as_seen(lead), FALLBACK_TEXT_LIMIT)  # escaped again: the text field is mrkdwn too
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
