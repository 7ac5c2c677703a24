"""Settings, read once from the environment (and `.env`) and validated before anything starts.

A missing or malformed setting raises `ConfigError` naming it; `python -m bot` turns that into one
line on stderr and exit code 2. Secret values never appear in messages or in `repr()`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.domain.business_hours import BusinessHours, BusinessHoursError, parse_business_hours
from bot.domain.pii import ReferencePattern, parse_patterns, region_problem
from bot.domain.spend import Prices
from bot.domain.zones import time_zone
from bot.slack.ids import CHANNEL_ID, CONVERSATION_ID, USERGROUP_ID

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
X_DEFAULT_API_URL = "https://api.twitter.com"
CSAT_DEFAULT_QUESTION = (
    "How did we do? Reply with a number from 1 (poor) to 5 (great) — and anything you'd like to add."
)
DM_TEXT_LIMIT = 10_000  # X's limit on a DM's text


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and never shows its value."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = field(repr=False)
    slack_queue_channel: str
    x_api_key: str = field(repr=False)
    x_api_secret: str = field(repr=False)
    x_access_token: str = field(repr=False)
    x_access_token_secret: str = field(repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = SLACK_DEFAULT_API_URL
    x_bearer_token: str | None = field(default=None, repr=False)
    x_api_url: str = X_DEFAULT_API_URL
    x_search_queries: tuple[str, ...] = ()
    x_reply_anywhere: bool = False  # an Enterprise plan: X's "summoned replies only" rule does not apply
    x_prices: Prices = field(default_factory=Prices)  # X's pay-per-use rates, for the spend estimate
    x_monthly_budget_usd: float | None = None  # warn at 80 %, at 100 % stop searches and sweeps
    x_read_dms: bool = True  # read the brand's DMs into cases (the X app needs DM read permission)
    slack_dm_channel: str | None = None  # a private channel for the cases DMs open (default: the queue)
    poll_interval_seconds: float | None = None  # unset: each source paced by X's rate-limit headers
    poll_overlap_seconds: float = 30.0
    post_interval_seconds: float = 5.0
    slack_channel_post_interval_seconds: float = 1.0
    surge_threshold: int = 30
    surge_window_minutes: float = 5.0
    bulk_reply_interval_seconds: float = 36.0
    backfill_hours: float = 24.0
    escalation_ack_minutes: float = 10.0
    escalation_urgent_ack_minutes: float = 5.0
    report_timezone: str = "UTC"
    slack_report_channel: str | None = None
    report_digest_time: str = "09:00"
    business_hours: BusinessHours | None = None  # BUSINESS_HOURS (+ BUSINESS_HOLIDAYS): reports in open time
    report_weekly_day: int | None = None  # 0 = Monday: the weekly digest comes with that day's daily one
    sla_first_response_minutes: float = 60.0
    sla_claim_minutes: float = 5.0
    sla_resolve_hours: float = 24.0
    support_lead_usergroup: str | None = None
    review_usergroup: str | None = None  # new agents: their replies and DMs wait for a lead's approval
    review_remind_minutes: float = 15.0
    agent_daily_reply_limit: int = 0  # past it a lead approves the agent's further replies that day; 0: off
    pii_default_region: str = "US"  # how a phone number without +country code is read
    pii_patterns: tuple[ReferencePattern, ...] = ()  # the brand's own reference formats
    pii_allow: tuple[str, ...] = ()  # the brand's published numbers, addresses and @domains
    health_no_poll_minutes: float = 15.0
    health_no_mentions_hours: float = 24.0
    database_path: str = "perch.db"
    support_usergroup: str | None = None
    manager_usergroup: str | None = None
    csat_survey: bool = False  # on resolve, one DM asking the customer for a score (cases in DM only)
    csat_question: str = CSAT_DEFAULT_QUESTION
    csat_cooldown_days: float = 30.0  # a customer asked within this many days is not asked again
    port: int = 3000
    http_mode: bool = False


def load_settings(env: Mapping[str, str] | None = None, *, http_mode: bool = False) -> Settings:
    """Build `Settings` from `env` (default: `os.environ`), requiring only what the run mode needs."""
    env = os.environ if env is None else env
    reader = _Reader(env)
    settings = Settings(
        slack_bot_token=reader.required("SLACK_BOT_TOKEN", prefix="xoxb-"),
        slack_app_token=None if http_mode else reader.required("SLACK_APP_TOKEN", prefix="xapp-"),
        slack_signing_secret=reader.required("SLACK_SIGNING_SECRET") if http_mode else None,
        slack_queue_channel=reader.required(
            "SLACK_QUEUE_CHANNEL", pattern=CONVERSATION_ID, hint="a channel id such as C0123456789"
        ),
        slack_api_url=reader.url("SLACK_API_URL", SLACK_DEFAULT_API_URL, trailing_slash=True),
        x_bearer_token=reader.optional("X_BEARER_TOKEN"),
        x_api_key=reader.required("X_API_KEY"),
        x_api_secret=reader.required("X_API_SECRET"),
        x_access_token=reader.required("X_ACCESS_TOKEN"),
        x_access_token_secret=reader.required("X_ACCESS_TOKEN_SECRET"),
        x_api_url=reader.url("X_API_URL", X_DEFAULT_API_URL, trailing_slash=False),
        x_search_queries=reader.queries("X_SEARCH_QUERIES"),
        poll_interval_seconds=reader.optional_positive_number("POLL_INTERVAL_SECONDS"),
        poll_overlap_seconds=reader.non_negative_number("POLL_OVERLAP_SECONDS", 30.0),
        post_interval_seconds=reader.positive_number("POST_INTERVAL_SECONDS", 5.0),
        slack_channel_post_interval_seconds=reader.non_negative_number("SLACK_CHANNEL_POST_INTERVAL_SECONDS", 1.0),
        surge_threshold=reader.count("SURGE_THRESHOLD", 30),
        x_reply_anywhere=reader.flag("X_REPLY_ANYWHERE", False),
        x_read_dms=reader.flag("X_READ_DMS", True),
        review_usergroup=reader.optional_match("REVIEW_USERGROUP", USERGROUP_ID, "a user group id (S…)"),
        review_remind_minutes=reader.positive_number("REVIEW_REMIND_MINUTES", 15.0, unit="minutes"),
        agent_daily_reply_limit=reader.count("AGENT_DAILY_REPLY_LIMIT", 0),
        pii_default_region=reader.region("PII_DEFAULT_REGION", "US"),
        pii_patterns=reader.patterns("PII_PATTERNS"),
        pii_allow=tuple(a.strip() for a in (reader.optional("PII_ALLOW") or "").split(",") if a.strip()),
        x_prices=Prices(
            owned_read=reader.non_negative_number("X_PRICE_OWNED_READ_USD", Prices.owned_read, unit="dollars"),
            post_read=reader.non_negative_number("X_PRICE_POST_READ_USD", Prices.post_read, unit="dollars"),
            dm_read=reader.non_negative_number("X_PRICE_DM_READ_USD", Prices.dm_read, unit="dollars"),
            post_create=reader.non_negative_number("X_PRICE_POST_CREATE_USD", Prices.post_create, unit="dollars"),
            post_create_with_link=reader.non_negative_number(
                "X_PRICE_POST_CREATE_WITH_LINK_USD", Prices.post_create_with_link, unit="dollars"
            ),
            dm_create=reader.non_negative_number("X_PRICE_DM_CREATE_USD", Prices.dm_create, unit="dollars"),
        ),
        x_monthly_budget_usd=reader.optional_positive_number("X_MONTHLY_BUDGET_USD", unit="dollars"),
        slack_dm_channel=reader.optional_match("SLACK_DM_CHANNEL", CHANNEL_ID, "a channel id such as G0123456789"),
        surge_window_minutes=reader.positive_number("SURGE_WINDOW_MINUTES", 5.0, unit="minutes"),
        bulk_reply_interval_seconds=reader.positive_number("BULK_REPLY_INTERVAL_SECONDS", 36.0),
        backfill_hours=reader.non_negative_number("BACKFILL_HOURS", 24.0, unit="hours"),
        escalation_ack_minutes=reader.positive_number("ESCALATION_ACK_MINUTES", 10.0, unit="minutes"),
        escalation_urgent_ack_minutes=reader.positive_number("ESCALATION_URGENT_ACK_MINUTES", 5.0, unit="minutes"),
        report_timezone=reader.timezone("REPORT_TIMEZONE", "UTC"),
        slack_report_channel=reader.optional_match(
            "SLACK_REPORT_CHANNEL", CONVERSATION_ID, "a channel id such as C0123456789"
        ),
        report_digest_time=reader.clock_time("REPORT_DIGEST_TIME", "09:00"),
        report_weekly_day=reader.weekday("REPORT_WEEKLY_DAY"),
        business_hours=reader.business_hours("BUSINESS_HOURS", "BUSINESS_HOLIDAYS", "REPORT_TIMEZONE"),
        sla_first_response_minutes=reader.positive_number("SLA_FIRST_RESPONSE_MINUTES", 60.0, unit="minutes"),
        sla_claim_minutes=reader.positive_number("SLA_CLAIM_MINUTES", 5.0, unit="minutes"),
        sla_resolve_hours=reader.positive_number("SLA_RESOLVE_HOURS", 24.0, unit="hours"),
        health_no_poll_minutes=reader.positive_number("HEALTH_NO_POLL_MINUTES", 15.0, unit="minutes"),
        health_no_mentions_hours=reader.positive_number("HEALTH_NO_MENTIONS_HOURS", 24.0, unit="hours"),
        support_lead_usergroup=reader.optional_match("SUPPORT_LEAD_USERGROUP", USERGROUP_ID, "a user group id (S…)"),
        database_path=reader.optional("DATABASE_PATH") or "perch.db",
        support_usergroup=reader.optional_match("SUPPORT_USERGROUP", USERGROUP_ID, "a user group id (S…)"),
        manager_usergroup=reader.optional_match("MANAGER_USERGROUP", USERGROUP_ID, "a user group id (S…)"),
        csat_survey=reader.flag("CSAT_SURVEY", False),
        csat_question=reader.text("CSAT_QUESTION", CSAT_DEFAULT_QUESTION, DM_TEXT_LIMIT),
        csat_cooldown_days=reader.days("CSAT_COOLDOWN_DAYS", 30.0),
        port=reader.port("PORT", 3000),
        http_mode=http_mode,
    )
    reviewed = settings.review_usergroup or settings.agent_daily_reply_limit
    if reviewed and not (settings.support_lead_usergroup or settings.manager_usergroup):
        name = "REVIEW_USERGROUP" if settings.review_usergroup else "AGENT_DAILY_REPLY_LIMIT"
        raise ConfigError(f"{name} needs SUPPORT_LEAD_USERGROUP: the leads who review the held replies")
    return settings


class _Reader:
    """Small validators; each raises ConfigError with the setting's name and what is wrong."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def optional(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def required(
        self, name: str, *, prefix: str | None = None, pattern: re.Pattern | None = None, hint: str = ""
    ) -> str:
        value = self.optional(name)
        if value is None:
            raise ConfigError(f"{name} is missing")
        if prefix and not value.startswith(prefix):
            raise ConfigError(f"{name} is malformed: it should start with {prefix}")
        if pattern and not pattern.match(value):
            raise ConfigError(f"{name} is malformed: it should be {hint}")
        return value

    def optional_match(self, name: str, pattern: re.Pattern, hint: str) -> str | None:
        value = self.optional(name)
        if value is not None and not pattern.match(value):
            raise ConfigError(f"{name} is malformed: it should be {hint}")
        return value

    def url(self, name: str, default: str, *, trailing_slash: bool) -> str:
        value = self.optional(name) or default
        if not re.match(r"^https?://[^\s/]+", value):
            raise ConfigError(f"{name} is malformed: it should be an http(s) URL")
        value = value.rstrip("/")
        return value + "/" if trailing_slash else value

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

    def non_negative_number(self, name: str, default: float, unit: str = "seconds") -> float:
        value = self._number(name, default, unit)
        if value < 0:
            raise ConfigError(f"{name} is malformed: it should be zero or more {unit}")
        return value

    def timezone(self, name: str, default: str) -> str:
        value = self.optional(name) or default
        if time_zone(value) is None:
            raise ConfigError(f"{name} is malformed: it should be an IANA time zone such as Europe/London")
        return value

    def clock_time(self, name: str, default: str) -> str:
        value = self.optional(name) or default
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
        if not match:
            raise ConfigError(f"{name} is malformed: it should be a time of day such as 09:00")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    def region(self, name: str, default: str) -> str:
        value = (self.optional(name) or default).upper()
        if region_problem(value):
            raise ConfigError(f"{name} is malformed: it should be a two-letter country code such as US or GB")
        return value

    def patterns(self, name: str) -> tuple[ReferencePattern, ...]:
        try:
            return parse_patterns(self.optional(name) or "")
        except ValueError as error:
            raise ConfigError(f"{name} is malformed: {error}") from None

    def business_hours(self, name: str, holidays_name: str, zone_name: str) -> BusinessHours | None:
        raw, country = self.optional(name), self.optional(holidays_name)
        if raw is None:
            if country is not None:
                raise ConfigError(f"{holidays_name} needs {name}: the hours the holidays are taken out of")
            return None
        try:
            return parse_business_hours(raw, self.timezone(zone_name, "UTC"), country)
        except BusinessHoursError as error:
            setting = (
                holidays_name if country and "holidays package" in str(error) or "subdivision" in str(error) else name
            )
            raise ConfigError(f"{setting} is malformed: {error}") from None

    def weekday(self, name: str) -> int | None:
        value = (self.optional(name) or "").lower()[:3]
        if not value:
            return None
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        if value not in days:
            raise ConfigError(f"{name} is malformed: it should be a day of the week such as Monday")
        return days.index(value)

    def days(self, name: str, default: float) -> float:
        value = self.non_negative_number(name, default, unit="days")
        if value > 3650:
            raise ConfigError(f"{name} is malformed: it should be at most 3650 days")
        return value

    def text(self, name: str, default: str, limit: int) -> str:
        value = (self.optional(name) or "").strip()
        if len(value) > limit:
            raise ConfigError(f"{name} is too long: at most {limit} characters")
        return value or default

    def flag(self, name: str, default: bool) -> bool:
        value = (self.optional(name) or "").lower()
        if not value:
            return default
        if value not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"{name} is malformed: it should be true or false")
        return value in ("true", "1", "yes")

    def count(self, name: str, default: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        if not raw.isdigit():
            raise ConfigError(f"{name} is malformed: it should be a whole number (0 turns it off)")
        return int(raw)

    def port(self, name: str, default: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise ConfigError(f"{name} is malformed: it should be a TCP port number (1-65535)")
        return int(raw)
