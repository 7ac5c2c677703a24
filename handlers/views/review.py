"""A lead's forms on a held draft: edit it (it then goes out as approved) or send it back with a note."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.domain.pii import describe
from bot.forms import FormErrors, draft_edit_form, send_back_form
from bot.services import services
from bot.slack.ids import Field
from bot.x.tweet_text import dm_problem, tweet_problem
from handlers.shared import clicker, refuse_form, review_problem
from storage.drafts import decide, get_draft


def submit_edited_draft(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """The lead's wording goes out, once, as the approved draft (checked like any reply first)."""
    form = draft_edit_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    perch = services(context)
    user, _ = clicker(body)
    text = form.text
    draft = get_draft(perch.store.db, form.draft_id)
    problem = review_problem(perch, user, draft)
    if draft is not None and not problem:
        problem = tweet_problem(text) if draft.kind == "reply" else dm_problem(text, required=True)
        found = perch.pii.find(text) if draft.kind == "reply" else []
        problem = problem or (f"This shows {describe(found)}: take it out, it is a public reply." if found else None)
    if problem or draft is None:
        ack(response_action="errors", errors={Field.DRAFT_TEXT: problem or "Perch has no such draft any more."})
        return
    if not decide(perch.store.db, draft.id, "approved", user, text=text.strip()):
        ack(response_action="errors", errors={Field.DRAFT_TEXT: "Another lead decided on this draft already."})
        return
    ack()
    perch.review.send(draft.id)
    perch.poster.sync_case(draft.case_id)


def submit_send_back(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    form = send_back_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    perch = services(context)
    user, _ = clicker(body)
    draft = get_draft(perch.store.db, form.draft_id)
    problem = review_problem(perch, user, draft) or (None if form.text else "Say what to change.")
    if problem or draft is None:
        ack(response_action="errors", errors={Field.DRAFT_NOTE: problem or "Perch has no such draft any more."})
        return
    if not decide(perch.store.db, draft.id, "sent_back", user, note=form.text):
        ack(response_action="errors", errors={Field.DRAFT_NOTE: "Another lead decided on this draft already."})
        return
    ack()
    decided = get_draft(perch.store.db, draft.id)
    if decided is not None:
        perch.review.tell_author(decided)
    perch.poster.sync_case(draft.case_id)
