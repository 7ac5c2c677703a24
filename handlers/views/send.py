"""Reply, Reply in DM, Move to DM and the personal-data check: read the form, let `bot.sending` decide,
answer Slack with its outcome.

X is asked before `ack()` so a refusal shows on the field itself (the X client's write time-out keeps
that inside Slack's 3 seconds); what follows a send (Move to DM's DM, the records, the card) comes after
the `ack()`, and a step that did not happen is told to the agent privately.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.forms import FormErrors, move_to_dm_form, personal_data_form, reply_dm_form, reply_form
from bot.opened_views import bound
from bot.sending import Agent, Held, Outcome, Refused, Sent, Stopped
from bot.services import services
from bot.slack.ids import Field
from handlers.shared import BUSY, clicker, refuse_form, tell, tell_directly
from storage.errors import StorageError


def submit_reply(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    form = reply_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    _send(ack, body, client, context, partial(services(context).sender.reply, form), form.field)


def submit_reply_dm(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """One DM per submission (the view id is the key); X's answer, or its refusal, decides the form."""
    form = reply_dm_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    _send(ack, body, client, context, partial(services(context).sender.reply_dm, form), form.field)


def submit_move_to_dm(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """The public handoff and a first DM; where X allows no public reply to the post, the DM alone."""
    form = move_to_dm_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    field = Field.HANDOFF_PRIVATE if form.public is None else Field.HANDOFF_PUBLIC
    _send(ack, body, client, context, partial(services(context).sender.move_to_dm, form), field)


def submit_personal_data(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """A reply that holds personal data: as a DM instead, or publicly with the agent's reason. Pushed over
    the Reply form, so a send closes both."""
    form = personal_data_form(view)
    if isinstance(form, FormErrors):
        refuse_form(ack, body, context, form)
        return
    send = partial(services(context).sender.personal_data, form)
    _send(ack, body, client, context, send, Field.PERSONAL_DATA_CHOICE, pushed=True)


def _send(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    send: Callable[[Agent], Outcome],
    field: str,
    *,
    pushed: bool = False,
) -> None:
    """Answer Slack with the send's outcome, then finish it; `field` shows a database too busy to start."""
    agent = Agent(*clicker(body))
    try:
        outcome = send(agent)
        if isinstance(outcome, Stopped):  # the check goes over the form, bound as every Perch modal is
            outcome = Stopped(bound(services(context).store, outcome.view, datetime.now(UTC)))
    except StorageError:  # locked past a request's wait: nothing was sent or recorded
        ack(response_action="errors", errors={field: BUSY})
        return
    _answer(ack, outcome, pushed=pushed)
    notice = services(context).sender.finish(outcome, agent)
    if notice is None:
        return
    if notice.channel:
        tell(client, notice.channel, agent.id, notice.text)
    else:
        tell_directly(client, agent.id, notice.text)


def _answer(ack: Ack, outcome: Outcome, *, pushed: bool) -> None:
    """The form's answer: the refusal on its field, the personal-data check over it, or closed (all of
    the stack when the check was pushed over the form)."""
    if isinstance(outcome, Refused):
        ack(response_action="errors", errors={outcome.field: outcome.words})
    elif isinstance(outcome, Stopped):
        ack(response_action="push", view=outcome.view)
    elif isinstance(outcome, Sent | Held) and pushed:
        ack(response_action="clear")
    else:
        ack()
