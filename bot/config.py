"""Settings, read once from the environment (and `.env`) and validated before anything starts.

Every setting is checked before any is refused, so a newcomer sees all that is missing or malformed in
one run: `ConfigError.problems` has a line per setting, naming it and the fix (`python -m bot` prints
each, exit code 2). Secret values never appear in messages or in `repr()`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config_reader import ConfigError, Reader
from bot.domain.business_hours import BusinessHours
from bot.domain.pii import ReferencePattern
from bot.domain.spend import Prices
from bot.slack.ids import CHANNEL_ID, CONVERSATION_ID, USERGROUP_ID

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
X_DEFAULT_API_URL = "https://api.twitter.com"
CSAT_DEFAULT_QUESTION = (
    "How did we do? Reply with a number from 1 (poor) to 5 (great) — and anything you'd like to add."
)
DM_TEXT_LIMIT = 10_000  # X's limit on a DM's text


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
    x_activity_stream: bool = False  # DMs and mentions in seconds over X's Activity API (needs X_BEARER_TOKEN)
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
    database_url: str | None = field(default=None, repr=False)  # postgresql://…: the tables on PostgreSQL
    support_usergroup: str | None = None
    manager_usergroup: str | None = None
    csat_survey: bool = False  # on resolve, one DM asking the customer for a score (cases in DM only)
    csat_question: str = CSAT_DEFAULT_QUESTION
    csat_cooldown_days: float = 30.0  # a customer asked within this many days is not asked again
    port: int = 3000
    leader_lease_seconds: float = 15.0  # a stalled leader's jobs move to another process after this (+ a renewal)
    http_mode: bool = False

    @property
    def database(self) -> str:
        """Where the tables are: the PostgreSQL URL when DATABASE_URL is set, else the SQLite file."""
        return self.database_url or self.database_path


def load_settings(env: Mapping[str, str] | None = None, *, http_mode: bool = False) -> Settings:
    """Build `Settings` from `env` (default: `os.environ`), requiring only what the run mode needs.
    Long because: one line per setting, all in one place, so a setting is found and added here."""
    env = os.environ if env is None else env
    reader = Reader(env)
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
        x_activity_stream=reader.flag("X_ACTIVITY_STREAM", False),
        review_usergroup=reader.optional_match("REVIEW_USERGROUP", USERGROUP_ID, "a user group id (S…)"),
        review_remind_minutes=reader.positive_number("REVIEW_REMIND_MINUTES", 15.0, unit="minutes"),
        agent_daily_reply_limit=reader.count("AGENT_DAILY_REPLY_LIMIT", 0),
        pii_default_region=reader.region("PII_DEFAULT_REGION", "US"),
        pii_patterns=reader.patterns("PII_PATTERNS"),
        pii_allow=tuple(a.strip() for a in (reader.optional("PII_ALLOW") or "").split(",") if a.strip()),
        x_prices=reader.prices(),
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
        database_url=reader.database_url("DATABASE_URL"),
        support_usergroup=reader.optional_match("SUPPORT_USERGROUP", USERGROUP_ID, "a user group id (S…)"),
        manager_usergroup=reader.optional_match("MANAGER_USERGROUP", USERGROUP_ID, "a user group id (S…)"),
        csat_survey=reader.flag("CSAT_SURVEY", False),
        csat_question=reader.text("CSAT_QUESTION", CSAT_DEFAULT_QUESTION, DM_TEXT_LIMIT),
        csat_cooldown_days=reader.days("CSAT_COOLDOWN_DAYS", 30.0),
        port=reader.port("PORT", 3000),
        leader_lease_seconds=reader.positive_number("LEADER_LEASE_SECONDS", 15.0),
        http_mode=http_mode,
    )
    reviewed = settings.review_usergroup or settings.agent_daily_reply_limit
    if reviewed and not (settings.support_lead_usergroup or settings.manager_usergroup):
        name = "REVIEW_USERGROUP" if settings.review_usergroup else "AGENT_DAILY_REPLY_LIMIT"
        reader.problems.append(f"{name} needs SUPPORT_LEAD_USERGROUP: the leads who review the held replies")
    if settings.x_activity_stream and not settings.x_bearer_token:
        reader.problems.append("X_ACTIVITY_STREAM needs X_BEARER_TOKEN: X's activity stream takes the app-only token")
    if reader.problems:
        raise ConfigError(*dict.fromkeys(reader.problems))  # each once (REPORT_TIMEZONE is read twice)
    return settings
