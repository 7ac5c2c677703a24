"""Small helpers every listener uses: who clicked, which case, and a private answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.home import home_view
from bot.blocks.mrkdwn import escape_within, one_line
from bot.blocks.review import outcome_line
from bot.services import services
from storage.cases import CardData, Change, case_at, get_card
from storage.drafts import Draft
from storage.home import home_data
from storage.lifecycle import CaseStatus, Outcome

log = logging.getLogger(__name__)

MISSING = "Perch has no case for this card any more."
BUSY = "Perch's database is busy or full right now, so that did not happen. Try again in a minute."


def clicker(body: dict[str, Any]) -> tuple[str, str]:
    """(user id, name) of the person behind an interaction."""
    user = body.get("user") or {}
    return str(user.get("id", "")), str(user.get("username") or user.get("name") or "")


def case_id_of(body: dict[str, Any], action: dict[str, Any], db: Any) -> int | None:
    """The case a card action is about: the button's value, else the card the click came from."""
    value = str(action.get("value") or "")
    if value.isascii() and value.isdigit() and len(value) <= 18:  # not "²", not a 5,000-digit number
        return int(value)
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts")
    return case_at(db, channel, ts) if channel and ts else None


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
    """Answer one person privately in the channel they acted in; never silently drop the answer."""
    if not channel or not user:
        log.warning("No channel to tell %s: %s", user, text)
        return
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as error:
        log.warning("Could not tell %s (%s): %s", user, error.response.get("error"), text)


def tell_directly(client: WebClient, user: str, text: str) -> None:
    """Answer one person in their Messages tab with Perch, for clicks inside a modal (no channel there)."""
    try:
        client.chat_postMessage(channel=user, text=text, unfurl_links=False, unfurl_media=False)
    except SlackApiError as error:
        log.warning("Could not tell %s (%s): %s", user, error.response.get("error"), text)


def channel_of(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


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
    if check_gate:
        verdict = perch.gate.may_act(user)
        if not verdict.allowed:
            tell(client, channel, user, verdict.reason)
            return
    db = perch.store.db
    case_id = case_id_of(body, action, db)
    result = change(db, case_id, user) if case_id is not None else Change(Outcome.MISSING)
    if (body.get("view") or {}).get("type") == "home":
        refresh_home(client, perch, user)  # clicked in the App Home: show the queue as it is now
    if result.ok and case_id is not None:
        perch.poster.redraw_card(case_id)
        return
    case = result.case
    assignee = f"<@{case.assignee}>" if case and case.assignee else "someone"
    by = f"<@{case.resolved_by}>" if case and case.resolved_by else "someone"
    fallback = (
        MISSING if result.outcome is Outcome.MISSING else "That did not work; the card shows the case as it is now."
    )
    tell(client, channel, user, refusals.get(result.outcome, fallback).format(assignee=assignee, by=by))
    if case_id is not None and case is not None:
        perch.poster.redraw_card(case_id)  # the clicker's card may have been out of date


def open_modal(client: WebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Open a modal for the clicker; if Slack refuses, say so instead of leaving them waiting."""
    user, _ = clicker(body)
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as error:
        tell(
            client, channel_of(body), user, f"Slack did not open the form ({error.response.get('error')}). Click again."
        )


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
    if not may_act_or_tell(perch, client, body):
        return None
    case_id = case_id_of(body, action, perch.store.db)
    case = get_card(perch.store.db, case_id) if case_id is not None else None
    if case is None:
        tell(client, channel_of(body), user, MISSING)
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
