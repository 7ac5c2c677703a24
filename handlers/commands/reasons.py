"""`/perch reasons …`: the team's contact reasons, picked at resolve and suggested from their keywords."""

from __future__ import annotations

import re

from slack_bolt import BoltContext

from bot.blocks.mrkdwn import escape, escape_within
from bot.domain.reasons import MAX_REASONS, parse_keywords
from bot.services import services
from storage.reasons import reason_list, remove_reason, save_reason

USAGE = (
    "Usage: `/perch reasons list`, `/perch reasons add NAME | keyword, keyword, …` (adds it, or changes its "
    "keywords), `/perch reasons remove NAME`. E.g. `/perch reasons add Lost luggage | lost bag, luggage, baggage`."
)
NAME = re.compile(r"^[\w][\w .&/'-]{0,39}$")


def reasons_command(args: str, user: str, context: BoltContext) -> str:
    perch = services(context)
    action, _, rest = args.partition(" ")
    action = action.lower()
    db = perch.store.db
    if action in ("", "list"):
        listed = reason_list(db)
        if not listed:
            return "No contact reasons yet. " + USAGE
        return "*Contact reasons* (offered at resolve, suggested from the keywords)\n" + "\n".join(
            f"• *{escape(name)}*: {escape_within(keywords, 300) or '_(no keywords: never suggested)_'}"
            for name, keywords in listed
        )
    if action not in ("add", "remove"):
        return USAGE
    verdict = perch.gate.may_manage(user)
    if not verdict.allowed:
        return verdict.reason
    if action == "remove":
        name = rest.strip()
        if not name:
            return USAGE
        if remove_reason(db, name):
            return f"Removed *{escape(name[:40])}*. Cases resolved with it keep it."
        return f"There is no contact reason called *{escape(name[:40])}*."
    name, _, raw = (part.strip() for part in rest.partition("|"))
    if not NAME.match(name):
        return "A reason's name is 1-40 letters, digits, spaces or `.&/'-`, starting with a letter or digit. " + USAGE
    keywords = ", ".join(parse_keywords(raw))
    if len(reason_list(db)) >= MAX_REASONS and name.lower() not in {n.lower() for n, _ in reason_list(db)}:
        return f"There are {MAX_REASONS} reasons already: a list agents can scan at resolve. Remove one first."
    added = save_reason(db, name, keywords, user)
    said = f"keywords: {escape_within(keywords, 300)}" if keywords else "no keywords, so it is never suggested"
    return f"{'Added' if added else 'Changed'} *{escape(name)}* ({said})."
