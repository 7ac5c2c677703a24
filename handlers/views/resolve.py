"""Resolve with a contact reason (the form the Resolve button opens when the team has set reasons)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.blocks.modals import REASON_BLOCK
from bot.services import services
from handlers.shared import clicker
from storage import cases
from storage.reasons import reason_list


def submit_resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    perch = services(context)
    user, _ = clicker(body)
    verdict = perch.gate.may_act(user)
    if not verdict.allowed:
        ack(response_action="errors", errors={REASON_BLOCK: verdict.reason})
        return
    values = (view.get("state") or {}).get("values") or {}
    picked = (((values.get(REASON_BLOCK) or {}).get("reason") or {}).get("selected_option") or {}).get("value")
    known = {name for name, _ in reason_list(perch.store.db)}
    if picked is not None and picked not in known:
        ack(response_action="errors", errors={REASON_BLOCK: "That reason was removed meanwhile: pick another."})
        return
    value = json.loads(view.get("private_metadata") or "{}").get("case_id")
    case_id = value if isinstance(value, int) else 0
    result = cases.resolve(perch.store.db, case_id, user, picked)
    if not result.ok:
        by = f"<@{result.case.resolved_by}>" if result.case and result.case.resolved_by else "someone"
        text = f"Already resolved by {by}." if result.outcome == "resolved" else "Perch has no such case any more."
        ack(response_action="errors", errors={REASON_BLOCK: text})
        return
    ack()
    perch.poster.sync_case(case_id)
