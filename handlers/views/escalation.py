"""Escalate and Done submissions: the message goes to the location's channel before the modal
closes, so a channel Perch cannot post in is reported on the form, with nothing lost."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.escalations import escalation_message
from bot.blocks.mrkdwn import escape_within, one_line
from bot.forms import EscalateForm, FormErrors, escalate_form, outcome_form
from bot.services import services
from bot.slack.ids import Field
from handlers.shared import clicker, display_name, refuse_form
from storage.cases import CardData, get_card
from storage.db import writing
from storage.escalations import (
    begin_escalation,
    confirm_escalation,
    drop_escalation,
    get_escalation,
    open_escalation,
    resolve_escalation,
)
from storage.locations import Location, get_location
from storage.notes import add_case_note

CHANNEL_ERRORS = {
    "not_in_channel": "Perch is not in {channel}: invite it there (`/invite @Perch`) and submit again.",
    "channel_not_found": "Perch cannot see {channel}: invite it there, or fix the location's channel.",
    "is_archived": "{channel} is archived: fix the location's channel (`/perch locations edit`).",
}


def submit_escalate(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Checks, the escalation written, its message posted in the location's channel before the form
    closes (a channel Perch cannot post in is said on the form), then the card and a note in its thread."""
    form = escalate_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    perch = services(context)
    db = perch.store.db
    user, name = clicker(body)
    case = get_card(db, form.case_id)
    location = get_location(db, form.location) if form.location else None
    problem = _refusal(perch, user, case, location, form.location)
    if problem is None and case is not None and location is not None:
        problem = _post(client, db, case, location, form, user, name)
    if problem is not None:
        ack(response_action="errors", errors={Field.ESCALATE_LOCATION: problem})
        return
    ack()
    assert case is not None and location is not None, "checked by _refusal"
    urgent = " (urgent)" if form.urgent else ""
    with writing(db):
        add_case_note(
            db,
            case.case_id,
            f"📣 *{display_name(name)}* escalated to {location.code}{urgent}. "
            "Perch will tell you here when the staff pick it up.",
        )
    perch.poster.sync_case(case.case_id)


def _refusal(perch: Any, user: str, case: CardData | None, location: Location | None, code: str) -> str | None:
    """Why this escalation cannot go, in words for the form; None when it can."""
    verdict = perch.gate.may_act(user, case.queue_team if case else None)
    if not verdict.allowed:
        return str(verdict.reason)
    if case is None:
        return "Perch has no such case any more."
    if location is None:
        return "Pick a location Perch knows."
    if open_escalation(perch.store.db, case.case_id, code):
        return f"This case is escalated to {code} already."
    return None


def _post(
    client: WebClient, db: Any, case: CardData, location: Location, form: EscalateForm, user: str, name: str
) -> str | None:
    """Write the escalation, post its message in the location's channel and confirm it; a refusal from
    Slack drops the escalation and comes back as words for the form."""
    urgency = "urgent" if form.urgent else "normal"
    escalation_id = begin_escalation(db, case.case_id, location.code, urgency, form.note, user=user, user_name=name)
    escalation = get_escalation(db, escalation_id)
    assert escalation is not None, "written just above"
    try:
        posted = client.chat_postMessage(
            channel=location.slack_channel, **escalation_message(escalation, case, location)
        )
    except SlackApiError as error:
        drop_escalation(db, escalation_id)
        template = CHANNEL_ERRORS.get(error.response.get("error"), "Slack refused the message ({error}). Try again.")
        return template.format(channel=f"<#{location.slack_channel}>", error=error.response.get("error"))
    confirm_escalation(db, escalation_id, posted["channel"], posted["ts"])
    return None


def submit_outcome(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    form = outcome_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    perch = services(context)
    db = perch.store.db
    user, name = clicker(body)
    escalation = get_escalation(db, form.escalation_id)
    location = get_location(db, escalation.location) if escalation else None
    if escalation is None or location is None:
        ack(response_action="errors", errors={Field.OUTCOME: "Perch has no such escalation any more."})
        return
    if not perch.gate.is_staff(user, location.staff_group, location.staff_users):
        ack(response_action="errors", errors={Field.OUTCOME: f"Only {location.code} staff can close this."})
        return
    if not form.outcome:
        ack(response_action="errors", errors={Field.OUTCOME: "Say in a few words what happened."})
        return
    done, resolved = resolve_escalation(db, escalation.id, user, form.outcome)
    escalation = resolved or escalation
    ack()
    if done:
        with writing(db):
            add_case_note(
                db,
                escalation.case_id,
                f"✅ {location.code}: done by *{display_name(name)}*: "
                f"“{escape_within(one_line(form.outcome), 500)}”. Update the customer.",
            )
    perch.poster.sync_case(escalation.case_id, escalation.id)
