"""Small helpers every listener uses: who clicked, which case, and a private answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.home import home_view
from bot.blocks.mrkdwn import escape_within, one_line
from bot.blocks.review import outcome_line
from bot.blocks.routes import route_lines
from bot.forms import FormErrors
from bot.jobs.case_routing import as_route
from bot.opened_views import open_view
from bot.services import services
from bot.slack.ids import CONVERSATION_ID, MESSAGE_TS, Metadata
from storage.cases import CardData, Change, case_at, get_card
from storage.db import to_iso
from storage.drafts import Draft
from storage.errors import StorageError
from storage.home import home_data
from storage.incidents import case_in_incident
from storage.lifecycle import CaseStatus, Outcome
from storage.queue import Queues, queue_teams
from storage.routes import list_routes, queue_team_of, routed_since

log = logging.getLogger(__name__)

MISSING = "Perch has no case for this card any more."
NOT_LISTED = "That button names a case this surge does not list, so nothing happened. Use the buttons it shows."
DISAGREES = "That button names another case than the card it is on, so nothing happened. Use the card's own buttons."
BUSY = "Perch's database is busy or full right now, so that did not happen. Try again in a minute."


def clicker(body: dict[str, Any]) -> tuple[str, str]:
    """(user id, name) of the person behind an interaction."""
    user = body.get("user") or {}
    return str(user.get("id", "")), str(user.get("username") or user.get("name") or "")


def case_id_of(body: dict[str, Any], action: dict[str, Any], db: Any) -> tuple[int | None, str | None]:
    """The case a card action is about, or the words refusing it. A click on a card acts on that card's
    case (the message it came from, as Perch recorded it, else by its `perch_case` metadata), and a button
    value naming another case is refused; elsewhere (the Home tab, an incident's list) the value names it."""
    value = action.get("value")
    value = value if isinstance(value, str) else ""
    named = int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None  # not "²"
    card = _card_case(body, db)
    if card is not None and named is not None and named != card:  # "²" or "-1" names no case: the card's
        return None, DISAGREES
    incident = _incident_of(body)
    if card is None and named is not None and incident is not None and not case_in_incident(db, named, incident):
        return None, NOT_LISTED  # a value naming a case the incident's card or list does not show
    case_id = card if card is not None else named
    return case_id, (None if case_id is not None else MISSING)


def _incident_of(body: dict[str, Any]) -> int | None:
    """The surge incident whose card or thread list the click came from (its message metadata)."""
    metadata = (body.get("message") or {}).get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") not in (Metadata.INCIDENT, Metadata.INCIDENT_CHUNK):
        return None
    payload = metadata.get("event_payload")
    incident = payload.get("incident_id") if isinstance(payload, dict) else None
    return incident if isinstance(incident, int) and not isinstance(incident, bool) and 0 < incident < 2**63 else 0


def _card_case(body: dict[str, Any], db: Any) -> int | None:
    """The case whose card the click came from; None when it came from anything else."""
    channel = channel_of(body)
    ts = (body.get("container") or {}).get("message_ts")
    if channel and isinstance(ts, str) and MESSAGE_TS.fullmatch(ts):
        found = case_at(db, channel, ts)
        if found is not None:
            return int(found)
    metadata = (body.get("message") or {}).get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != Metadata.CASE:
        return None
    payload = metadata.get("event_payload")
    case_id = payload.get("case_id") if isinstance(payload, dict) else None
    sound = isinstance(case_id, int) and not isinstance(case_id, bool) and 0 < case_id < 2**63
    return case_id if sound else None


def may_act_or_tell(perch: Any, client: WebClient, body: dict[str, Any]) -> bool:
    """Whether the clicker may work cases; if not, they are told why, privately."""
    user, _ = clicker(body)
    verdict = perch.gate.may_act(user)
    if not verdict.allowed:
        tell(client, channel_of(body), user, verdict.reason)
    return verdict.allowed


def display_name(name: str) -> str:
    """An agent's or staff member's Slack name as safe mrkdwn, for Perch's own thread notes."""
    return escape_within(one_line(name), 60) or "Someone"


def tell(client: WebClient, channel: str | None, user: str, text: str) -> None:
    """Answer one person privately in the channel they acted in; with no channel there (or Slack refusing
    it), in their Messages tab with Perch instead: the answer is never silently dropped."""
    if not user:
        log.warning("Nobody to tell: %s", text)
        return
    if not channel:
        tell_directly(client, user, text)
        return
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as error:
        log.warning("Could not tell %s in %s (%s); telling them directly", user, channel, error.response.get("error"))
        tell_directly(client, user, text)


def tell_directly(client: WebClient, user: str, text: str) -> None:
    """Answer one person in their Messages tab with Perch, for clicks inside a modal (no channel there)."""
    try:
        client.chat_postMessage(channel=user, text=text, unfurl_links=False, unfurl_media=False)
    except SlackApiError as error:
        log.warning("Could not tell %s (%s): %s", user, error.response.get("error"), text)


def refuse_form(ack: Ack, body: dict[str, Any], context: BoltContext, form: FormErrors) -> None:
    """A form's problems, shown on their fields; one with no field to show it on (a form without inputs)
    closes the form and is told to the person directly, so it is never lost."""
    if "" not in form.errors:
        ack(response_action="errors", errors=form.errors)
        return
    ack()
    tell_directly(context.client, clicker(body)[0], " ".join(form.errors.values()))


def channel_of(body: dict[str, Any]) -> str | None:
    """The conversation an interaction came from, when it names one the way Slack does."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return channel if isinstance(channel, str) and CONVERSATION_ID.match(channel) else None


def apply_change(
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: Any,
    change: Callable[[Any, int, str], Change],
    refusals: dict[Outcome, str],
    *,
    check_gate: bool = True,
) -> None:
    """The shape of every card button: may this person act, which case, apply the change, then
    refresh the card, or tell the clicker why not (`refusals` by outcome; `{assignee}` and `{by}`
    stand for the case's assignee and resolver)."""
    perch = services(context)
    user, _ = clicker(body)
    channel = channel_of(body)
    db = perch.store.db
    case_id, refused = case_id_of(body, action, db)
    if check_gate:  # before saying anything about the case: who may not act hears only that
        verdict = perch.gate.may_act(user, queue_team_of(db, case_id) if case_id is not None else None)
        if not verdict.allowed:
            tell(client, channel, user, verdict.reason)
            return
    if refused is not None or case_id is None:
        tell(client, channel, user, refused or MISSING)
        return
    result = change(db, case_id, user)
    if (body.get("view") or {}).get("type") == "home":
        refresh_home(client, perch, user)  # clicked in the App Home: show the queue as it is now
    if result.ok:
        if note := perch.poster.redraw_card(case_id).card_note:
            tell(client, channel, user, note)  # the card could not show it as it is: say what happened
        return
    case = result.case
    assignee = f"<@{case.assignee}>" if case and case.assignee else "someone"
    by = f"<@{case.resolved_by}>" if case and case.resolved_by else "someone"
    fallback = (
        MISSING if result.outcome is Outcome.MISSING else "That did not work; the card shows the case as it is now."
    )
    tell(client, channel, user, refusals.get(result.outcome, fallback).format(assignee=assignee, by=by))
    if case is not None:
        perch.poster.redraw_card(case_id)  # the clicker's card may have been out of date


def open_modal(client: WebClient, context: BoltContext, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Open a modal for the clicker, bound to what it is about (`bot.opened_views`); if Slack refuses,
    say so instead of leaving them waiting."""
    user, _ = clicker(body)
    try:
        open_view(client, services(context).store, str(body.get("trigger_id") or ""), view, datetime.now(UTC))
    except StorageError:  # the form could not be bound to its case: it would be refused when sent
        tell(client, channel_of(body), user, BUSY)
    except SlackApiError as error:
        tell(
            client, channel_of(body), user, f"Slack did not open the form ({error.response.get('error')}). Click again."
        )


def _queues(perch: Any, user: str) -> Queues | None:
    """The queues whose unclaimed cases `user`'s Home tab lists: those they may work (None: all)."""
    may = perch.gate.queues_of(user, queue_teams(perch.store.db))
    return None if may is None else Queues(*may)


def refresh_home(client: WebClient, perch: Any, user: str) -> None:
    """Draw `user`'s App Home tab again."""
    settings, now = perch.settings, datetime.now(UTC)
    data = home_data(
        perch.store.db,
        user,
        timezone=settings.report_timezone,
        sla_minutes=settings.sla_first_response_minutes,
        now=now,
        business=settings.business_hours,
        queues=_queues(perch, user),
    )
    view = home_view(data, timezone=settings.report_timezone, sla_minutes=settings.sla_first_response_minutes, now=now)
    try:
        client.views_publish(user_id=user, view=view)
    except SlackApiError as error:
        log.warning("Home tab not published: %s", error.response.get("error"))


def case_for_action(
    body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> CardData | None:
    """The open case a card button is about, if the clicker may work it; otherwise they are told why."""
    perch = services(context)
    user, _ = clicker(body)
    case_id, refused = case_id_of(body, action, perch.store.db)
    case = get_card(perch.store.db, case_id) if case_id is not None else None
    verdict = perch.gate.may_act(user, case.queue_team if case else None)
    if not verdict.allowed:
        tell(client, channel_of(body), user, verdict.reason)
        return None
    if case is None:
        tell(client, channel_of(body), user, refused or MISSING)
        return None
    if case.status == CaseStatus.RESOLVED:
        tell(client, channel_of(body), user, "This case is resolved. Reopen it first.")
        return None
    return case


def review_problem(perch: Any, user: str, draft: Draft | None) -> str | None:
    """Why `user` may not decide on `draft`, in words; None when they may."""
    if draft is None:
        return "Perch has no such draft any more."
    verdict = perch.gate.may_review(user)
    if not verdict.allowed:
        return verdict.reason
    if draft.author == user:
        return "You wrote this draft: another lead reviews it."
    if not draft.pending:
        return f"Already decided: {outcome_line(draft)}"
    return None


def route_listing(perch: Any, now: datetime) -> list[str]:
    """The routes in order, each with the new cases it took since midnight UTC, then where the rest go
    (`/perch routes list` and `/perch status`)."""
    stored = list_routes(perch.store.db)
    counts = routed_since(perch.store.db, to_iso(now.replace(hour=0, minute=0, second=0, microsecond=0)))
    return route_lines(
        [as_route(r).shown() for r in stored],
        [counts.get(r.id, 0) for r in stored],
        counts.get(None, 0),
        queue=perch.settings.slack_queue_channel,
        dm_channel=perch.settings.slack_dm_channel,
    )
