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
from storage.db import Store
from storage.metrics import build_report

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
    ) -> None:
        self.store = store
        self.client = client
        self.channel = channel
        self.zone = ZoneInfo(timezone)
        self.timezone = timezone
        self.sla_minutes = sla_minutes
        self.now = now

    def run(self) -> bool:
        """Post yesterday's figures (and the chart); False when Slack refused, which is logged."""
        now = self.now()
        today = datetime.combine(now.astimezone(self.zone).date(), time.min, tzinfo=self.zone)
        start = today - timedelta(days=1)
        label = f"yesterday ({start:%a %d %b})"
        report = build_report(
            self.store.db, start, today, now=now, timezone=self.timezone, sla_minutes=self.sla_minutes
        )
        try:
            self.client.chat_postMessage(
                channel=self.channel,
                text=report_text(report, label),
                blocks=report_blocks(report, label, "agent"),
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
