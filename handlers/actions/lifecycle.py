"""Resolve and reopen a case from its card."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.modals import resolve_modal
from bot.services import services
from handlers.shared import apply_change, case_for_action, open_modal
from storage import cases
from storage.lifecycle import Outcome
from storage.reasons import reason_list


def resolve(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """One click; with contact reasons set, a small form to pick the reason (the suggestion chosen)."""
    ack()
    reasons = [name for name, _ in reason_list(services(context).store.db)]
    if not reasons:
        apply_change(body, action, client, context, cases.resolve, {Outcome.RESOLVED: "Already resolved by {by}."})
        return
    case = case_for_action(body, action, client, context)
    if case is not None:
        open_modal(client, body, resolve_modal(case, reasons))


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
