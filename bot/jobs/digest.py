"""The daily digest: yesterday's report, posted to `SLACK_REPORT_CHANNEL` at `REPORT_DIGEST_TIME`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.chart import report_chart
from bot.blocks.reports import report_blocks, report_text
from bot.domain.spend import Prices, cost
from storage.db import Store
from storage.metrics import build_report
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
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        prices: Prices | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.channel = channel
        self.zone = ZoneInfo(timezone)
        self.timezone = timezone
        self.sla_minutes = sla_minutes
        self.now = now
        self.prices = prices or Prices()

    def run(self) -> bool:
        """Post yesterday's figures (and the chart); False when Slack refused, which is logged."""
        now = self.now()
        today = datetime.combine(now.astimezone(self.zone).date(), time.min, tzinfo=self.zone)
        start = today - timedelta(days=1)
        label = f"yesterday ({start:%a %d %b})"
        report = build_report(
            self.store.db, start, today, now=now, timezone=self.timezone, sla_minutes=self.sla_minutes
        )
        yesterday = (now.astimezone(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
        spent = cost(usage_between(self.store.db, yesterday, yesterday), self.prices)
        spend = {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"X spend on {yesterday} (UTC, estimate): ${spent:,.2f}"}],
        }
        try:
            self.client.chat_postMessage(
                channel=self.channel,
                text=report_text(report, label),
                blocks=[*report_blocks(report, label, "agent"), spend],
                unfurl_links=False,
            )
            self.client.files_upload_v2(
                channel=self.channel,
                content=report_chart(report, label),
                filename="perch-daily.png",
                title=f"Perch · {label}",
            )
        except (SlackApiError, SlackClientError, OSError) as error:
            log.error("Daily digest not posted to %s: %s", self.channel, error)
            return False
        return True
