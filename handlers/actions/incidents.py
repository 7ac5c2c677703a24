"""The surge incident card's buttons: write the status update, reply to everyone (confirmed), stop."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.incidents import bulk_reply_modal, status_modal
from bot.services import services
from handlers.shared import channel_of, clicker, may_act_or_tell, open_modal, tell
from storage.bulk import bulk_candidates, stop_bulk, unsummoned_customers
from storage.incidents import OTHER, Incident, get_incident, incident_stats


def open_status(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    incident = _incident_for(body, action, client, context)
    if incident is not None:
        open_modal(
            client, context, body, status_modal(incident, incident_stats(services(context).store.db, incident.id))
        )


def open_bulk_reply(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    incident = _incident_for(body, action, client, context)
    if incident is None:
        return
    user, _ = clicker(body)
    perch = services(context)
    candidates = len(bulk_candidates(perch.store.db, incident.id))
    if not incident.status_text:
        tell(client, channel_of(body), user, "Write the status update first.")
    elif incident.bulk_at:
        tell(client, channel_of(body), user, "The status update is already being sent to this incident's customers.")
    elif not candidates:
        tell(client, channel_of(body), user, "Every customer in this incident has an answer already.")
    else:
        skipped = unsummoned_customers(perch.store.db, incident.id)
        interval = perch.settings.bulk_reply_interval_seconds
        open_modal(client, context, body, bulk_reply_modal(incident, candidates, interval, unsummoned=skipped))


def stop_bulk_reply(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    incident = _incident_for(body, action, client, context)
    if incident is None:
        return
    user, _ = clicker(body)
    perch = services(context)
    stopped = stop_bulk(perch.store.db, incident.id, user)
    tell(client, channel_of(body), user, f"Stopped: {stopped:,} customers will not get the status reply.")
    perch.poster.sync_incident(incident.id)


def _incident_for(
    body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> Incident | None:
    perch = services(context)
    user, _ = clicker(body)
    if not may_act_or_tell(perch, client, body):
        return None
    value = str(action.get("value") or "")
    incident = get_incident(perch.store.db, int(value)) if value.isdigit() else None
    if incident is None:
        tell(client, channel_of(body), user, "Perch has no such incident any more.")
    elif incident.term == OTHER:
        tell(client, channel_of(body), user, "These tweets are not alike: answer them one by one.")
        return None
    return incident
