"""The one slash command, `/perch`: its sub-commands are dispatched here, to one module each.

Slack sends command text with `&`, `<` and `>` HTML-encoded (and, with `should_escape`, channels,
users and user groups as `<#C…|name>`, `<@U…>`, `<!subteam^S…>`); it is decoded once on the way in
and escaped again whenever it is shown, like tweet text. (Form-encoded, it cannot carry a lone
surrogate; the forms' JSON can, and `bot/forms.py` refuses it.)
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.mrkdwn import decode_x, escape
from bot.slack.ids import Command
from handlers.commands.customer import customer_command
from handlers.commands.locations import locations_command
from handlers.commands.perch import HELP, replies_command
from handlers.commands.reasons import reasons_command
from handlers.commands.report import run_report
from handlers.commands.routes import routes_command
from handlers.commands.status import status_text
from handlers.shared import BUSY
from storage.errors import StorageError

CHANGES = {
    "replies": replies_command,
    "locations": locations_command,
    "reasons": reasons_command,
    "routes": routes_command,
}


def register(app: App) -> None:
    app.command(Command.PERCH)(perch_command)


def perch_command(ack: Ack, respond: Respond, command: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    text = decode_x(str(command.get("text") or "")).strip()
    sub, _, rest = text.partition(" ")
    sub = sub.lower() or "help"
    if sub == "report":
        run_report(rest.strip(), ack, respond, command, client, context)
    elif sub == "customer":
        customer_command(rest.strip(), ack, respond, command, client, context)
    elif sub == "status":
        ack(text=status_text(context), response_type="ephemeral")
    elif sub == "help":
        ack(text=HELP, response_type="ephemeral")
    elif sub in CHANGES:
        try:
            answer = CHANGES[sub](rest.strip(), command.get("user_id", ""), context)
        except StorageError:  # locked by another writer past a request's wait: nothing changed
            answer = BUSY
        ack(text=answer, response_type="ephemeral")
    else:
        ack(text=f"Unknown sub-command `{escape(sub[:30])}`.\n{HELP}", response_type="ephemeral")
