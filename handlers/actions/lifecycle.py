"""Resolve (with or without the satisfaction survey) and reopen a case from its card."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.modals import resolve_modal
from bot.jobs.csat import send_survey, survey_policy
from bot.services import Services, services
from handlers.shared import apply_change, case_for_action, clicker, open_modal
from storage import cases
from storage.cases import Change
from storage.csat import skip_survey
from storage.lifecycle import Outcome
from storage.reasons import reason_list


def resolve(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """One click; with contact reasons set, a small form to pick the reason (the suggestion chosen).
    Resolved here (no reasons), a case in DM gets the survey when `CSAT_SURVEY` is on."""
    ack()
    _resolve(body, action, client, context, survey=True)


def resolve_no_survey(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Resolve, and never survey this case (the agent judged the conversation should not be asked)."""
    ack()
    _resolve(body, action, client, context, survey=False)


def _resolve(
    body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext, *, survey: bool
) -> None:
    perch = services(context)
    reasons = [name for name, _ in reason_list(perch.store.db)]
    if reasons:
        case = case_for_action(body, action, client, context)
        if case is not None:
            if not survey:
                skip_survey(perch.store.db, case.case_id, clicker(body)[0])
            open_modal(client, context, body, resolve_modal(case, reasons))
        return
    resolved: list[int] = []

    def step(db: Any, case_id: int, user: str) -> Change:
        if not survey:  # first: a crash between the two must not leave the case to the surveys' catch-up
            skip_survey(db, case_id, user)
        result = cases.resolve(db, case_id, user)
        if result.ok:
            resolved.append(case_id)
        return result

    apply_change(body, action, client, context, step, {Outcome.RESOLVED: "Already resolved by {by}."})
    for case_id in resolved if survey else []:
        ask_for_score(perch, case_id, clicker(body)[0])


def ask_for_score(perch: Services, case_id: int, user: str) -> None:
    """The survey, when one is due, and the thread brought up to date with it (or with its refusal)."""
    settings = perch.settings
    policy = survey_policy(settings.csat_survey, settings.csat_question, settings.csat_cooldown_days)
    send_survey(perch.store, perch.outbox, policy, case_id, user, sync=perch.poster.sync_case)


def reopen(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    apply_change(
        body,
        action,
        client,
        context,
        lambda db, case_id, user: cases.reopen(db, case_id, user),
        {Outcome.OPEN: "This case is open already."},
    )
