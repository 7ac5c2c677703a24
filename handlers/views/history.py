"""History's box: a note about the customer is kept, and the modal shows again with it listed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.blocks.history import history_modal
from bot.forms import FormErrors, note_form
from bot.opened_views import bound
from bot.services import services
from handlers.shared import BUSY, clicker, refuse_form
from storage.customers import add_note, customer_history
from storage.errors import StorageError

NOTE_KEPT = "✅ Your note is kept. Only the team sees it: it is never sent to X."


def submit_note(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Refused on the box (who may not work cases, an empty or too long note, a database too busy);
    otherwise kept, and answered with the modal updated in place (`response_action: update`)."""
    form = note_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    perch = services(context)
    user, _ = clicker(body)
    verdict = perch.gate.may_act(user)
    if not verdict.allowed:
        ack(response_action="errors", errors={form.field: verdict.reason})
        return
    db = perch.store.db
    try:
        add_note(db, form.customer, form.text, user, form.case_id)
        history = customer_history(db, form.customer, except_case=form.case_id)
        updated = history_modal(history, case_id=form.case_id, notice=NOTE_KEPT)
        updated = bound(perch.store, updated, datetime.now(UTC), keep=view)
    except StorageError:  # locked past a request's wait: the note was not kept
        ack(response_action="errors", errors={form.field: BUSY})
        return
    ack(response_action="update", view=updated)
