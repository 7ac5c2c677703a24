"""Health alarms in the support channel, each raised once and marked resolved when it clears:
X refusing the credentials, X's rate limit or monthly quota used up (with the reset time), no
successful poll for a while, no mentions for hours (often a sign of broken access), and X's activity
stream down for longer than the polls may be quiet, or a subscription X refuses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.common import duration
from bot.blocks.mrkdwn import escape_within
from bot.domain.spend import Prices, cost, month_bounds
from bot.jobs.ingest import MENTIONS, Ingestor
from bot.jobs.sources import StreamSource
from storage.alarms import Alarm, active_alarms, drop_alarm, newest_stored_at, raise_alarm, record_alarm_posted
from storage.db import Store, from_iso
from storage.dms import DM_SOURCE
from storage.usage import usage_between

log = logging.getLogger(__name__)


class HealthMonitor:
    def __init__(
        self,
        store: Store,
        client: WebClient,
        channel: str,
        ingestor: Ingestor,
        *,
        no_poll_minutes: float,
        no_mentions_hours: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        budget: float | None = None,
        prices: Prices | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.channel = channel
        self.ingestor = ingestor
        self.no_poll = timedelta(minutes=no_poll_minutes)
        self.no_mentions = timedelta(hours=no_mentions_hours)
        self.now = now
        self.started = now()
        self.budget = budget  # X_MONTHLY_BUDGET_USD
        self.prices = prices or Prices()

    def run(self) -> dict[str, str]:
        """Raise what is wrong now, clear what is not; returns the alarms that are up. Over the monthly X
        budget, the ingest job stops what costs most and is least asked for (searches, the late-post time slices)."""
        problems = self.problems()
        self.ingestor.over_budget = "x_budget" in problems
        active = active_alarms(self.store.db)
        for name, text in problems.items():
            if name not in active:
                self._raise(name, text)
        for name, alarm in active.items():
            if name not in problems:
                self._clear(alarm)
        return problems

    def problems(self) -> dict[str, str]:
        now = self.now()
        states = dict(self.ingestor.states)  # a copy: each source's poll thread may add its entry meanwhile
        found: dict[str, str] = {}
        for source, state in states.items():
            if state.last_error_kind == "auth" and source == DM_SOURCE:
                found["x_dm_access"] = (
                    f"X refuses Perch's DM reads ({escape_within(state.last_error or '', 200)}), so customers' "
                    "DMs do not reach their cases. Give the X app the *Read and write and Direct message* "
                    "permission and generate the brand's access token again, or set X_READ_DMS=false. "
                    "Mentions and replies are not affected."
                )
            elif state.last_error_kind == "auth":
                found["x_auth"] = (
                    f"X refuses Perch's credentials (`{escape_within(source, 60)}`: "
                    f"{escape_within(state.last_error or '', 200)}). Nothing is being polled or "
                    "sent: check X_API_KEY, X_ACCESS_TOKEN and the app's access level."
                )
            elif state.last_error_kind == "rate_limit":
                reset = datetime.fromtimestamp(state.not_before, UTC).strftime("%H:%M UTC")
                found[f"x_rate_limit:{source}"] = (
                    f"X's rate limit (or monthly quota) for "
                    f"`{escape_within(source, 60)}` is used up until {reset}: "
                    "new mentions wait until then."
                )
        kinds = {state.last_error_kind for source, state in states.items() if source != DM_SOURCE}
        if "credits" in kinds:
            found["x_credits"] = (
                "X's credits for Perch's app are used up (402 credits depleted): nothing is being read from X "
                "and replies cannot be sent. Top up in the X developer console (Billing → Credits); Perch asks "
                "X once a minute and says here when it can read again."
            )
        if "usage_cap" in kinds:
            found["x_usage_cap"] = (
                "X's monthly usage cap for Perch's app is reached: nothing is being read from X until the cap "
                "lifts. Raise it in the X developer console; Perch asks X every 10 minutes."
            )
        found.update(self._budget_problems(now))
        stream = next((s for s in states.values() if isinstance(s, StreamSource)), None)
        if stream is not None:
            found.update(self._stream_problems(stream, now))
        mentions = states.get(MENTIONS)
        last_good = (
            datetime.fromtimestamp(mentions.last_success, UTC) if mentions and mentions.last_success else self.started
        )
        if now - last_good > self.no_poll and not kinds & {"credits", "usage_cap", "auth"}:  # said above already
            found["no_poll"] = (
                f"No successful poll of X for {duration(now - last_good)}: mentions are not reaching the queue."
            )
        newest = newest_stored_at(self.store.db, MENTIONS)
        quiet_since = from_iso(newest) if newest else self.started
        if now - quiet_since > self.no_mentions:
            found["no_mentions"] = (
                f"No new mention for {duration(now - quiet_since)}. That is unusual: check "
                "that the X account and app still have access."
            )
        return found

    def _stream_problems(self, source: StreamSource, now: datetime) -> dict[str, str]:
        """The activity stream: a subscription X refused (said once, in words), or the stream down for
        longer than `HEALTH_NO_POLL_MINUTES`. Either way the polls carry on at their usual pace."""
        status = source.reader.status if source.reader else None
        if status is None or status.state == "off":
            return {}
        found: dict[str, str] = {}
        subs = status.subscriptions
        refusals = dict(subs.refused) if subs else {}
        if subs and subs.error and not subs.error.startswith("X did not answer"):  # no answer: down, below
            refusals["subscriptions"] = subs.error
        if refusals:
            said = "; ".join(f"`{escape_within(k, 40)}`: {escape_within(v, 200)}" for k, v in refusals.items())
            found["x_stream_refused"] = (
                f"X refuses Perch's activity subscriptions ({said}). Their DMs and mentions come by polling as "
                "before (a DM within about a minute, not seconds). Check the X plan and the app's permissions, "
                "or set X_ACTIVITY_STREAM=false."
            )
        down = datetime.fromtimestamp(status.down_since, UTC) if status.down_since else None
        if down is not None and now - down > self.no_poll and not refusals:  # a refusal is said above
            found["x_stream_down"] = (
                f"X's activity stream has been down for {duration(now - down)} "
                f"({escape_within(status.last_error or 'no answer', 200)}): DMs and mentions come by polling "
                "meanwhile, a DM within about a minute rather than seconds."
            )
        return found

    def _budget_problems(self, now: datetime) -> dict[str, str]:
        if self.budget is None:
            return {}
        spent = cost(usage_between(self.store.db, *month_bounds(now)), self.prices)
        if spent >= self.budget:
            return {
                "x_budget": (
                    f"Perch's X spend this month (about ${spent:,.2f}) has reached X_MONTHLY_BUDGET_USD "
                    f"(${self.budget:,.2f}). To stay within it, tracked searches and late-post time slices are paused "
                    "until the month ends or the budget is raised; mentions and DMs are still read."
                )
            }
        if spent >= 0.8 * self.budget:
            return {
                "x_budget_80": (
                    f"Perch's X spend this month is about ${spent:,.2f}, {spent / self.budget:.0%} of "
                    f"X_MONTHLY_BUDGET_USD (${self.budget:,.2f}); at 100 % tracked searches pause."
                )
            }
        return {}

    def _raise(self, name: str, text: str) -> None:
        """Recorded before it is posted (a restart must not post it again); dropped if Slack refuses."""
        db = self.store.db
        raise_alarm(db, name, text)
        try:
            posted = self.client.chat_postMessage(
                channel=self.channel, text=f"🚨 Perch: {text}", blocks=[_section(f"🚨 *Perch:* {text}")]
            )
        except (SlackApiError, SlackClientError, OSError) as error:
            log.error("Alarm %s not posted: %s", name, error)
            drop_alarm(db, name)
            return
        record_alarm_posted(db, name, posted["channel"], posted["ts"])

    def _clear(self, alarm: Alarm) -> None:
        lasted = duration(self.now() - from_iso(alarm.raised_at))
        try:
            if alarm.slack_ts and alarm.slack_channel:
                self.client.chat_update(
                    channel=alarm.slack_channel,
                    ts=alarm.slack_ts,
                    text=f"✅ Resolved: {alarm.text}",
                    blocks=[_section(f"✅ *Resolved* after {lasted}: ~{alarm.text}~")],
                )
        except (SlackApiError, SlackClientError, OSError) as error:
            log.warning("Alarm %s not marked resolved in Slack: %s", alarm.name, error)
        drop_alarm(self.store.db, alarm.name)


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:2990]}}
