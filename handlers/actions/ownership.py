"""Claim, unclaim and reassign: who has a case. Exactly one of several simultaneous claims wins."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.services import services
from bot.slack.ids import USER_ID
from handlers.shared import apply_change, channel_of, clicker, tell
from storage import cases
from storage.lifecycle import Outcome

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
    if not gate.may_act(target).allowed:
        tell(client, channel_of(body), user, f"<@{target}> is not in the support user group, so cannot take cases.")
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
