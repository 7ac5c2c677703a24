"""Queues: which channel a new case goes to, by the team's routes (`/perch routes`). Pure: no I/O.

A route is a channel, the conditions a case must meet (all of them; a condition holds when any of its
values does) and, optionally, the Slack user group that works that queue. Routes are tried in order and
the first that matches decides; none matching, the case goes to the default queue. Keywords match
words of the text by their English stem, as contact reasons do ("refunds" finds "refund").
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from bot.blocks.mrkdwn import escape_within, one_line
from bot.domain.reasons import WORD, stems

KEYS = ("account", "search", "lang", "keyword", "location", "priority", "channel")
PRIORITIES = ("high", "normal")
CHANNELS = ("dm", "public")
LANG = re.compile(r"^[a-z]{2,3}$")  # X's `lang`: a BCP 47 language code (`en`, `es`, `und`)
CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>$|^([CG][A-Z0-9]{2,})$")
TEAM = re.compile(r"^<!subteam\^(S[A-Z0-9]{2,})(?:\|[^>]*)?>$|^(S[A-Z0-9]{2,})$")
MAX_ROUTES = 50
MAX_VALUES = 20  # values of one condition
QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})  # Slack's clients type curly quotes


class RouteError(ValueError):
    """A route the command cannot take, in words for the person who typed it."""


@dataclass(frozen=True)
class Condition:
    key: str
    values: tuple[str, ...]

    @cached_property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.values)

    @cached_property
    def patterns(self) -> tuple[str, ...]:
        """A keyword condition's values as ` stem stem `, to find among a text's stems."""
        return tuple(f" {' '.join(stems(value))} " for value in self.values) if self.key == "keyword" else ()


@dataclass(frozen=True)
class Route:
    channel: str
    conditions: tuple[Condition, ...]
    team: str | None = None  # a user group id: who may act on its cases (else SUPPORT_USERGROUP)

    def shown(self) -> tuple[str, str, str | None]:
        """(channel, conditions in words, team): what the presenters show of it."""
        return self.channel, self.describe(), self.team

    def describe(self) -> str:
        """`when lang=es,pt keyword=refund` (values as the team typed them), or `every case`."""
        if not self.conditions:
            return "every case"
        return "when " + " ".join(f"{c.key}={','.join(_quoted(v) for v in c.values)}" for c in self.conditions)


@dataclass(frozen=True)
class Known:
    """What the values may name: the account names, the tracked searches, the locations' codes."""

    accounts: tuple[str, ...]
    searches: tuple[str, ...]
    locations: tuple[str, ...]


@dataclass(frozen=True)
class Facts:
    """What routing knows of a new case."""

    account: str
    search: str | None  # the tracked query that found its post, if one did
    lang: str | None
    text: str
    location: str | None
    priority: str
    by_dm: bool


def parse_route(text: str, known: Known) -> Route:
    """`#channel [when key=value[,value…] …] [team=@group]` → a Route, or RouteError saying what is wrong."""
    try:
        words = shlex.split(text.translate(QUOTES))
    except ValueError as error:
        raise RouteError("Unbalanced quotes: close the quote around a value with spaces.") from error
    if not words:
        raise RouteError("Name the channel first, e.g. `/perch routes add #care-es when lang=es`.")
    channel = CHANNEL.match(words[0])
    if channel is None:
        raise RouteError("Name the channel first, as `#channel` (pick it from Slack's list so it becomes a link).")
    conditions: dict[str, Condition] = {}
    team = None
    for word in words[1:]:
        if word.lower() == "when":
            continue
        key, equals, raw = word.partition("=")
        key = key.lower()
        if not equals:
            raise RouteError(f"`{_shown(word)}` is not `key=value`. Keys: {', '.join(KEYS)}, and team=@group.")
        if key == "team":
            team = _team(raw)
        elif key not in KEYS:
            raise RouteError(f"Unknown condition `{_shown(key)}`. Use one of: {', '.join(KEYS)} (or team=@group).")
        elif key in conditions:
            raise RouteError(f"`{key}` is given twice: list its values once, `{key}=a,b`.")
        else:
            conditions[key] = Condition(key, _values(key, raw, known))
    found = channel.group(1) or channel.group(2)
    return Route(found, tuple(conditions[k] for k in KEYS if k in conditions), team)


