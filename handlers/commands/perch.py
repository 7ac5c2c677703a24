"""`/perch` — sub-commands are dispatched here; `/perch help` (or nothing) lists them.

Slack sends command text with `&`, `<` and `>` HTML-encoded (and, with `should_escape`, channels,
users and user groups as `<#C…|name>`, `<@U…>`, `<!subteam^S…>`); it is decoded once on the way in
and escaped again whenever it is shown, like tweet text.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.mrkdwn import decode_x, escape, escape_within, one_line
from bot.services import services
from bot.x.tweet_text import tweet_problem
from handlers.commands.locations import locations_command
from handlers.commands.reasons import reasons_command
from handlers.commands.report import run_report
from handlers.commands.status import status_text
from handlers.shared import BUSY
from storage.errors import StorageError
from storage.replies import add_saved_reply, remove_saved_reply, saved_replies

HELP = "\n".join(
    [
        "*Perch* turns the brand's X mentions into cards in the support queue.",
        "• `/perch help` — this list",
        "• `/perch status` — last poll of each source, queue size, X's rate limits, version",
        "• `/perch replies list` — the saved replies offered in the Reply form",
        "• `/perch replies add NAME | TEXT` — save a reply (e.g. `/perch replies add Delay | Sorry for the wait…`)",
        "• `/perch replies remove NAME` — delete a saved reply",
        "• `/perch report [today|yesterday|7d|30d|YYYY-MM-DD..YYYY-MM-DD] "
        "[by agent|by location|by hour|by reason] [@agent] [LOCATION] [public] [csv]` — how fast the team answers "
        "(managers)",
        "• `/perch reasons list` — why customers write: the reasons picked at resolve",
        "• `/perch reasons add NAME | keyword, keyword` — add a reason (or change its keywords, which suggest it); "
        "`/perch reasons remove NAME` — managers",
        "• `/perch locations list` — airports and stores that cases can be escalated to",
        '• `/perch locations add CODE #channel @staff-group [lead=@person] [name="…"] [aliases="a;b"] '
        "[kind=store] [timezone=…]` — managers",
        "• `/perch locations edit CODE field=value …`, `/perch locations remove CODE` — managers",
        "Cards carry the buttons *Claim*, *Reply*, *Move to DM*, *Escalate* and *Resolve*.",
    ]
)
REPLIES_USAGE = "Usage: `/perch replies list`, `/perch replies add NAME | TEXT`, `/perch replies remove NAME`."
_SLACK_ENTITY = re.compile(r"<([@#])[A-Z0-9]+\|([^>]*)>")
_NAME = re.compile(r"^[\w][\w .'-]{0,39}$")


def perch_command(ack: Ack, respond: Respond, command: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    text = decode_x(command.get("text") or "").strip()
    sub, _, rest = text.partition(" ")
    sub = sub.lower() or "help"
    if sub == "report":
        run_report(rest.strip(), ack, respond, command, client, context)
    elif sub == "status":
        ack(text=status_text(context), response_type="ephemeral")
    elif sub == "help":
        ack(text=HELP, response_type="ephemeral")
    elif sub in ("replies", "locations", "reasons"):
        change = {"replies": _replies, "locations": locations_command, "reasons": reasons_command}[sub]
        try:
            answer = change(rest.strip(), command.get("user_id", ""), context)
        except StorageError:  # locked by another writer past a request's wait: nothing changed
            answer = BUSY
        ack(text=answer, response_type="ephemeral")
    else:
        ack(text=f"Unknown sub-command `{escape(sub[:30])}`.\n{HELP}", response_type="ephemeral")


def _replies(args: str, user: str, context: BoltContext) -> str:
    perch = services(context)
    action, _, rest = args.partition(" ")
    action = action.lower()
    db = perch.store.db
    if action in ("", "list"):
        saved = saved_replies(db)
        if not saved:
            return "No saved replies yet. Add one with `/perch replies add NAME | TEXT`."
        return "*Saved replies*\n" + "\n".join(
            f"• *{escape(r['name'])}*: {escape_within(one_line(r['text']), 300)}" for r in saved
        )
    verdict = perch.gate.may_act(user)
    if not verdict.allowed:
        return verdict.reason
    if action == "add":
        name, bar, reply = (part.strip() for part in rest.partition("|"))
        if not bar or not name or not reply:
            return REPLIES_USAGE
        if not _NAME.match(name):
            return "A name is 1-40 letters, digits, spaces or `.'-`, starting with a letter or digit."
        reply = _SLACK_ENTITY.sub(lambda m: m.group(1) + m.group(2), reply)  # back to what was typed
        problem = tweet_problem(reply)
        if problem:
            return problem
        if not add_saved_reply(db, name, reply, user):
            return f"There is a saved reply called *{escape(name)}* already. Remove it first to replace it."
        return f"Saved *{escape(name)}*. It is offered in every Reply form now."
    if action == "remove":
        if not rest.strip():
            return REPLIES_USAGE
        if remove_saved_reply(db, rest.strip()):
            return f"Removed *{escape(rest.strip()[:40])}*."
        return f"There is no saved reply called *{escape(rest.strip()[:40])}*."
    return REPLIES_USAGE
