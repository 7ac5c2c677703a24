"""A draft held for review, from its message in the card's thread: Approve sends it (once, whoever
clicks first), Edit and Send back open their forms. Leads only, and never the draft's own author."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.review import edit_draft_modal, outcome_line, send_back_modal
from bot.services import Services, services
from handlers.shared import channel_of, clicker, open_modal, review_problem, tell
from storage.drafts import Draft, decide, get_draft


def approve_draft(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    perch = services(context)
    draft = _reviewable(perch, body, action, client)
    if draft is None:
        return
    user, _ = clicker(body)
    if not decide(perch.store.db, draft.id, "approved", user):
        _already(perch, body, client, draft.id)
        return
    sent = perch.review.send(draft.id)
    if sent is not None and not (sent.delivered or sent.status in ("in_flight", "unknown")):
        tell(client, channel_of(body), user, f"X did not take it ({sent.message}); the draft waits for review again.")
    perch.poster.sync_case(draft.case_id)


def open_edit_draft(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    draft = _reviewable(services(context), body, action, client)
    if draft is not None:
        open_modal(client, context, body, edit_draft_modal(draft))


def open_send_back(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    draft = _reviewable(services(context), body, action, client)
    if draft is not None:
        open_modal(client, context, body, send_back_modal(draft))


def _reviewable(perch: Services, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> Draft | None:
    """The pending draft this click is about, if the clicker may review it; else they are told why."""
    user, _ = clicker(body)
    value = str(action.get("value") or "")
    draft = get_draft(perch.store.db, int(value)) if value.isdigit() and len(value) < 19 else None
    problem = review_problem(perch, user, draft)
    if problem:
        tell(client, channel_of(body), user, problem)
        return None
    return draft


def _already(perch: Services, body: dict[str, Any], client: WebClient, draft_id: int) -> None:
    user, _ = clicker(body)
    draft = get_draft(perch.store.db, draft_id)
    tell(client, channel_of(body), user, f"Already decided: {outcome_line(draft)}" if draft else "No such draft.")
