"""Every id Perch gives Slack, and every Slack id shape it accepts, defined once.

Buttons' `action_id`s, modals' `callback_id`s and message metadata `event_type`s are part of Perch's
stable interface (ARCHITECTURE.md, "Stable interface"): automations and tests rely on them, so they are
`StrEnum`s here and nowhere else spelt out. The id patterns and the mention builders are here too, so a
user, group or channel is recognised and written the same way everywhere.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Action(StrEnum):
    """`action_id`s of buttons and menus."""

    CLAIM = "claim"
    UNCLAIM = "unclaim"
    REASSIGN = "reassign"
    REPLY = "reply"
    MOVE_TO_DM = "move_to_dm"
    REPLY_DM = "reply_dm"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    RESOLVE_NO_SURVEY = "resolve_no_survey"  # beside Resolve where the satisfaction survey would go
    REOPEN = "reopen"
    ESCALATION_ACK = "escalation_ack"
    ESCALATION_RESOLVE = "escalation_resolve"
    LOCATION = "location"  # the Escalate modal's location menu (external options)
    SAVED_REPLY_PICK = "saved_reply_pick"
    INCIDENT_STATUS = "incident_status"
    INCIDENT_BULK_REPLY = "incident_bulk_reply"
    INCIDENT_BULK_STOP = "incident_bulk_stop"
    DRAFT_APPROVE = "draft_approve"  # on a draft held for review, in the card's thread
    DRAFT_EDIT = "draft_edit"
    DRAFT_SEND_BACK = "draft_send_back"
    HISTORY = "history"  # on a card, beside the customer: their earlier cases and the notes about them


class View(StrEnum):
    """`callback_id`s of modals."""

    REPLY = "reply"
    MOVE_TO_DM = "move_to_dm"
    REPLY_DM = "reply_dm"
    ESCALATE = "escalate"
    ESCALATION_OUTCOME = "escalation_outcome"
    INCIDENT_STATUS = "incident_status"
    INCIDENT_BULK_REPLY = "incident_bulk_reply"
    PERSONAL_DATA = "personal_data"  # pushed over a Reply that holds personal data
    PERSONAL_DATA_STATUS = "personal_data_status"  # pushed over a status update that holds personal data
    DRAFT_EDIT = "draft_edit"  # a lead edits a held draft, then it goes out
    RESOLVE = "resolve"  # Resolve with a contact reason (when the team has set reasons)
    DRAFT_SEND_BACK = "draft_send_back"  # a lead returns a held draft to its author with a note
    HISTORY = "history"  # a customer's earlier cases and notes, with a box to add a note


class Command(StrEnum):
    """Slash commands (the manifest lists the same)."""

    PERCH = "/perch"


class Field(StrEnum):
    """`block_id`s of the modals' inputs, by modal; `bot/forms.py` reads each modal's state by them."""

    REPLY_TEXT = "reply_text"  # Reply; drawn as `reply_text_<version>` (a new version shows a new value)
    DM_TEXT = "dm_text"  # Reply in DM; versioned like REPLY_TEXT
    HANDOFF_PUBLIC = "public"  # Move to DM: the public handoff
    HANDOFF_PRIVATE = "private"  # Move to DM: the first DM
    PERSONAL_DATA_CHOICE = "personal_data_choice"  # the personal-data check: as a DM, or public anyway
    PERSONAL_DATA_REASON = "personal_data_reason"  # ... and why it must be public
    RESOLVE_REASON = "reason"  # Resolve: the contact reason
    ESCALATE_LOCATION = "location"  # Escalate (its menu's action_id is `Action.LOCATION`)
    ESCALATE_URGENCY = "urgency"
    ESCALATE_NOTE = "note"
    OUTCOME = "outcome"  # an escalation's Done: what happened
    STATUS_TEXT = "status_text"  # a surge incident's status update
    BULK_CONFIRM = "confirm"  # Reply to everyone: the tick that confirms it
    DRAFT_TEXT = "draft_text"  # a lead's edit of a held draft
    DRAFT_NOTE = "draft_note"  # a lead's note sending a draft back
    CUSTOMER_NOTE = "customer_note"  # History: a note about the customer; drawn as `customer_note_<n>`


class Input(StrEnum):
    """`action_id`s of the modals' input elements (one per `Field` block)."""

    TEXT = "text"  # every plain-text box
    CHOICE = "choice"  # the personal-data check's radio buttons
    REASON = "reason"  # Resolve's reason menu
    URGENCY = "urgency"  # Escalate's radio buttons
    CONFIRMED = "confirmed"  # Reply to everyone's checkbox


class Metadata(StrEnum):
    """`event_type`s of the message metadata Perch posts with its messages."""

    CASE = "perch_case"  # a case's card (top level)
    FOLLOW_UP = "perch_follow_up"  # a customer's follow-up tweet, in the card's thread
    REPLY = "perch_reply"  # what the brand sent, in the card's thread
    DM = "perch_dm"  # a customer's DM, in the card's thread (its text is shown only there)
    NOTE = "perch_note"  # Perch's own note (escalation news, reminders), in the card's thread
    DRAFT = "perch_draft"  # a reply or DM held for review, in the card's thread
    CSAT = "perch_csat"  # the customer's satisfaction score, in the card's thread (`case_id`, `score`)
    ESCALATION = "perch_escalation"  # the message in a location's channel
    INCIDENT = "perch_incident"  # a surge's incident card (top level)
    INCIDENT_CHUNK = "perch_incident_chunk"  # a list of an incident's tweets, in its thread


CARD_ACTIONS = (
    Action.CLAIM,
    Action.REPLY,
    Action.MOVE_TO_DM,
    Action.REPLY_DM,
    Action.ESCALATE,
    Action.RESOLVE,
    Action.RESOLVE_NO_SURVEY,
    Action.UNCLAIM,
    Action.REASSIGN,
    Action.REOPEN,
    Action.HISTORY,
)

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")  # a public or private channel
CONVERSATION_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")  # a channel, or a direct message (reports may go there)
X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
MESSAGE_TS = re.compile(r"^[0-9]{1,12}\.[0-9]{1,9}$")  # a Slack message's ts, e.g. 1712345678.000100


def user_mention(user_id: str) -> str:
    return f"<@{user_id}>"


def usergroup_mention(group_id: str) -> str:
    return f"<!subteam^{group_id}>"


def mention(user_or_group: str) -> str:
    """A user (`U…`/`W…`) or a user group (`S…`), as Slack notifies them."""
    return usergroup_mention(user_or_group) if user_or_group.startswith("S") else user_mention(user_or_group)


def channel_mention(channel_id: str) -> str:
    return f"<#{channel_id}>"
