"""Health alarms in the support channel, each raised once and marked resolved when it clears:
X refusing the credentials, X's rate limit or monthly quota used up (with the reset time), no
successful poll for a while, and no mentions for hours (often a sign of broken access).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.cards import duration
from bot.blocks.mrkdwn import escape_within
from bot.jobs.ingest import MENTIONS, Ingestor
from storage.db import Store, from_iso, utc_now

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
    ) -> None:
        self.store = store
        self.client = client
        self.channel = channel
        self.ingestor = ingestor
        self.no_poll = timedelta(minutes=no_poll_minutes)
        self.no_mentions = timedelta(hours=no_mentions_hours)
        self.now = now
        self.started = now()

    def run(self) -> dict[str, str]:
        """Raise what is wrong now, clear what is not; returns the alarms that are up."""
        problems = self.problems()
        db = self.store.db
        active = {row["name"]: row for row in db.query("SELECT * FROM alarms")}
        for name, text in problems.items():
            if name not in active:
                self._raise(name, text)
        for name, row in active.items():
            if name not in problems:
                self._clear(row)
        return problems

    def problems(self) -> dict[str, str]:
        now = self.now()
        states = self.ingestor.states
        found: dict[str, str] = {}
        for source, state in states.items():
            if state.last_error_kind == "auth":
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
        mentions = states.get(MENTIONS)
        last_good = (
            datetime.fromtimestamp(mentions.last_success, UTC) if mentions and mentions.last_success else self.started
        )
        if now - last_good > self.no_poll:
            found["no_poll"] = (
                f"No successful poll of X for {duration(now - last_good)}: mentions are not reaching the queue."
            )
        newest = self.store.db.execute("SELECT MAX(stored_at) FROM tweets WHERE source = ?", [MENTIONS]).fetchone()[0]
        quiet_since = from_iso(newest) if newest else self.started
        if now - quiet_since > self.no_mentions:
            found["no_mentions"] = (
                f"No new mention for {duration(now - quiet_since)}. That is unusual: check "
                "that the X account and app still have access."
            )
        return found

    def _raise(self, name: str, text: str) -> None:
        """Recorded before it is posted (a restart must not post it again); dropped if Slack refuses."""
        db = self.store.db
        db.table("alarms").insert({"name": name, "text": text, "raised_at": utc_now()}, replace=True)
        try:
            posted = self.client.chat_postMessage(
                channel=self.channel, text=f"🚨 Perch: {text}", blocks=[_section(f"🚨 *Perch:* {text}")]
            )
        except (SlackApiError, SlackClientError, OSError) as error:
            log.error("Alarm %s not posted: %s", name, error)
            db.execute("DELETE FROM alarms WHERE name = ?", [name])
            return
        db.execute(
            "UPDATE alarms SET slack_channel = ?, slack_ts = ? WHERE name = ?", [posted["channel"], posted["ts"], name]
        )

    def _clear(self, row: dict) -> None:
        db = self.store.db
        lasted = duration(self.now() - from_iso(row["raised_at"]))
        try:
            if row["slack_ts"]:
                self.client.chat_update(
                    channel=row["slack_channel"],
                    ts=row["slack_ts"],
                    text=f"✅ Resolved: {row['text']}",
                    blocks=[_section(f"✅ *Resolved* after {lasted}: ~{row['text']}~")],
                )
        except (SlackApiError, SlackClientError, OSError) as error:
            log.warning("Alarm %s not marked resolved in Slack: %s", row["name"], error)
        db.execute("DELETE FROM alarms WHERE name = ?", [row["name"]])


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:2990]}}
