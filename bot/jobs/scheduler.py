"""APScheduler wiring: the ingest and post jobs, one instance each, coalescing missed runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.bulk import BulkReplier
from bot.jobs.digest import Digest
from bot.jobs.health import HealthMonitor
from bot.jobs.ingest import TICK_SECONDS, Ingestor
from bot.jobs.post import Poster
from bot.jobs.reminders import Reminders
from bot.jobs.review import Reviewer
from bot.jobs.sla import SlaReminders

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class _StillRunning(logging.Filter):
    """Drop APScheduler's warning that a run was skipped because the previous one is still going: with
    one instance per job by design, a post run that paces a burst at Slack's speed spans many ticks."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


_STILL_RUNNING = _StillRunning()
logging.getLogger("apscheduler.scheduler").addFilter(_STILL_RUNNING)


REMINDER_INTERVAL_SECONDS = 30
OUTBOX_INTERVAL_SECONDS = 60  # and once at start-up: a send the last process left unconfirmed


def build_scheduler(
    ingestor: Ingestor,
    poster: Poster,
    reminders: Reminders,
    sla: SlaReminders,
    bulk: BulkReplier,
    *,
    poll_interval: float | None,
    bulk_interval: float,
    post_interval: float,
    digest: Digest | None = None,
    digest_time: str = "09:00",
    timezone: str = "UTC",
    health: HealthMonitor | None = None,
    reconcile: Callable[[], int] | None = None,
    review: Reviewer | None = None,
) -> BackgroundScheduler:
    """Poll X every `poll_interval` seconds (unset: twice a second, each source paced by X's rate-limit
    headers); post pending cards every `post_interval` seconds and right after an ingest run that stored
    something, so a new mention reaches Slack without waiting. A wake-up that comes while a post run is
    going makes that run go round once more, instead of being dropped as a second instance."""
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)

    def ingest_then_wake_poster() -> None:
        report = ingestor.run()  # new tweets and DMs wake the poster as soon as they are stored
        if report.outside_replies:
            poster.wake()

    now = datetime.now(UTC)
    scheduler.add_job(
        ingest_then_wake_poster,
        "interval",
        seconds=poll_interval or TICK_SECONDS,
        id="ingest",
        name="Poll X for mentions",
        next_run_time=now,
    )
    scheduler.add_job(
        poster.run, "interval", seconds=post_interval, id="post", name="Post cards to Slack", next_run_time=now
    )

    def wake_poster() -> None:
        poster.woken.set()  # a run going now goes round again; otherwise the next run starts now
        job = scheduler.get_job("post")
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))

    poster.wake = wake_poster
    ingestor.on_stored = wake_poster
    scheduler.add_job(
        bulk.run,
        "interval",
        seconds=bulk_interval,
        id="bulk",
        name="Send confirmed surge status replies, paced",
        next_run_time=now,
    )
    scheduler.add_job(
        reminders.run,
        "interval",
        seconds=REMINDER_INTERVAL_SECONDS,
        id="reminders",
        name="Remind locations of unacknowledged escalations",
        next_run_time=now,
    )
    scheduler.add_job(
        sla.run,
        "interval",
        seconds=REMINDER_INTERVAL_SECONDS,
        id="sla",
        name="Remind the team of SLA targets about to be missed",
        next_run_time=now,
    )
    if reconcile is not None:

        def reconcile_then_wake_poster() -> None:
            if reconcile():
                poster.wake()  # the settled sends' notes and cards

        scheduler.add_job(
            reconcile_then_wake_poster,
            "interval",
            seconds=OUTBOX_INTERVAL_SECONDS,
            id="outbox",
            name="Settle sends X never confirmed",
            next_run_time=now,
        )
    if review is not None:

        def review_then_wake_poster() -> None:
            if review.run():
                poster.wake()  # the reminders' notes

        scheduler.add_job(
            review_then_wake_poster,
            "interval",
            seconds=REMINDER_INTERVAL_SECONDS,
            id="review",
            name="Remind the leads of drafts waiting for review",
            next_run_time=now,
        )
    if health is not None:
        scheduler.add_job(health.run, "interval", seconds=60, id="health", name="Raise and clear health alarms")
    if digest is not None:
        hour, minute = (int(part) for part in digest_time.split(":"))
        scheduler.add_job(
            digest.run,
            CronTrigger(hour=hour, minute=minute, timezone=timezone),
            id="digest",
            name="Daily digest to the report channel",
        )
    return scheduler
