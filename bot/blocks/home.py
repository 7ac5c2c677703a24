"""The App Home tab: the agent's own open cases, the unclaimed queue, open surges and today's team
figures, drawn from `storage.home.HomeData` (read by the caller)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.blocks.common import button_element, duration
from bot.blocks.mrkdwn import clean, decode_x, escape_within, one_line
from bot.blocks.reports import duration_or_dash
from bot.slack.ids import Action
from storage.cases import CardData
from storage.db import from_iso
from storage.home import HomeData, Surge


def home_view(data: HomeData, *, timezone: str, sla_minutes: float, now: datetime) -> dict:
    today = data.today
    on_you = [case for case in data.mine if not case.awaiting_customer]
    on_customer = [case for case in data.mine if case.awaiting_customer]
    lines = [_case_line(case, now) for case in on_you] or [
        "Nothing waiting on you." if on_customer else "Nothing claimed. Pick a card in the queue channel."
    ]
    queue = f"*{data.waiting}* unclaimed" + (
        f" · oldest waiting {duration(now - from_iso(data.oldest_waiting))}" if data.oldest_waiting else ""
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Perch"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Your open cases*\n" + "\n".join(lines)[:2900]}},
        *_awaiting_dm_blocks(on_customer, now),
        *_surge_blocks(data.surges, now),
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Queue* (high priority first)\n{queue}"}},
        *(_claimable(case, now) for case in data.first_up),
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f"*Today* ({timezone})\n{today.volume_in} in · {today.handled} handled · {today.open} open · "
                    f"p50 first response {duration_or_dash(today.time_to_first_response.p50)} · "
                    f"{today.sla_breaches} past the {sla_minutes:g}m target"
                    + (" of business time" if today.business else "")
                ),
            },
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Updated {now:%H:%M} UTC · `/perch help`"}]},
    ]
    return {"type": "home", "blocks": blocks}


def _awaiting_dm_blocks(cases: list[CardData], now: datetime) -> list[dict[str, Any]]:
    """The agent's cases where the brand wrote last by DM: nothing to do until the customer answers."""
    if not cases:
        return []
    lines = [
        _case_line(case, now) + f" · your DM {duration(now - from_iso(case.last_dm_out_at or case.created_at))} ago"
        for case in cases
    ]
    text = "*Waiting on the customer's DM answer*\n" + "\n".join(lines)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}]


def _surge_blocks(surges: list[Surge], now: datetime) -> list[dict[str, Any]]:
    """Open surge incidents, each with the first of its tweets waiting (high priority first) to claim
    from here; all of them are in the incident card's thread."""
    blocks: list[dict[str, Any]] = []
    for surge in surges:
        incident, waiting = surge.incident, surge.waiting
        name = f"“{escape_within(one_line(incident.label), 80)}”"
        if incident.slack_ts and incident.slack_channel:
            name = f"<https://slack.com/archives/{incident.slack_channel}/p{incident.slack_ts.replace('.', '')}|{name}>"
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": (f"🌊 *Surge* {name}: {waiting:,} waiting")}}
        )
        blocks += [_claimable(case, now) for case in surge.first_waiting]
    return blocks


def _claimable(case: CardData, now: datetime) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": (("🔴 " if case.priority == "high" else "") + _case_line(case, now))[:2900]},
        "accessory": button_element(Action.CLAIM, "Claim", None, str(case.case_id)),
    }


def _case_line(case: CardData, now: datetime) -> str:
    text = "✉️ by DM" if case.dm_only else escape_within(one_line(clean(decode_x(case.text))), 90)
    waited = duration(now - from_iso(case.created_at))
    link = (
        f"<https://slack.com/archives/{case.slack_channel}/p{case.slack_ts.replace('.', '')}|Case #{case.case_id}>"
        if case.slack_ts and case.slack_channel
        else f"Case #{case.case_id}"
    )
    return f"• {link} · {case.status} · {waited} old · {text}"
