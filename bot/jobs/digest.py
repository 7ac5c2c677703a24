"""The digests: yesterday's report, posted to `SLACK_REPORT_CHANNEL` at `REPORT_DIGEST_TIME`, and on
`REPORT_WEEKLY_DAY` also the last seven days' — each beside the period before it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.chart import report_chart
from bot.blocks.reports import queue_section, report_blocks, report_text
from bot.domain.spend import Prices, cost
from storage.breakdowns import by_queue
from storage.db import Store
from storage.metrics import Breakdown, BusinessClock, report_with_previous
from storage.report_cases import period_cases
from storage.usage import usage_between

log = logging.getLogger(__name__)


class Digest:
    def __init__(
        self,
        store: Store,
        client: WebClient,
        channel: str,
        *,
        timezone: str,
        sla_minutes: float,
        resolve_hours: float = 24,
        weekly_day: int | None = None,
        business: BusinessClock | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        prices: Prices | None = None,
    ) -> None:
        """`weekly_day`: the weekday (0 = Monday) the weekly digest comes with the daily one; None: never."""
        self.store = store
        self.client = client
        self.channel = channel
        self.zone = ZoneInfo(timezone)
        self.timezone = timezone
        self.sla_minutes = sla_minutes
        self.resolve_hours = resolve_hours
        self.weekly_day = weekly_day
        self.business = business  # BUSINESS_HOURS, when set: the reports in open time too
        self.now = now
        self.prices = prices or Prices()

    def run(self) -> bool:
        """Post yesterday's figures (and the chart), and on the weekly day the week's; False when Slack
        refused, which is logged."""
        now = self.now()
        today = datetime.combine(now.astimezone(self.zone).date(), time.min, tzinfo=self.zone)
        start = today - timedelta(days=1)
        yesterday = (now.astimezone(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
        spent = cost(usage_between(self.store.db, yesterday, yesterday), self.prices)
        spend = {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"X spend on {yesterday} (UTC, estimate): ${spent:,.2f}"}],
        }
        posted = self._post(start, today, f"yesterday ({start:%a %d %b})", "perch-daily.png", [spend])
        if posted and self.weekly_day is not None and today.weekday() == self.weekly_day:
            week = today - timedelta(days=7)
            posted = self._post(week, today, f"last 7 days ({week:%d %b}–{start:%d %b})", "perch-weekly.png", [])
        return posted

    def _post(self, start: datetime, end: datetime, label: str, filename: str, extra: list[dict]) -> bool:
        now = self.now()
        report, previous = report_with_previous(
            self.store.db,
            start,
            end,
            now=now,
            timezone=self.timezone,
            sla_minutes=self.sla_minutes,
            resolve_hours=self.resolve_hours,
            business=self.business,
            breakdown=Breakdown.AGENT,
        )
        queues = by_queue(self.store.db, *period_cases(start, end, None, None))
        if len(queues) > 1 or (queues and queues[0]["queue"]):  # the team routes cases: each queue's figures
            extra = [queue_section(queues), *extra]
        try:
            self.client.chat_postMessage(
                channel=self.channel,
                text=report_text(report, label),
                blocks=[*report_blocks(report, label, Breakdown.AGENT, previous), *extra],
                unfurl_links=False,
            )
            self.client.files_upload_v2(
                channel=self.channel, content=report_chart(report, label), filename=filename, title=f"Perch · {label}"
            )
        except (SlackApiError, SlackClientError, OSError) as error:
            log.error("Digest (%s) not posted to %s: %s", label, self.channel, error)
            return False
        return True
