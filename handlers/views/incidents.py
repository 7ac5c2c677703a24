"""The surge incident's modals: save the status update; confirm sending it to every waiting customer."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.blocks.incidents import CONFIRM_BLOCK, STATUS_BLOCK
from bot.blocks.modals import submitted_text
from bot.blocks.safety import CHOICE_BLOCK, REASON_BLOCK, chosen, personal_data_modal
from bot.domain.pii import describe
from bot.jobs.bulk import LONGEST_ADDRESS
from bot.services import services
from bot.slack.ids import View
from bot.x.tweet_text import tweet_problem
from handlers.shared import clicker
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
    perch = services(context)
    _, text = submitted_text(view, STATUS_BLOCK)
    user, name = clicker(body)
    problem = _status_problem(text) or _gate_problem(perch, user)
    incident = get_incident(perch.store.db, _incident_id(view))
    if incident is None:
        problem = problem or "Perch has no such incident any more."
    elif incident.bulk_at and not incident.bulk_stopped_by:
        problem = problem or "The status update is being sent to customers; it cannot change now."
    if problem or incident is None:
        ack(response_action="errors", errors={STATUS_BLOCK: problem or "Perch has no such incident any more."})
        return
    findings = perch.pii.find(text)
    if findings:  # it would go to every waiting customer in public: the agent decides first
        meta = {"incident_id": incident.id, "text": text.strip()}
        stop = personal_data_modal(View.PERSONAL_DATA_STATUS, findings, meta, handle=None, what="status update")
        if stop is None:
            ack(response_action="errors", errors={STATUS_BLOCK: f"This shows {describe(findings)}: take it out."})
        else:
            ack(response_action="push", view=stop)
        return
    ack()
    set_status(perch.store.db, incident.id, text.strip(), user, name)
    perch.poster.sync_incident(incident.id)


def submit_status_anyway(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """A status update that holds personal data, saved only with the agent's reason (kept with it)."""
    perch = services(context)
    user, name = clicker(body)
    _, reason = chosen(view)
    meta = json.loads(view.get("private_metadata") or "{}")
    incident = get_incident(perch.store.db, _incident_id(view))
    problem = _gate_problem(perch, user) or (None if incident else "Perch has no such incident any more.")
    if not reason or problem or incident is None:
        block = REASON_BLOCK if not problem and incident else CHOICE_BLOCK
        ack(response_action="errors", errors={block: problem or "Say why it must be public: the reason is kept."})
        return
    if incident.bulk_at and not incident.bulk_stopped_by:
        ack(response_action="errors", errors={CHOICE_BLOCK: "The status update is being sent; it cannot change now."})
        return
    ack(response_action="clear")
    text = str(meta.get("text") or "")
    set_status(perch.store.db, incident.id, text, user, name, personal_data_reason=reason)
    perch.poster.sync_incident(incident.id)


def submit_bulk_reply(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Nothing is sent unless the box is ticked on this very status update; the job then paces the sends."""
    perch = services(context)
    user, name = clicker(body)
    selected = (((view.get("state") or {}).get("values") or {}).get(CONFIRM_BLOCK) or {}).get("confirmed") or {}
    if not any(option.get("value") == "yes" for option in selected.get("selected_options") or []):
        ack(response_action="errors", errors={CONFIRM_BLOCK: "Tick the box to confirm, or cancel."})
        return
    problem = _gate_problem(perch, user)
    if problem:
        ack(response_action="errors", errors={CONFIRM_BLOCK: problem})
        return
    meta = json.loads(view.get("private_metadata") or "{}")
    outcome = start_bulk(perch.store.db, _incident_id(view), user, name, str(meta.get("status_at") or ""))
    if outcome != "ok":
        ack(response_action="errors", errors={CONFIRM_BLOCK: BULK_REFUSALS[outcome]})
        return
    ack()
    perch.poster.sync_incident(_incident_id(view))


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


def _incident_id(view: dict[str, Any]) -> int:
    meta = json.loads(view.get("private_metadata") or "{}")
    value = meta.get("incident_id")
    return int(value) if isinstance(value, int) else 0


def _gate_problem(perch: Any, user: str) -> str | None:
    verdict = perch.gate.may_act(user)
    return None if verdict.allowed else verdict.reason
