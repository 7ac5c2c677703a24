"""`/perch routes list|add|remove|move`: which queue (channel) new cases go to, and who works it."""

from __future__ import annotations

from slack_bolt import BoltContext
from slack_sdk.errors import SlackApiError

from bot.blocks.routes import routes_shown
from bot.domain.routing import MAX_ROUTES, Known, Route, RouteError, parse_route, same_route
from bot.jobs.case_routing import as_route
from bot.services import Services, services
from bot.slack.ids import channel_mention
from handlers.shared import route_listing
from storage.locations import all_locations
from storage.routes import add_route, list_routes, move_route, remove_route

USAGE = (
    "Usage: `/perch routes list`, `/perch routes add #channel [when KEY=VALUE[,VALUE…] …] [team=@group]`, "
    "`/perch routes remove N`, `/perch routes move N to M`. Keys: `account`, `search` (a tracked query, quoted), "
    "`lang` (`es,pt`), `keyword`, `location`, `priority` (`high`), `channel` (`dm` or `public`). "
    "Routes are tried in order; the first that matches decides; they apply to new cases only."
)


def routes_command(text: str, user: str, context: BoltContext) -> str:
    perch = services(context)
    action, _, rest = text.strip().partition(" ")
    action = action.lower() or "list"
    if action == "list":
        return listing(perch)
    verdict = perch.gate.may_manage(user)
    if not verdict.allowed:
        return verdict.reason
    if action == "add":
        return _add(perch, rest, user, context)
    if action == "remove":
        return _remove(perch, rest)
    if action == "move":
        return _move(perch, rest)
    return USAGE


def listing(perch: Services) -> str:
    """The routes in order, with how many new cases each took since midnight (UTC)."""
    lines = route_listing(perch, perch.now())
    head = "*Routes* (tried in order; the first that matches decides)" if len(lines) > 1 else "*No routes yet.*"
    return "\n".join([head, *lines])[:3900]


def _add(perch: Services, text: str, user: str, context: BoltContext) -> str:
    db = perch.store.db
    known = Known(
        accounts=tuple(n for n in (perch.ingestor.account_name() if perch.ingestor else "",) if n),
        searches=perch.settings.x_search_queries,
        locations=tuple(location.code for location in all_locations(db)),
    )
    try:
        route = parse_route(text, known)
    except RouteError as error:
        return f"{error}\n{USAGE}"
    existing = [as_route(r) for r in list_routes(db)]
    twin = next((n for n, other in enumerate(existing, start=1) if same_route(route, other)), None)
    if twin is not None:
        return f"That is route {twin} already: nothing added."
    if len(existing) >= MAX_ROUTES:
        return f"Perch takes up to {MAX_ROUTES} routes: remove one first."
    problem = _not_member(context, route)
    if problem:
        return problem
    position = add_route(db, route.channel, [(c.key, c.values) for c in route.conditions], route.team, user)
    (line,) = routes_shown([route.shown()])
    return f"Added route {position}: {line}. New cases only: the cases already queued keep their channel."


def _not_member(context: BoltContext, route: Route) -> str | None:
    """Why Perch cannot post in the route's channel (it must be a member), or None."""
    channel = channel_mention(route.channel)
    try:
        info = context["client"].conversations_info(channel=route.channel).get("channel") or {}
    except SlackApiError as error:
        code = error.response.get("error")
        if code == "missing_scope":
            needed = error.response.get("needed") or "channels:read"
            return f"Perch cannot check its channels: the app lacks `{needed}`. Add it from manifest.yml and reinstall."
        return f"Slack does not show Perch {channel} ({code}): invite @Perch there first."
    if not info.get("is_member"):
        return f"Perch is not a member of {channel}: invite it there (`/invite @Perch`), then add the route."
    if info.get("is_archived"):
        return f"{channel} is archived: pick another channel."
    return None


def _remove(perch: Services, text: str) -> str:
    position = _number(text)
    if position is None:
        return "Say which route to remove by its number in `/perch routes list`, e.g. `/perch routes remove 2`."
    removed = remove_route(perch.store.db, position)
    if removed is None:
        return f"There is no route {position}. " + listing(perch)
    (line,) = routes_shown([as_route(removed).shown()])
    return f"Removed route {position} ({line}). Its cases keep their channel."


def _move(perch: Services, text: str) -> str:
    words = text.lower().split()
    if len(words) == 3 and words[1] == "to":
        position, to = _number(words[0]), _number(words[2])
        if position is not None and to is not None and move_route(perch.store.db, position, to):
            return f"Moved route {position} to {to}.\n" + listing(perch)
        return "Both numbers must be routes in `/perch routes list`."
    return "Usage: `/perch routes move N to M` (numbers from `/perch routes list`)."


def _number(text: str) -> int | None:
    word = text.strip()
    return int(word) if word.isascii() and word.isdigit() and len(word) <= 3 else None
