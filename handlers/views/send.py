"""Sending from the modals: validate, send on X exactly once, then note it in the card's thread.

X is called before `ack()` so a refusal can be shown on the field itself; the X client's write
time-out keeps that inside Slack's 3 seconds. A DM, which may follow a public handoff, goes out after
`ack()` and its outcome is told to the agent privately.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.modals import DM_TEXT_BLOCK, REPLY_TEXT_BLOCK, submitted_text
from bot.blocks.safety import CHOICE_BLOCK, PUBLIC, REASON_BLOCK, chosen, personal_data_modal
from bot.domain.pii import describe
from bot.services import Services, services
from bot.slack.ids import View
from bot.x.outbox import Sent
from bot.x.tweet_text import dm_problem, tweet_problem, without_leading_mentions
from handlers.shared import BUSY, clicker, tell
from storage.cases import CardData, get_card, reply_target
from storage.drafts import hold_for_review
from storage.errors import StorageError
from storage.events import record_event
from storage.lifecycle import EventKind
from storage.replies import mark_moved_to_dm

REASON_NEEDED = "Say why it must be public: the reason is kept with the case's history."


def submit_reply(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    block_id, _ = submitted_text(view, REPLY_TEXT_BLOCK)
    try:
        _submit_reply(ack, body, view, context)
    except StorageError:  # locked past a request's wait: nothing was sent or recorded
        ack(response_action="errors", errors={block_id: BUSY})


def _submit_reply(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    perch = services(context)
    block_id, text = submitted_text(view, REPLY_TEXT_BLOCK)
    case = _checked(perch, body, view, tweet_problem(text))
    if isinstance(case, str):
        ack(response_action="errors", errors={block_id: case})
        return
    if case.dm_only:
        ack(response_action="errors", errors={block_id: "This customer wrote by DM: answer with Reply in DM."})
        return
    findings = perch.pii.find(text)
    if findings:  # nothing goes out: the agent decides on a view pushed over this one
        meta = {"case_id": case.case_id, "key": view["id"], "text": text}
        stop = personal_data_modal(View.PERSONAL_DATA, findings, meta, handle=case.author_handle)
        if stop is None:
            ack(response_action="errors", errors={block_id: f"This shows {describe(findings)}: take it out."})
        else:
            ack(response_action="push", view=stop)
        return
    _send_reply(ack, perch, body, case, text, view["id"], block_id)


def _send_reply(
    ack: Ack,
    perch: Services,
    body: dict[str, Any],
    case: CardData,
    text: str,
    key: str,
    block_id: str,
    *,
    pushed: bool = False,
) -> Sent | None:
    """The public reply, once per form (`key`); X's refusal is shown on `block_id`; from a view pushed
    over the form, success closes both. The send, when made (None when refused or held for review)."""
    if _held(ack, perch, body, case, "reply", text, f"view:{key}", pushed=pushed):
        return None
    user, name = clicker(body)
    sent = perch.outbox.reply(
        case.case_id,
        reply_target(perch.store.db, case.case_id, summoned_only=not perch.settings.x_reply_anywhere) or case.tweet_id,
        text,
        key=f"view:{key}",
        agent=user,
        agent_name=name,
    )
    if not _delivered(sent):
        ack(response_action="errors", errors={block_id: sent.message})
        return None
    if pushed:
        ack(response_action="clear")  # the Reply form under it closes too
    else:
        ack()
    perch.poster.sync_case(case.case_id)
    return sent


def submit_personal_data(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    try:
        _submit_personal_data(ack, body, view, context)
    except StorageError:
        ack(response_action="errors", errors={CHOICE_BLOCK: BUSY})


def _submit_personal_data(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """A reply that holds personal data: as a DM instead (the same text, without the @handles it
    starts with), or publicly with the agent's reason. Either goes out once per Reply form."""
    perch = services(context)
    meta = json.loads(view.get("private_metadata") or "{}")
    text, key = str(meta.get("text") or ""), str(meta.get("key") or view["id"])
    choice, reason = chosen(view)
    findings = perch.pii.find(text)
    kinds = list(dict.fromkeys(f.kind for f in findings))
    if choice == PUBLIC:
        case = _checked(perch, body, view, None if reason else REASON_NEEDED)
        if isinstance(case, str):
            ack(response_action="errors", errors={REASON_BLOCK if case == REASON_NEEDED else CHOICE_BLOCK: case})
            return
        sent = _send_reply(ack, perch, body, case, text, key, CHOICE_BLOCK, pushed=True)
        if sent is not None and sent.status == "sent":
            user, _ = clicker(body)
            record_event(
                perch.store.db, case.case_id, EventKind.PERSONAL_DATA_SENT, user, {"kinds": kinds, "reason": reason}
            )
        return
    private = without_leading_mentions(text)
    case = _checked(perch, body, view, dm_problem(private, required=True))
    if isinstance(case, str):
        ack(response_action="errors", errors={CHOICE_BLOCK: case})
        return
    sent = _send_dm(
        ack,
        perch,
        body,
        case,
        private,
        f"view:{key}:dm",
        CHOICE_BLOCK,
        pushed=True,
        after_refusal="Go back to send it another way.",
    )
    if sent is None:
        return
    if sent.status == "sent":
        user, _ = clicker(body)
        mark_moved_to_dm(perch.store.db, case.case_id, user, {"dm": sent.status, "public": False, "kinds": kinds})
    perch.poster.sync_case(case.case_id)


