"""Block Kit for escalations: the message in a location's channel, and the Escalate / Done modals.

The location's staff are pinged once, in the new message (a user group or users, from Perch's own
configuration). Later edits of the message keep the text but notify nobody.
"""

from __future__ import annotations

from typing import Any

from bot.blocks.common import author_line, button_element, duration, slack_user, tweet_url
from bot.blocks.modals import input_block, modal, text_box
from bot.blocks.mrkdwn import clean, escape_within, one_line, plain, safe_mrkdwn
from bot.slack.ids import Action, Field, Input, Metadata, View, user_mention, usergroup_mention
from storage.cases import CardData
from storage.db import from_iso
from storage.escalations import Escalation
from storage.locations import Location

MAX_STATIC_OPTIONS = 100


def staff_ping(location: Location) -> str:
    if location.staff_group:
        return usergroup_mention(location.staff_group)
    return " ".join(user_mention(user) for user in location.staff_users)


def escalation_message(escalation: Escalation, card: CardData, location: Location) -> dict[str, Any]:
    urgent = " · *URGENT*" if escalation.urgency == "urgent" else ""
    place = escape_within(one_line(location.name), 150)
    lead = f"🚨 *A customer needs someone at {place} ({location.code})*{urgent}\n{staff_ping(location)}"
    if card.dm_only:  # a private conversation stays out of the location's channel
        quote = "> ✉️ The customer wrote by DM: the note from support says what they need."
        view = ""
    else:
        quote = "\n".join("> " + line for line in (safe_mrkdwn(card.text, 2500) or "(no text)").splitlines())
        view = f" · <{tweet_url(card.author_handle, card.tweet_id)}|View on X>"
    who = escape_within(one_line(clean(escalation.requested_by_name or "")), 60) or "support"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": "lead", "text": {"type": "mrkdwn", "text": lead}},
        {"type": "section", "block_id": "tweet", "text": {"type": "mrkdwn", "text": quote}},
        {
            "type": "context",
            "block_id": "meta",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        author_line(card.author_name, card.author_handle) + f"{view} · asked by {who} · "
                        f"Case #{card.case_id}"
                    ),
                }
            ],
        },
    ]
    if escalation.note.strip():
        note = escape_within(clean(escalation.note), 2900)
        blocks.append(
            {"type": "section", "block_id": "note", "text": {"type": "mrkdwn", "text": f"*Note from support:* {note}"}}
        )
    blocks.append(
        {
            "type": "context",
            "block_id": "status",
            "elements": [{"type": "mrkdwn", "text": escalation_status(escalation)}],
        }
    )
    value = str(escalation.id)
    if escalation.resolved_at is None:
        buttons = (
            [] if escalation.acknowledged_at else [button_element(Action.ESCALATION_ACK, "On it", "primary", value)]
        )
        buttons.append(button_element(Action.ESCALATION_RESOLVE, "Done", None, value))
        blocks.append({"type": "actions", "block_id": "escalation_actions", "elements": buttons})
    return {
        "text": f"A customer needs someone at {location.code}" + (" (urgent)" if urgent else ""),
        "blocks": blocks,
        "metadata": {
            "event_type": Metadata.ESCALATION,
            "event_payload": {"case_id": card.case_id, "escalation_id": escalation.id},
        },
        "unfurl_links": False,
        "unfurl_media": False,
    }


def escalation_status(escalation: Escalation) -> str:
    """For the location's message: waiting → on it → done."""
    if escalation.resolved_at:
        outcome = escape_within(one_line(clean(escalation.outcome or "")), 500)
        return f"✅ Done by {slack_user(escalation.resolved_by)}" + (f": {outcome}" if outcome else "")
    if escalation.acknowledged_at:
        waited = duration(from_iso(escalation.acknowledged_at) - from_iso(escalation.requested_at))
        return f"👀 {slack_user(escalation.acknowledged_by)} is on it (picked up after {waited})"
    return "⏳ Waiting for someone to pick this up"


