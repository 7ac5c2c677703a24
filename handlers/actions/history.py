"""History on a card: the customer's other cases and the team's notes about them, in a modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.history import history_modal
from bot.services import services
from handlers.shared import MISSING, case_id_of, channel_of, clicker, may_act_or_tell, open_modal, tell
from storage.customers import customer_history, customer_of_case

NO_CUSTOMER = "Perch does not know who wrote this case, so it has no history to show."


def open_history(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Open on any card, open or resolved, for whoever may work cases; the card's own case is not listed."""
    ack()
    perch = services(context)
    if not may_act_or_tell(perch, client, body):
        return
    db = perch.store.db
    case_id, refused = case_id_of(body, action, db)
    customer = customer_of_case(db, case_id) if case_id is not None else None
    if case_id is None or customer is None:
        tell(client, channel_of(body), clicker(body)[0], refused or (MISSING if case_id is None else NO_CUSTOMER))
        return
    open_modal(
        client, context, body, history_modal(customer_history(db, customer, except_case=case_id), case_id=case_id)
    )
