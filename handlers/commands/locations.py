"""`/perch locations list|add|edit|remove`: the airports and stores cases can be escalated to."""

from __future__ import annotations

import re
import shlex

from slack_bolt import BoltContext

from bot.blocks.escalations import staff_ping
from bot.blocks.mrkdwn import escape, escape_within, one_line
from bot.domain.locations import LocationError, build_location, edit_location
from bot.services import services
from bot.slack.ids import channel_mention
from storage.locations import all_locations, get_location, remove_location, save_location

USAGE = (
    "Usage: `/perch locations list`, `/perch locations add CODE #channel @staff-group [lead=@person] "
    '[name="…"] [aliases="a;b"] [kind=store] [timezone=…]`, `/perch locations edit CODE field=value`, '
    "`/perch locations remove CODE`."
)
_ENTITY = re.compile(r"<([#@!])(subteam\^)?([A-Z0-9]+)(?:\|[^>]*)?>")


def locations_command(text: str, user: str, context: BoltContext) -> str:
    perch = services(context)
    db = perch.store.db
    try:
        words = shlex.split(_ids(text))
    except ValueError:
        return "Unbalanced quotes. " + USAGE
    action = words[0].lower() if words else "list"
    if action == "list":
        return _listing(db)
    verdict = perch.gate.may_manage(user)
    if not verdict.allowed:
        return verdict.reason
    args, options = [w for w in words[1:] if "=" not in w], dict(w.split("=", 1) for w in words[1:] if "=" in w)
    try:
        if action == "add" and len(args) >= 3:
            location = build_location(args[0], args[1], staff=" ".join(args[2:]), **_named(options))
            new = save_location(db, location)
            return (
                f"{'Added' if new else 'Updated'} *{location.code}* · {escape(location.name)} → "
                f"<#{location.slack_channel}>. Invite @Perch to that channel if it is not there yet."
            )
        if action == "edit" and len(args) == 1 and options:
            known = get_location(db, args[0])
            if known is None:
                return f"There is no location `{escape(args[0][:20])}`."
            location = known
            for field, value in options.items():
                location = edit_location(location, field, value)
            save_location(db, location)
            return f"Updated *{location.code}*."
        if action == "remove" and len(args) == 1:
            if remove_location(db, args[0]):
                return f"Removed *{escape(args[0].upper()[:20])}*. Its past escalations stay in the reports."
            return f"There is no location `{escape(args[0][:20])}`."
    except LocationError as error:
        return str(error)
    return USAGE


def _ids(text: str) -> str:
    """`<#C123|ops>` → `C123`, `<!subteam^S1|@staff>` → `S1`, `<@U1|maria>` → `U1`."""
    return _ENTITY.sub(lambda m: m.group(3), text)


def _named(options: dict[str, str]) -> dict[str, str]:
    allowed = {"name", "kind", "lead", "aliases", "timezone"}
    unknown = set(options) - allowed
    if unknown:
        raise LocationError(f"unknown option `{escape(sorted(unknown)[0][:20])}`; use {', '.join(sorted(allowed))}.")
    return options


def _listing(db) -> str:
    locations = all_locations(db)
    if not locations:
        return "No locations yet. " + USAGE
    lines = ["*Locations*"]
    for location in locations:
        staff = staff_ping(location)
        aliases = f" · aka {escape_within(one_line('; '.join(location.aliases)), 200)}" if location.aliases else ""
        lines.append(
            f"• *{location.code}* {escape(location.name)} ({location.kind}, {location.timezone}) → "
            f"{channel_mention(location.slack_channel)}, staff {staff}{aliases}"
        )
    return "\n".join(lines)[:3900]
