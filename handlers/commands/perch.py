"""`/perch help` (the list of sub-commands) and `/perch replies …` (the saved replies offered in the
Reply form). The command is dispatched in `handlers/commands/__init__.py`."""

from __future__ import annotations

import re

from slack_bolt import BoltContext

from bot.blocks.mrkdwn import escape, escape_within, one_line
from bot.services import services
from bot.x.tweet_text import tweet_problem
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
        "[by agent|by location|by hour|by reason|by queue] [@agent] [LOCATION] [#queue] [public] [csv]` — how fast "
        "the team answers "
        "(managers)",
        "• `/perch customer @handle` — the customer's cases (newest first) and the team's notes about them, "
        "with a box to add one",
        "• `/perch reasons list` — why customers write: the reasons picked at resolve",
        "• `/perch reasons add NAME | keyword, keyword` — add a reason (or change its keywords, which suggest it); "
        "`/perch reasons remove NAME` — managers",
        "• `/perch locations list` — airports and stores that cases can be escalated to",
        '• `/perch locations add CODE #channel @staff-group [lead=@person] [name="…"] [aliases="a;b"] '
        "[kind=store] [timezone=…]` — managers",
        "• `/perch locations edit CODE field=value …`, `/perch locations remove CODE` — managers",
        "• `/perch routes list` — which channel new cases go to; `/perch routes add #channel [when KEY=VALUE …] "
        "[team=@group]`, `/perch routes remove N`, `/perch routes move N to M` — managers",
        "Cards carry the buttons *Claim*, *Reply*, *Move to DM*, *Escalate* and *Resolve*, and *History* "
        "beside the customer.",
    ]
)
REPLIES_USAGE = "Usage: `/perch replies list`, `/perch replies add NAME | TEXT`, `/perch replies remove NAME`."
_SLACK_ENTITY = re.compile(r"<([@#])[A-Z0-9]+\|([^>]*)>")
_NAME = re.compile(r"^[\w][\w .'-]{0,39}$")


def replies_command(args: str, user: str, context: BoltContext) -> str:
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
