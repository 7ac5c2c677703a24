"""Escalate and Done submissions: the message goes to the location's channel before the modal
closes, so a channel Perch cannot post in is reported on the form, with nothing lost."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.escalations import escalation_message
from bot.blocks.mrkdwn import escape_within, one_line
from bot.forms import FormErrors, escalate_form, outcome_form
from bot.services import services
from bot.slack.ids import Field
from handlers.shared import clicker, display_name, refuse_form
from storage.cases import get_card
from storage.db import writing
from storage.escalations import (
    begin_escalation,
    confirm_escalation,
    drop_escalation,
    get_escalation,
    open_escalation,
    resolve_escalation,
)
from storage.locations import get_location
from storage.notes import add_case_note

CHANNEL_ERRORS = {
    "not_in_channel": "Perch is not in {channel}: invite it there (`/invite @Perch`) and submit again.",
    "channel_not_found": "Perch cannot see {channel}: invite it there, or fix the location's channel.",
    "is_archived": "{channel} is archived: fix the location's channel (`/perch locations edit`).",
}


def submit_escalate(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    form = escalate_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    perch = services(context)
    db = perch.store.db
    user, name = clicker(body)
    case = get_card(db, form.case_id)
    location = get_location(db, form.location) if form.location else None

    def refuse(problem: str) -> None:
        ack(response_action="errors", errors={Field.ESCALATE_LOCATION: problem})

    verdict = perch.gate.may_act(user)
    if not verdict.allowed:
        return refuse(verdict.reason)
    if case is None:
        return refuse("Perch has no such case any more.")
    if location is None:
        return refuse("Pick a location Perch knows.")
    if open_escalation(db, case.case_id, form.location):
        return refuse(f"This case is escalated to {form.location} already.")
    escalation_id = begin_escalation(
        db,
        case.case_id,
        location.code,
        "urgent" if form.urgent else "normal",
        form.note,
        user=user,
        user_name=name,
    )
    escalation = get_escalation(db, escalation_id)
    assert escalation is not None, "written just above"
    try:
        posted = client.chat_postMessage(
            channel=location.slack_channel, **escalation_message(escalation, case, location)
        )
    except SlackApiError as error:
        drop_escalation(db, escalation_id)
        template = CHANNEL_ERRORS.get(error.response.get("error"), "Slack refused the message ({error}). Try again.")
        ack(
            response_action="errors",
            errors={
                Field.ESCALATE_LOCATION: template.format(
                    channel=f"<#{location.slack_channel}>", error=error.response.get("error")
                )
            },
        )
        return
    confirm_escalation(db, escalation_id, posted["channel"], posted["ts"])
    ack()
    urgent = " (urgent)" if form.urgent else ""
    with writing(db):
        add_case_note(
            db,
            case.case_id,
            f"📣 *{display_name(name)}* escalated to {location.code}{urgent}. "
            "Perch will tell you here when the staff pick it up.",
        )
    perch.poster.sync_case(case.case_id)


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
