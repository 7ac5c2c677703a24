"""Resolve with a contact reason (the form the Resolve button opens when the team has set reasons); a
case in DM then gets the satisfaction survey, unless the agent chose Resolve without survey."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.forms import FormErrors, resolve_form
from bot.jobs.csat import send_survey, survey_policy
from bot.services import services
from bot.slack.ids import Field
from handlers.shared import clicker, refuse_form
from storage import cases
from storage.lifecycle import Outcome
from storage.reasons import reason_list
from storage.routes import queue_team_of


def submit_resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    form = resolve_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    perch = services(context)
    user, _ = clicker(body)
    verdict = perch.gate.may_act(user, queue_team_of(perch.store.db, form.case_id))
    if not verdict.allowed:
        ack(response_action="errors", errors={Field.RESOLVE_REASON: verdict.reason})
        return
    known = {name for name, _ in reason_list(perch.store.db)}
    if form.reason is not None and form.reason not in known:
        ack(response_action="errors", errors={Field.RESOLVE_REASON: "That reason was removed meanwhile: pick another."})
        return
    result = cases.resolve(perch.store.db, form.case_id, user, form.reason)
    if not result.ok:
        by = f"<@{result.case.resolved_by}>" if result.case and result.case.resolved_by else "someone"
        text = (
            f"Already resolved by {by}." if result.outcome is Outcome.RESOLVED else "Perch has no such case any more."
        )
        ack(response_action="errors", errors={Field.RESOLVE_REASON: text})
        return
    ack()
    perch.poster.redraw_card(form.case_id)
    settings = perch.settings
    policy = survey_policy(settings.csat_survey, settings.csat_question, settings.csat_cooldown_days)
    send_survey(perch.store, perch.outbox, policy, form.case_id, user, sync=perch.poster.sync_case)