def submit_move_to_dm(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    try:
        _submit_move_to_dm(ack, body, view, client, context)
    except StorageError:
        ack(response_action="errors", errors={"public": BUSY})


def _submit_move_to_dm(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    perch = services(context)
    _, public = submitted_text(view, "public")
    _, private = submitted_text(view, "private")
    if json.loads(view.get("private_metadata") or "{}").get("public") is False:
        _submit_dm_only(ack, body, view, context, private)  # X allows no public reply to this post
        return
    case = _checked(perch, body, view, tweet_problem(public))
    if isinstance(case, str):
        ack(response_action="errors", errors={"public": case})
        return
    private_problem = dm_problem(private)
    if private_problem:
        ack(response_action="errors", errors={"private": private_problem})
        return
    found = perch.pii.find(public)
    if found:  # the handoff is public; the private message below it is where such details belong
        ack(response_action="errors", errors={"public": f"This shows {describe(found)}: put it in the DM instead."})
        return
    dm_draft = ("dm", private.strip(), f"view:{view['id']}:dm") if private.strip() else None
    if _held(ack, perch, body, case, "reply", public, f"view:{view['id']}:public", also=dm_draft):
        return
    user, name = clicker(body)
    db = perch.store.db
    handoff = perch.outbox.reply(
        case.case_id,
        reply_target(db, case.case_id) or case.tweet_id,
        public,
        key=f"view:{view['id']}:public",
        agent=user,
        agent_name=name,
    )
    if not _delivered(handoff):
        ack(response_action="errors", errors={"public": handoff.message})
        return
    ack()
    dm = None
    if private.strip():
        dm = perch.outbox.dm(
            case.case_id, case.author_id, private.strip(), key=f"view:{view['id']}:dm", agent=user, agent_name=name
        )
    if handoff.status == "sent":
        mark_moved_to_dm(db, case.case_id, user, {"dm": dm.status if dm else "none"})
    perch.poster.sync_case(case.case_id)
    if dm is not None and not _delivered(dm):
        now = get_card(db, case.case_id)
        channel = now.slack_channel if now is not None else case.slack_channel
        tell(
            client,
            channel,
            user,
            f"The public reply to @{case.author_handle} went out, but the DM did not: {dm.message}",
        )


def _submit_dm_only(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, text: str) -> None:
    """Move to DM where no public handoff is possible: the DM is the whole of it, sent before the ack so
    X's answer (DMs closed, say) shows on the form."""
    perch = services(context)
    case = _checked(perch, body, view, dm_problem(text, required=True))
    if isinstance(case, str):
        ack(response_action="errors", errors={"private": case})
        return
    sent = _send_dm(ack, perch, body, case, text.strip(), f"view:{view['id']}:dm", "private")
    if sent is None:
        return
    if sent.status == "sent":
        user, _ = clicker(body)
        mark_moved_to_dm(perch.store.db, case.case_id, user, {"dm": sent.status, "public": False})
    perch.poster.sync_case(case.case_id)


def submit_reply_dm(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    block_id, _ = submitted_text(view, DM_TEXT_BLOCK)
    try:
        _submit_reply_dm(ack, body, view, context)
    except StorageError:
        ack(response_action="errors", errors={block_id: BUSY})


def _submit_reply_dm(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """One DM per submission (the view id is the key); X's answer, or its refusal, decides the form."""
    perch = services(context)
    block_id, text = submitted_text(view, DM_TEXT_BLOCK)
    case = _checked(perch, body, view, dm_problem(text, required=True))
    if isinstance(case, str):
        ack(response_action="errors", errors={block_id: case})
        return
    if _send_dm(ack, perch, body, case, text.strip(), f"view:{view['id']}", block_id) is not None:
        perch.poster.sync_case(case.case_id)


def _send_dm(
    ack: Ack,
    perch: Services,
    body: dict[str, Any],
    case: CardData,
    text: str,
    key: str,
    block_id: str,
    *,
    pushed: bool = False,
    after_refusal: str = "",
) -> Sent | None:
    """The DM, once per form (`key`), acknowledged with X's answer: its refusal is shown on `block_id`
    (followed by `after_refusal`). The send, when made (None when refused or held for review)."""
    if _held(ack, perch, body, case, "dm", text, key, pushed=pushed):
        return None
    user, name = clicker(body)
    sent = perch.outbox.dm(case.case_id, case.author_id, text, key=key, agent=user, agent_name=name)
    if not _delivered(sent):
        ack(response_action="errors", errors={block_id: (sent.message + " " + after_refusal).strip()})
        return None
    if pushed:
        ack(response_action="clear")  # the form under it closes too
    else:
        ack()
    return sent


def _held(
    ack: Ack,
    perch: Services,
    body: dict[str, Any],
    case: CardData,
    kind: str,
    text: str,
    key: str,
    *,
    pushed: bool = False,
    also: tuple[str, str, str] | None = None,
) -> bool:
    """A new agent's reply, or one past their daily limit, waits in the card's thread for a lead (one
    draft per form, `key`; `also` a second one, the DM of a Move to DM): nothing goes to X now. True
    when it was held."""
    user, name = clicker(body)
    why = perch.review.hold_reason(user)
    if why is None:
        return False
    for held_kind, held_text, held_key in [(kind, text, key), *([also] if also else [])]:
        hold_for_review(perch.store.db, held_key, case.case_id, held_kind, held_text, user, name, why)
    if pushed:
        ack(response_action="clear")
    else:
        ack()
    perch.poster.sync_case(case.case_id)
    return True


def _checked(perch: Services, body: dict[str, Any], view: dict[str, Any], problem: str | None) -> CardData | str:
    """The case the submission may be sent for, or the first thing wrong with it (shown on the form)."""
    if problem:
        return problem
    user, _ = clicker(body)
    verdict = perch.gate.may_act(user)
    if not verdict.allowed:
        return verdict.reason
    meta = json.loads(view.get("private_metadata") or "{}")
    case = get_card(perch.store.db, int(meta.get("case_id") or 0))
    if case is None:
        return "Perch has no such case any more."
    return case


def _delivered(sent: Sent) -> bool:
    """A send that is done (now or before); `in_flight` counts too: the first request will finish it."""
    return sent.delivered or sent.status == "in_flight"
