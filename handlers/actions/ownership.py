"""Claim, unclaim and reassign: who has a case. Exactly one of several simultaneous claims wins."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.services import services
from bot.slack.ids import USER_ID
from handlers.shared import apply_change, case_id_of, channel_of, clicker, tell
from storage import cases
from storage.lifecycle import Outcome
from storage.routes import queue_team_of

REFUSALS = {
    Outcome.TAKEN: "Already claimed by {assignee}.",
    Outcome.YOURS: "You already have this case.",
    Outcome.RESOLVED: "This case is resolved. Reopen it first.",
    Outcome.NOT_YOURS: "Only {assignee} or a manager can unclaim this case.",
    Outcome.UNCLAIMED: "Nobody has this case.",
    Outcome.SAME: "{assignee} has this case already.",
}


def claim(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    apply_change(body, action, client, context, cases.claim, REFUSALS)


def unclaim(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    gate = services(context).gate
    apply_change(
        body,
        action,
        client,
        context,
        lambda db, case_id, user: cases.unclaim(db, case_id, user, as_manager=gate.may_manage(user).allowed),
        REFUSALS,
    )


def reassign(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A manager hands the case to someone else (the users menu on a claimed card)."""
    ack()
    gate = services(context).gate
    user, _ = clicker(body)
    target = str(action.get("selected_user") or "")
    verdict = gate.may_manage(user)
    if not verdict.allowed:
        tell(client, channel_of(body), user, verdict.reason)
        return
    if not USER_ID.match(target):  # the menu was cleared, or the value is not a Slack user
        tell(client, channel_of(body), user, "Pick the person to hand this case to.")
        return
    case_id, _ = case_id_of(body, action, services(context).store.db)
    team = queue_team_of(services(context).store.db, case_id) if case_id is not None else None
    if not gate.may_act(target, team).allowed:
        group = "team of this case's queue" if team else "support user group"
        tell(client, channel_of(body), user, f"<@{target}> is not in the {group}, so cannot take this case.")
        return
    apply_change(
        body,
        action,
        client,
        context,
        lambda db, case_id, by: cases.reassign(db, case_id, target, by),
        REFUSALS,
        check_gate=False,
    )
