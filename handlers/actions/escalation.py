"""Escalate from the card; On it / Done from the location's channel; the searchable location menu."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.escalations import escalate_modal, location_options, outcome_modal
from bot.services import services
from handlers.shared import case_for_action, channel_of, clicker, display_name, open_modal, tell
from storage.db import writing
from storage.escalations import Escalation, acknowledge, get_escalation
from storage.locations import Location, all_locations, get_location
from storage.notes import add_case_note


def open_escalate(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    case = case_for_action(body, action, client, context)
    if case is None:
        return
    user, _ = clicker(body)
    locations = all_locations(services(context).store.db)
    if not locations:
        tell(
            client,
            channel_of(body),
            user,
            "No locations are set up yet. A manager can add them with "
            "`/perch locations add CODE #channel @staff-group`.",
        )
        return
    open_modal(client, context, body, escalate_modal(case, locations, case.suggested_location))


def location_menu(ack: Ack, payload: dict[str, Any], context: BoltContext) -> None:
    """Options for the location menu when there are more locations than a static menu holds."""
    ack(options=location_options(all_locations(services(context).store.db), payload.get("value") or ""))


def escalation_ack(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """ "On it": the first of the location's staff to click takes it; the agent is told in the case thread."""
    ack()
    perch = services(context)
    db = perch.store.db
    user, name = clicker(body)
    found = _staff_escalation(body, action, client, context, "pick this up")
    if found is None:
        return
    escalation, location = found
    done, now = acknowledge(db, escalation.id, user)
    escalation = now or escalation
    if not done:
        who = escalation.resolved_by or escalation.acknowledged_by
        state = "done" if escalation.resolved_at else "picked up"
        tell(client, channel_of(body), user, f"Already {state} by <@{who}>.")
    else:
        with writing(db):
            add_case_note(
                db,
                escalation.case_id,
                f"👀 {location.code}: *{display_name(name)}* is on it. You can tell the customer someone is coming.",
            )
    perch.poster.sync_case(escalation.case_id, escalation.id)


def escalation_resolve(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """ "Done": asks for a short outcome in a modal."""
    ack()
    user, _ = clicker(body)
    found = _staff_escalation(body, action, client, context, "close this")
    if found is None:
        return
    escalation, location = found
    if escalation.resolved_at:
        tell(client, channel_of(body), user, f"Already done by <@{escalation.resolved_by}>.")
        return
    open_modal(client, context, body, outcome_modal(escalation, location))


def _staff_escalation(
    body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext, doing: str
) -> tuple[Escalation, Location] | None:
    """The escalation a button is about, when the clicker is its location's staff; else they are told."""
    perch = services(context)
    user, _ = clicker(body)
    value = str(action.get("value") or "")
    escalation = get_escalation(perch.store.db, int(value)) if value.isdigit() else None
    location = get_location(perch.store.db, escalation.location) if escalation else None
    if escalation is None or location is None:
        tell(client, channel_of(body), user, "Perch has no such escalation any more.")
        return None
    if not perch.gate.is_staff(user, location.staff_group, location.staff_users):
        tell(client, channel_of(body), user, f"Only {location.code} staff can {doing}.")
        return None
    return escalation, location
