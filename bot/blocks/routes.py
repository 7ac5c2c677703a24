"""The team's routes as lines of text, for `/perch routes list` and `/perch status`. Pure: no queries.

A route arrives as (channel id, its conditions as `Route.describe()` words them, its team's user group
id or None); what the team typed is escaped, and a team is shown as Slack shows a group, never a ping
(these lines go in ephemeral answers only).
"""

from __future__ import annotations

from bot.blocks.mrkdwn import escape_within, one_line
from bot.slack.ids import channel_mention, usergroup_mention

Shown = tuple[str, str, str | None]  # channel, conditions in words, team


def route_lines(
    routes: list[Shown], taken: list[int], default_taken: int, *, queue: str, dm_channel: str | None
) -> list[str]:
    """One line per route in order (its channel, its conditions, its team, the cases it took today),
    then where the rest go. `taken` is by route, in the same order."""
    lines = [
        f"{n}. {route} · {count} today"
        for n, (route, count) in enumerate(zip(routes_shown(routes), taken, strict=True), start=1)
    ]
    elsewhere = channel_mention(queue) + (f" (cases DMs open: {channel_mention(dm_channel)})" if dm_channel else "")
    lines.append(f"{'Otherwise' if routes else 'Every case'}: {elsewhere} · {default_taken} today")
    return lines


def routes_shown(routes: list[Shown]) -> list[str]:
    """Each route as `#channel when … · team @group`."""
    return [
        f"{channel_mention(channel)} {escape_within(one_line(words), 600)}"
        + (f" · team {usergroup_mention(team)}" if team else "")
        for channel, words, team in routes
    ]
