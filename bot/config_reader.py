"""How each kind of setting is read and checked: one method per kind of value, each noting what is
wrong with its setting and carrying on, so a newcomer sees every missing or malformed setting in one
run (`bot.config.load_settings` reads them all, then raises one `ConfigError` listing them)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Concatenate, ParamSpec, TypeVar
from urllib.parse import urlsplit

from bot.domain.business_hours import BusinessHours, BusinessHoursError, parse_business_hours
from bot.domain.pii import ReferencePattern, parse_patterns, region_problem
from bot.domain.spend import Prices
from bot.domain.zones import time_zone

# Where each required value is found: a missing one is named with its fix, as a malformed one is.
WHERE = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) from the Slack app's OAuth & Permissions page",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…, connections:write) from Basic Information, or run with --http",
    "SLACK_SIGNING_SECRET": "the Signing Secret from the Slack app's Basic Information page",
    "SLACK_QUEUE_CHANNEL": "the queue channel's id such as C0123456789 (the channel's name → About → Channel ID)",
    "X_API_KEY": "the X app's API Key (developer console → Keys and tokens → Consumer Keys)",
    "X_API_SECRET": "the X app's API Key Secret (developer console → Keys and tokens → Consumer Keys)",
    "X_ACCESS_TOKEN": "the brand account's Access Token (developer console → Keys and tokens)",
    "X_ACCESS_TOKEN_SECRET": "the brand account's Access Token Secret (developer console → Keys and tokens)",
}

T = TypeVar("T")
P = ParamSpec("P")


class ConfigError(Exception):
    """Settings are missing or malformed: `problems` has a line for each, naming it and the fix, never its value."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def _noted(read: Callable[Concatenate[Reader, P], T]) -> Callable[Concatenate[Reader, P], T]:
    """Note the setting's problem and carry on with None (refused before use): every problem in one run."""

    def reading(self: Reader, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return read(self, *args, **kwargs)
        except ConfigError as error:
            self.problems.extend(error.problems)
            return None  # type: ignore[return-value]

    return reading


class Reader:
    """Small validators; each notes a problem naming the setting and what to do, and returns None then."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def optional(self, name: str) -> str | None:
        return self.env.get(name, "").strip() or None

    @_noted
    def required(
        self, name: str, *, prefix: str | None = None, pattern: re.Pattern | None = None, hint: str = ""
    ) -> str:
        value = self.optional(name)
        if value is None:
            raise ConfigError(f"{name} is missing: set it to {WHERE[name]}")
        if prefix and not value.startswith(prefix):
            raise ConfigError(f"{name} is malformed: it should start with {prefix}")
        if pattern and not pattern.match(value):
            raise ConfigError(f"{name} is malformed: it should be {hint}")
        return value

    @_noted
    def optional_match(self, name: str, pattern: re.Pattern, hint: str) -> str | None:
        value = self.optional(name)
        if value is not None and not pattern.match(value):
            raise ConfigError(f"{name} is malformed: it should be {hint}")
        return value

    @_noted
    def url(self, name: str, default: str, *, trailing_slash: bool) -> str:
        value = self.optional(name) or default
        if not re.match(r"^https?://[^\s/]+", value):
            raise ConfigError(f"{name} is malformed: it should be an http(s) URL")
        value = value.rstrip("/")
        return value + "/" if trailing_slash else value

    @_noted
    def database_url(self, name: str) -> str | None:
        """A PostgreSQL URL, checked for its form here (reaching it is start-up's check); the problem
        named never shows the password."""
        value = self.optional(name)
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - a port that is no number raises here
        except ValueError as error:
            raise ConfigError(f"{name} is malformed: {error}") from None
        if parts.scheme not in ("postgresql", "postgres"):
            raise ConfigError(f"{name} is malformed: it should be postgresql://user:password@host:5432/perch")
        if not parts.path.strip("/"):
            raise ConfigError(f"{name} is malformed: it names no database (…/perch at its end)")
        if not parts.hostname and "host=" not in parts.query:
            raise ConfigError(f"{name} is malformed: it names no host (postgresql://user:password@host/perch)")
        return value

    @_noted
    def queries(self, name: str) -> tuple[str, ...]:
        raw = self.optional(name) or ""
        queries = tuple(q.strip() for q in raw.split(";") if q.strip())
        for query in queries:
            if len(query) > 512:
                raise ConfigError(f"{name} is malformed: a query is longer than X's 512 characters")
        return queries

    def _number(self, name: str, default: float, unit: str) -> float:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} is malformed: it should be a number of {unit}") from None
        if not math.isfinite(value):
            raise ConfigError(f"{name} is malformed: it should be a finite number of {unit}")
        return value

    @_noted
    def positive_number(self, name: str, default: float, unit: str = "seconds") -> float:
        value = self._number(name, default, unit)
        if value <= 0:
            raise ConfigError(f"{name} is malformed: it should be a positive number of {unit}")
        return value

    def optional_positive_number(self, name: str, unit: str = "seconds") -> float | None:
        """Unset means "not given" (the caller decides), never a hidden default."""
        if self.optional(name) is None:
            return None
        return self.positive_number(name, 1.0, unit)

    @_noted
    def non_negative_number(self, name: str, default: float, unit: str = "seconds") -> float:
        value = self._number(name, default, unit)
        if value < 0:
            raise ConfigError(f"{name} is malformed: it should be zero or more {unit}")
        return value

    @_noted
    def timezone(self, name: str, default: str) -> str:
        value = self.optional(name) or default
        if time_zone(value) is None:
            raise ConfigError(f"{name} is malformed: it should be an IANA time zone such as Europe/London")
        return value

    @_noted
    def clock_time(self, name: str, default: str) -> str:
        value = self.optional(name) or default
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
        if not match:
            raise ConfigError(f"{name} is malformed: it should be a time of day such as 09:00")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @_noted
    def region(self, name: str, default: str) -> str:
        value = (self.optional(name) or default).upper()
        if region_problem(value):
            raise ConfigError(f"{name} is malformed: it should be a two-letter country code such as US or GB")
        return value

    def prices(self) -> Prices:
        """X_PRICE_<RATE>_USD for each of X's rates (`Prices`' field names), X's published ones by default."""
        named = {f.name: f"X_PRICE_{f.name.upper()}_USD" for f in fields(Prices)}
        return Prices(**{k: self.non_negative_number(v, getattr(Prices, k), "dollars") for k, v in named.items()})

    @_noted
    def patterns(self, name: str) -> tuple[ReferencePattern, ...]:
        try:
            return parse_patterns(self.optional(name) or "")
        except ValueError as error:
            raise ConfigError(f"{name} is malformed: {error}") from None

    @_noted
    def business_hours(self, name: str, holidays_name: str, zone_name: str) -> BusinessHours | None:
        raw, country = self.optional(name), self.optional(holidays_name)
        if raw is None:
            if country is not None:
                raise ConfigError(f"{holidays_name} needs {name}: the hours the holidays are taken out of")
            return None
        if (zone := self.timezone(zone_name, "UTC")) is None:  # its own problem is noted already
            return None
        try:
            return parse_business_hours(raw, zone, country)
        except BusinessHoursError as error:
            setting = (
                holidays_name if country and "holidays package" in str(error) or "subdivision" in str(error) else name
            )
            raise ConfigError(f"{setting} is malformed: {error}") from None

    @_noted
    def weekday(self, name: str) -> int | None:
        value = (self.optional(name) or "").lower()[:3]
        if not value:
            return None
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        if value not in days:
            raise ConfigError(f"{name} is malformed: it should be a day of the week such as Monday")
        return days.index(value)

    @_noted
    def days(self, name: str, default: float) -> float:
        value = self.non_negative_number(name, default, unit="days")
        if value > 3650:
            raise ConfigError(f"{name} is malformed: it should be at most 3650 days")
        return value

    @_noted
    def text(self, name: str, default: str, limit: int) -> str:
        value = (self.optional(name) or "").strip()
        if len(value) > limit:
            raise ConfigError(f"{name} is too long: at most {limit} characters")
        return value or default

    @_noted
    def flag(self, name: str, default: bool) -> bool:
        value = (self.optional(name) or "").lower()
        if not value:
            return default
        if value not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"{name} is malformed: it should be true or false")
        return value in ("true", "1", "yes")

    @_noted
    def count(self, name: str, default: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        if not raw.isdigit():
            raise ConfigError(f"{name} is malformed: it should be a whole number (0 turns it off)")
        return int(raw)

    @_noted
    def port(self, name: str, default: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise ConfigError(f"{name} is malformed: it should be a TCP port number (1-65535)")
        return int(raw)