def first_match(routes: Sequence[Route], facts: Facts) -> int | None:
    """The index of the first route `facts` meet, or None (the default queue)."""
    joined = f" {' '.join(stems(facts.text))} " if any(_has(r, "keyword") for r in routes) else ""
    actual = {
        "account": facts.account.lower(),
        "search": facts.search,
        "lang": (facts.lang or "").lower() or None,
        "location": (facts.location or "").upper() or None,
        "priority": facts.priority.lower(),
        "channel": "dm" if facts.by_dm else "public",
    }
    for index, route in enumerate(routes):
        if all(_holds(condition, actual, joined) for condition in route.conditions):
            return index
    return None


def same_route(a: Route, b: Route) -> bool:
    """Whether two routes say the same (the order of values aside)."""

    def norm(route: Route) -> tuple:
        return route.channel, route.team, tuple((c.key, frozenset(c.values)) for c in route.conditions)

    return norm(a) == norm(b)


def _holds(condition: Condition, actual: dict[str, str | None], joined: str) -> bool:
    if condition.patterns:
        return any(pattern in joined for pattern in condition.patterns)
    return actual[condition.key] in condition.allowed


def _has(route: Route, key: str) -> bool:
    return any(c.key == key for c in route.conditions)


def _values(key: str, raw: str, known: Known) -> tuple[str, ...]:
    """One condition's values, checked against what they may name."""
    values = tuple(dict.fromkeys(v.strip() for v in ([raw] if key == "search" else raw.split(",")) if v.strip()))
    if not values:
        raise RouteError(f"`{key}=` needs a value.")
    if len(values) > MAX_VALUES:
        raise RouteError(f"`{key}` takes at most {MAX_VALUES} values.")
    if key == "search":  # the query as X_SEARCH_QUERIES has it; its own quotes may be lost in typing
        plain = {query.replace('"', ""): query for query in known.searches}
        _one_of(key, [v.replace('"', "") for v in values], tuple(plain), "the tracked searches (X_SEARCH_QUERIES)")
        return tuple(plain[v.replace('"', "")] for v in values)
    values = tuple(v.lower() for v in values)
    if key == "account":
        _one_of(key, values, known.accounts, "the accounts")
    elif key == "location":
        _one_of(key, tuple(v.upper() for v in values), known.locations, "the locations (`/perch locations`)")
        return tuple(v.upper() for v in values)
    elif key == "priority":
        _one_of(key, values, PRIORITIES, "")
    elif key == "channel":
        _one_of(key, values, CHANNELS, "")
    elif key == "lang":
        wrong = [v for v in values if not LANG.match(v)]
        if wrong:
            raise RouteError(f"`{_shown(wrong[0])}` is no language code: use X's, such as `en`, `es`, `pt`.")
    elif key == "keyword":
        empty = [v for v in values if not WORD.search(v.lower())]
        if empty:
            raise RouteError(f"The keyword `{_shown(empty[0])}` has no word in it.")
    return values


def _one_of(key: str, values: Iterable[str], valid: Sequence[str], what: str) -> None:
    for value in values:
        if value not in valid:
            listed = ", ".join(f"`{_shown(v)}`" for v in valid) or "none are set up"
            raise RouteError(f"`{key}={_shown(value)}` names none of {what or 'the values it takes'}: {listed}.")


def _team(raw: str) -> str:
    found = TEAM.match(raw)
    if found is None:
        raise RouteError("`team=` takes a user group, as `team=@group` (pick it from Slack's list).")
    return found.group(1) or found.group(2)


def _quoted(value: str) -> str:
    """A value as it could be typed again: quoted when it holds a space, a comma or quotes."""
    if '"' in value:
        return f"'{value}'"
    return f'"{value}"' if " " in value or "," in value else value


def _shown(text: str) -> str:
    """Typed text echoed back inside backticks: short, on one line, no backtick to break out of."""
    return escape_within(one_line(text.replace("`", "'")), 60)
