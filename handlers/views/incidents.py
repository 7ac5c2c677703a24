"""The surge incident's modals: save the status update; confirm sending it to every waiting customer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.blocks.safety import personal_data_modal
from bot.domain.pii import describe
from bot.forms import FormErrors, bulk_reply_form, personal_data_form, status_form
from bot.jobs.bulk import LONGEST_ADDRESS
from bot.opened_views import bound
from bot.services import services
from bot.slack.ids import Field, View
from bot.x.tweet_text import tweet_problem
from handlers.shared import clicker, refuse_form
from storage.bulk import set_status, start_bulk
from storage.incidents import get_incident

BULK_REFUSALS = {
    "changed": "The status update changed since this form opened. Close it and open it again.",
    "started": "The status update is already being sent to this incident's customers.",
    "nobody": "Every customer in this incident has an answer already; nothing to send.",
    "missing": "Perch has no such incident or status update any more.",
    "not_alike": "These tweets are not alike: answer them one by one.",
}


def submit_status(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    form = status_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    perch = services(context)
    user, name = clicker(body)
    problem = _status_problem(form.text) or _gate_problem(perch, user)
    incident = get_incident(perch.store.db, form.incident_id)
    if incident is None:
        problem = problem or "Perch has no such incident any more."
    elif incident.bulk_at and not incident.bulk_stopped_by:
        problem = problem or "The status update is being sent to customers; it cannot change now."
    if problem or incident is None:
        ack(response_action="errors", errors={Field.STATUS_TEXT: problem or "Perch has no such incident any more."})
        return
    findings = perch.pii.find(form.text)
    if findings:  # it would go to every waiting customer in public: the agent decides first
        meta = {"incident_id": incident.id, "text": form.text.strip()}
        stop = personal_data_modal(View.PERSONAL_DATA_STATUS, findings, meta, handle=None, what="status update")
        if stop is None:
            ack(response_action="errors", errors={Field.STATUS_TEXT: f"This shows {describe(findings)}: take it out."})
        else:
            ack(response_action="push", view=bound(perch.store, stop, datetime.now(UTC)))
        return
    ack()
    set_status(perch.store.db, incident.id, form.text.strip(), user, name)
    perch.poster.sync_incident(incident.id)


def submit_status_anyway(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """A status update that holds personal data, saved only with the agent's reason (kept with it)."""
    form = personal_data_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    perch = services(context)
    user, name = clicker(body)
    incident = get_incident(perch.store.db, form.incident_id)
    problem = _gate_problem(perch, user) or (None if incident else "Perch has no such incident any more.")
    if not form.reason or problem or incident is None:
        field = Field.PERSONAL_DATA_REASON if not problem and incident else Field.PERSONAL_DATA_CHOICE
        ack(response_action="errors", errors={field: problem or "Say why it must be public: the reason is kept."})
        return
    if incident.bulk_at and not incident.bulk_stopped_by:
        ack(
            response_action="errors",
            errors={Field.PERSONAL_DATA_CHOICE: "The status update is being sent; it cannot change now."},
        )
        return
    ack(response_action="clear")
    set_status(perch.store.db, incident.id, form.text, user, name, personal_data_reason=form.reason)
    perch.poster.sync_incident(incident.id)


def submit_bulk_reply(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Nothing is sent unless the box is ticked on this very status update; the job then paces the sends."""
    form = bulk_reply_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    if not form.confirmed:
        ack(response_action="errors", errors={Field.BULK_CONFIRM: "Tick the box to confirm, or cancel."})
        return
    perch = services(context)
    user, name = clicker(body)
    problem = _gate_problem(perch, user)
    if problem:
        ack(response_action="errors", errors={Field.BULK_CONFIRM: problem})
        return
    outcome = start_bulk(perch.store.db, form.incident_id, user, name, form.status_at)
    if outcome != "ok":
        ack(response_action="errors", errors={Field.BULK_CONFIRM: BULK_REFUSALS[outcome]})
        return
    ack()
    perch.poster.sync_incident(form.incident_id)


def _status_problem(text: str) -> str | None:
    """The status must fit a tweet even after the longest customer @handle is put in front of it."""
    if not text.strip():
        return tweet_problem(text)
    if tweet_problem(LONGEST_ADDRESS + text.strip()):
        return tweet_problem(text) or (
            "Too long once a customer's @handle (up to 16 characters) is put in "
            "front of it: keep it to about 263 characters."
        )
    return None


def _gate_problem(perch: Any, user: str) -> str | None:
    verdict = perch.gate.may_act(user)
    return None if verdict.allowed else verdict.reason
