"""`/perch status`: is Perch polling, how far it has read, how full the queue is, where new cases go, open
surges, X's limits left."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_bolt import BoltContext

from bot import __version__
from bot.blocks.common import duration
from bot.blocks.mrkdwn import escape_within, one_line, plural
from bot.domain.spend import cost, forecast, month_bounds
from bot.jobs.sources import StreamSource
from bot.services import services
from handlers.shared import route_listing
from storage.db import from_iso
from storage.incidents import incident_summaries
from storage.queue import queue_stats
from storage.tweets import all_cursors
from storage.usage import usage_between


def stream_line(source: StreamSource, now: datetime) -> str:
    """X's activity stream: its state, its last event, how often it reconnected, what X refused."""
    if source.reader is None:
        return "• X activity stream: off"
    status = source.reader.status
    since = status.connected_at if status.state == "connected" else status.down_since
    state = status.state + (f" for {duration(now - datetime.fromtimestamp(since, UTC))}" if since else "")
    last = (
        f"last event {duration(now - datetime.fromtimestamp(status.last_event_at, UTC))} ago"
        if status.last_event_at
        else "no event yet"
    )
    subs = status.subscriptions
    refused = "".join(
        f" · ⚠ `{escape_within(kind, 40)}` refused: {escape_within(why, 200)}"
        for kind, why in (subs.refused.items() if subs else ())
    )
    problem = (
        f" · ⚠ {escape_within(status.last_error, 200)}" if status.last_error and status.state != "connected" else ""
    )
    return (
        f"• X activity stream: {state} · {last} · {plural(status.events, 'event')} · "
        f"{plural(status.reconnects, 'reconnect')} ({len(status.connects)} connects in 15 min of the 450 X allows)"
        f"{refused}{problem}"
    )


def status_text(context: BoltContext) -> str:
    perch = services(context)
    now = perch.now()
    lines = [f"*Perch {__version__}*"]
    states = perch.ingestor.states if perch.ingestor else {}
    cursors = all_cursors(perch.store.db)
    for source in sorted(set(states) | set(cursors)):
        state = states.get(source)
        if isinstance(state, StreamSource):
            lines.append(stream_line(state, now))
            continue
        when = (
            f"last good poll {duration(now - datetime.fromtimestamp(state.last_success, UTC))} ago"
            if state and state.last_success
            else "no good poll yet"
        )
        problem = f" · ⚠ {escape_within(state.last_error, 200)}" if state and state.last_error else ""
        endpoint = perch.ingestor.endpoint_of(source) if perch.ingestor else None
        ceiling = perch.x.ceilings.get(endpoint or "")
        polls = f" · {plural(len(state.polls), 'poll')} in 15 min" if state else ""
        if polls and ceiling:
            shared = " (shared by the searches)" if source.startswith("search:") else ""
            polls += f" of the {ceiling:,} X allows{shared}"
        cursor = cursors.get(source)
        newest = f" · newest tweet {duration(now - from_iso(cursor.newest_at))} old" if cursor else ""
        lines.append(f"• `{escape_within(source, 80)}`: {when}{polls}{newest}{problem}")
    waiting, oldest = queue_stats(perch.store.db)
    lines.append(f"• Queue: {waiting} unclaimed" + (f", oldest {duration(now - from_iso(oldest))}" if oldest else ""))
    routes = route_listing(perch, now)
    lines += ["• Routes (new cases since 00:00 UTC):", *(f"    {line}" for line in routes)] if len(routes) > 1 else []
    for incident, incident_waiting in incident_summaries(perch.store.db):
        lines.append(
            f"• 🌊 Surge “{escape_within(one_line(incident.label), 80)}” since "
            f"{from_iso(incident.opened_at):%H:%M} UTC: {incident_waiting} waiting"
        )
    spent = cost(usage_between(perch.store.db, *month_bounds(now)), perch.settings.x_prices)
    budget = perch.settings.x_monthly_budget_usd
    lines.append(
        f"• X spend this month (estimate): ${spent:,.2f} · at this pace ${forecast(spent, now):,.2f} by month end"
        + (f" · budget ${budget:,.2f} ({spent / budget:.0%})" if budget else "")
    )
    for endpoint, (remaining, reset_at) in sorted(perch.x.limits.items()):
        reset = datetime.fromtimestamp(reset_at, UTC).strftime("%H:%M UTC")
        lines.append(f"• X `{endpoint}`: {remaining} calls left until {reset}")
    return "\n".join(lines)