def escalation_line(escalation: Escalation) -> str:
    """For the case card: `Escalated to JFK · waiting` → `JFK: @x on it (3m)` → `JFK: done — …`."""
    code = escalation.location
    if escalation.resolved_at:
        outcome = escape_within(one_line(clean(escalation.outcome or "")), 300)
        return f"📣 {code}: done" + (f" — {outcome}" if outcome else "")
    if escalation.acknowledged_at:
        waited = duration(from_iso(escalation.acknowledged_at) - from_iso(escalation.requested_at))
        return f"📣 {code}: {slack_user(escalation.acknowledged_by)} on it ({waited})"
    urgent = ", urgent" if escalation.urgency == "urgent" else ""
    return f"📣 Escalated to {code} · waiting{urgent}"


def escalate_modal(card: CardData, locations: list[Location], suggestion: str | None) -> dict[str, Any]:
    """Location (pre-set to the suggestion; searchable), urgency, and a note for the staff."""
    urgency = {"type": "radio_buttons", "action_id": Input.URGENCY, "initial_option": _URGENCY[0], "options": _URGENCY}
    blocks = [
        _case_section(card),
        input_block(Field.ESCALATE_LOCATION, "Location", _location_menu(locations, suggestion)),
        input_block(Field.ESCALATE_URGENCY, "Urgency", urgency),
        text_box(
            Field.ESCALATE_NOTE,
            "Note for the staff",
            max_length=2000,
            placeholder="e.g. Customer at gate B22, bag tag 123",
            optional=True,
        ),
    ]
    return modal(View.ESCALATE, "Escalate", "Ping the staff", {"case_id": card.case_id}, blocks)


def _case_section(card: CardData) -> dict[str, Any]:
    """Who wrote and what (a DM case's text stays in its thread)."""
    said = (
        "✉️ Came by DM: the conversation is in the card's thread."
        if card.dm_only
        else safe_mrkdwn(card.text, 2800) or "_(no text)_"
    )
    text = author_line(card.author_name, card.author_handle) + "\n" + said
    return {"type": "section", "block_id": "tweet", "text": {"type": "mrkdwn", "text": text}}


def _location_menu(locations: list[Location], suggestion: str | None) -> dict[str, Any]:
    """A menu of every location, or, past Slack's 100 options, one searched as the agent types
    (`location_options`); either starts on the suggested location."""
    options = [_option(location) for location in locations]
    initial = next((o for o, loc in zip(options, locations, strict=True) if loc.code == suggestion), None)
    if len(options) <= MAX_STATIC_OPTIONS:
        select: dict[str, Any] = {
            "type": "static_select",
            "action_id": Action.LOCATION,
            "options": options,
            "placeholder": {"type": "plain_text", "text": "Pick a location"},
        }
    else:
        select = {
            "type": "external_select",
            "action_id": Action.LOCATION,
            "min_query_length": 0,
            "placeholder": {"type": "plain_text", "text": "Type a code or a name"},
        }
    if initial is not None:
        select["initial_option"] = initial
    return select


def location_options(locations: list[Location], query: str) -> list[dict[str, Any]]:
    """Options for the searchable (external) location menu."""
    query = query.strip().lower()
    hits = [loc for loc in locations if query in loc.code.lower() or query in loc.name.lower()]
    return [_option(location) for location in hits[:MAX_STATIC_OPTIONS]]


def outcome_modal(escalation: Escalation, location: Location) -> dict[str, Any]:
    outcome = text_box(
        Field.OUTCOME,
        f"What happened at {location.code}?",
        max_length=500,
        placeholder="e.g. Found the bag, delivering it tonight",
    )
    return modal(View.ESCALATION_OUTCOME, "Done", "Save", {"escalation_id": escalation.id}, [outcome])


_URGENCY = [
    {"text": {"type": "plain_text", "text": "Normal"}, "value": "normal"},
    {"text": {"type": "plain_text", "text": "Urgent"}, "value": "urgent"},
]


def _option(location: Location) -> dict[str, Any]:
    label = plain(one_line(f"{location.code} · {location.name}"), 75)
    return {"text": {"type": "plain_text", "text": label}, "value": location.code}
