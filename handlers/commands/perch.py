"""`/perch` — sub-commands are dispatched here; `/perch help` (or nothing) lists them."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.mrkdwn import escape

HELP = "\n".join([
    "*Perch* turns the brand's X mentions into cards in the support queue.",
    "• `/perch help` — this list",
    "Cards carry the buttons *Claim*, *Reply*, *Move to DM*, *Escalate* and *Resolve*.",
])


def perch_command(ack: Ack, command: dict[str, Any]) -> None:
    words = (command.get("text") or "").split()
    sub = words[0].lower() if words else "help"
    if sub == "help":
        ack(text=HELP, response_type="ephemeral")
        return
    ack(text=f"Unknown sub-command `{escape(sub[:30])}`.\n{HELP}", response_type="ephemeral")
