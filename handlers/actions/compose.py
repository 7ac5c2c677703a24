"""Reply, Move to DM and Reply in DM open their modals; a saved reply picked in one goes into its box."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.cards import NOT_SUMMONED
from bot.blocks.modals import TEXT_BOX_MAX, fit_text_box, move_to_dm_modal, reply_dm_modal, reply_modal
from bot.blocks.mrkdwn import escape_within, one_line
from bot.forms import FormErrors, reply_dm_form, reply_form
from bot.opened_views import bound
from bot.services import Services, services
from bot.slack.ids import View
from bot.x.errors import XError
from handlers.shared import (
    case_for_action,
    channel_of,
    clicker,
    open_modal,
    tell,
    tell_directly,
)
from storage.cases import CardData, case_tweets, get_card
from storage.dms import dm_conversation
from storage.replies import PERSONAL_DATA_REPLY, get_saved_reply, personal_data_reply, saved_replies, sent_replies

log = logging.getLogger(__name__)

DM_ONLY = "This customer wrote by DM, so there is no public post to answer: use *Reply in DM*."


def open_reply(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    case = case_for_action(body, action, client, context)
    perch = services(context)
    if case is not None and case.dm_only:
        user, _ = clicker(body)
        tell(client, channel_of(body), user, DM_ONLY)
        return
    if case is not None and not case.summoned and not perch.settings.x_reply_anywhere:
        user, _ = clicker(body)
        tell(client, channel_of(body), user, NOT_SUMMONED)
        return
    if case is not None:
        db = perch.store.db
        opening = personal_data_reply(db) if case.personal_data else None
        kinds = escape_within(case.personal_data or "", 200)
        notices = [
            f"🔒 Their post shows personal data ({kinds}): this reply starts from the saved reply "
            f"*{PERSONAL_DATA_REPLY}*, asking them to delete it."
            if opening
            else "",
            _review_notice(perch, body),
        ]
        notice = "\n".join(n for n in notices if n) or None
        modal = reply_modal(case, thread_so_far(db, case), saved_replies(db), opening=opening, notice=notice)
        open_modal(client, context, body, modal)


def open_move_to_dm(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    case = case_for_action(body, action, client, context)
    if case is None:
        return
    if case.dm_only:
        user, _ = clicker(body)
        tell(client, channel_of(body), user, DM_ONLY)
        return
    try:
        brand = services(context).x.me()
    except XError as error:
        user, _ = clicker(body)
        tell(client, channel_of(body), user, f"Perch cannot reach X to build the DM link right now ({error}).")
        return
    summoned = case.summoned or services(context).settings.x_reply_anywhere
    open_modal(client, context, body, move_to_dm_modal(case, brand.id, public_handoff=summoned))


def open_reply_dm(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    case = case_for_action(body, action, client, context)
    if case is None:
        return
    if not case.in_dm:
        user, _ = clicker(body)
        tell(client, channel_of(body), user, "This case is not in DM yet: use *Move to DM* first.")
        return
    perch = services(context)
    db = perch.store.db
    notice = _review_notice(perch, body) or None
    open_modal(
        client, context, body, reply_dm_modal(case, dm_conversation(db, case.case_id), saved_replies(db), notice=notice)
    )


def _review_notice(perch: Services, body: dict[str, Any]) -> str:
    """Said before the agent writes, not after: what they send waits for a lead."""
    user, _ = clicker(body)
    why = perch.review.hold_reason(user)
    if why == "daily_limit":
        return "📝 You reached today's reply limit: what you send now waits for a lead's review."
    return "📝 What you send waits for a lead's review before it goes to X." if why else ""


def pick_saved_reply(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Add the picked saved reply to what the agent has typed so far, keeping the @mention first."""
    ack()
    db = services(context).store.db
    view = body.get("view") or {}
    in_dm = view.get("callback_id") == View.REPLY_DM
    form = reply_dm_form(view) if in_dm else reply_form(view)
    if isinstance(form, FormErrors):  # what they typed cannot be kept: it stays as it is, and they hear why
        user, _ = clicker(body)
        tell_directly(client, user, "The saved reply was not added. " + " ".join(form.errors.values()))
        return
    case = get_card(db, form.case_id)
    picked = str((action.get("selected_option") or {}).get("value") or "")
    saved = get_saved_reply(db, int(picked)) if picked.isascii() and picked.isdigit() and len(picked) < 19 else None
    if case is None or saved is None:
        user, _ = clicker(body)
        tell_directly(client, user, "The saved reply was not added: Perch has no such case or saved reply any more.")
        return
    typed = form.text
    text = (typed.rstrip() + " " + saved["text"]).strip() if typed.strip() else saved["text"]
    notice = None
    if fit_text_box(text) != text:
        text = fit_text_box(text)
        notice = f"⚠ The saved reply did not fit: the box holds {TEXT_BOX_MAX:,} characters, so its end was cut." + (
            "" if in_dm else " X takes 280, so shorten it before sending."
        )
    version = form.version + 1
    if in_dm:
        updated = reply_dm_modal(
            case, dm_conversation(db, case.case_id), saved_replies(db), text=text, version=version, notice=notice
        )
    else:
        updated = reply_modal(
            case, thread_so_far(db, case), saved_replies(db), text=text, version=version, notice=notice
        )
    try:
        updated = bound(services(context).store, updated, datetime.now(UTC), keep=view)
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
    except SlackApiError as error:  # hash_conflict: the agent typed meanwhile; their text stays
        if error.response.get("error") != "hash_conflict":
            user, _ = clicker(body)
            log.warning("Reply form not updated with saved reply %s: %s", saved["id"], error.response.get("error"))
            tell_directly(
                client,
                user,
                f"Perch could not add the saved reply “{one_line(saved['name'])[:60]}” to "
                f"your form (Slack said {error.response.get('error')}). Your text is as "
                "you left it: paste the saved reply from `/perch replies` instead.",
            )


def thread_so_far(db: Any, case: CardData) -> list[dict[str, Any]]:
    """The customer's tweets and what the brand sent, in time order."""
    entries = [
        {"at": t["created_at"], "who": f"@{t['author_handle']}", "text": t["text"], "from_x": True}
        for t in case_tweets(db, case.case_id)
    ]
    for reply in sent_replies(db, case.case_id):
        who = "DM" if reply["kind"] == "dm" else "Brand"
        if reply["sent_by_name"]:
            who += f" ({reply['sent_by_name']})"
        entries.append({"at": reply["sent_at"] or "", "who": who, "text": reply["text"], "from_x": False})
    return sorted(entries, key=lambda e: e["at"])
