"""Resolve and reopen a case from its card."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from handlers.shared import apply_change
from storage import cases


def resolve(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    apply_change(body, action, client, context, cases.resolve, {"resolved": "Already resolved by {by}."})


def reopen(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    apply_change(
        body,
        action,
        client,
        context,
        lambda db, case_id, user: cases.reopen(db, case_id, user),
        {"open": "This case is open already."},
    )
