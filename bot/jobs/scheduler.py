"""APScheduler wiring: every job, one instance each, coalescing missed runs.

The scheduler is made first (`new_scheduler`), so the post job's wake-up (`bot/jobs/wake.py`) can be
handed to the jobs that ring it when they are built; `schedule_jobs` then adds the jobs to it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.bulk import BulkReplier
from bot.jobs.csat import SurveyCatchUp
from bot.jobs.digest import Digest
from bot.jobs.health import HealthMonitor
from bot.jobs.ingest import TICK_SECONDS, Ingestor
from bot.jobs.post import Poster
from bot.jobs.reminders import Reminders
from bot.jobs.review import Reviewer
from bot.jobs.sla import SlaReminders
from bot.jobs.wake import POST_JOB, PostWake

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class _StillRunning(logging.Filter):
    """Drop APScheduler's warning that a run was skipped because the previous one is still going: with
    one instance per job by design, a post run that paces a burst at Slack's speed spans many ticks."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


_STILL_RUNNING = _StillRunning()
logging.getLogger("apscheduler.scheduler").addFilter(_STILL_RUNNING)


class SourceWorkers:
    """The ingest job's tick: each X source polled in a thread of its own, one poll per source at a time
    (a tick that finds a source's poll still going skips that source, as APScheduler coalesces a job),
    so a slow answer on one endpoint (a search X drips byte by byte, up to the X client's deadline)
    never holds up another. Each source keeps its own pacing (the ingestor's `states`)."""

    def __init__(self, ingestor: Ingestor, wake: Callable[[], None]) -> None:
        self.ingestor = ingestor
        self.wake = wake
        self._pool = ThreadPoolExecutor(max_workers=len(ingestor.sources()), thread_name_prefix="ingest")
        self._polling: set[str] = set()  # sources whose poll is going now
        self._guard = threading.Lock()

    def __call__(self) -> None:
        with self._guard:
            for source in self.ingestor.sources():
                if source in self._polling:
                    continue
                self._polling.add(source)
                try:
                    self._pool.submit(self._poll, source)
                except RuntimeError:  # stopped: the scheduler is shutting down
                    self._polling.discard(source)
                    return

    @property
    def polling(self) -> frozenset[str]:
        """The sources being polled right now."""
        with self._guard:
            return frozenset(self._polling)

    def stop(self) -> None:
        """No new polls; one going now ends at the X client's deadline at the latest."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _poll(self, source: str) -> None:
        try:
            if self.ingestor.poll(source).outside_replies:  # new tweets and DMs wake the poster themselves
                self.wake()
        except Exception:  # as APScheduler would log a job's failure; the next tick polls again
            log.exception("Polling %s failed", source)
        finally:
            with self._guard:
                self._polling.discard(source)


REMINDER_INTERVAL_SECONDS = 30
OUTBOX_INTERVAL_SECONDS = 60  # and once at start-up: a send the last process left unconfirmed
HEALTH_INTERVAL_SECONDS = 60


def new_scheduler() -> BackgroundScheduler:
    """A scheduler with no jobs yet, in UTC, each job one instance at a time."""
    return BackgroundScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)


@dataclass(frozen=True)
class Jobs:
    """What the scheduler runs; the optional ones are left out when their setting is off."""

    ingestor: Ingestor
    poster: Poster
    reminders: Reminders
    sla: SlaReminders
    bulk: BulkReplier
    review: Reviewer | None = None
    health: HealthMonitor | None = None
    digest: Digest | None = None
    reconcile: Callable[[], int] | None = None  # settles the sends X never confirmed; a count of them
    surveys: SurveyCatchUp | None = None  # CSAT_SURVEY on: the surveys a crash cut off


@dataclass(frozen=True)
class Timing:
    """How often the jobs run (seconds; `poll_interval` None: each X source paced by its rate-limit
    headers), and when the daily digest goes out (HH:MM in `timezone`)."""

    poll_interval: float | None
    bulk_interval: float
    post_interval: float
    digest_time: str = "09:00"
    timezone: str = "UTC"


def schedule_jobs(scheduler: BackgroundScheduler, jobs: Jobs, wake: PostWake, timing: Timing) -> None:
    """Poll X every `poll_interval` seconds (unset: twice a second, each source paced by X's rate-limit
    headers), each source in its own thread (`SourceWorkers`); post pending cards every `post_interval`
    seconds and whenever `wake` is rung (the ingest job rings it as soon as it stored something, so a
    new mention reaches Slack without waiting)."""
    now = datetime.now(UTC)
    _schedule_x_and_slack(scheduler, jobs, wake, timing, now)
    _schedule_reminders(scheduler, jobs, wake, now)
    _schedule_upkeep(scheduler, jobs, wake, timing, now)


def _schedule_x_and_slack(
    scheduler: BackgroundScheduler, jobs: Jobs, wake: PostWake, timing: Timing, now: datetime
) -> None:
    """The ingest job, the post job, and the paced sending of a surge's confirmed replies."""

    workers = SourceWorkers(jobs.ingestor, wake)
    scheduler.add_listener(lambda _event: workers.stop(), EVENT_SCHEDULER_SHUTDOWN)
    scheduler.add_job(
        workers,
        "interval",
        seconds=timing.poll_interval or TICK_SECONDS,
        id="ingest",
        name="Poll X for mentions",
        next_run_time=now,
    )
    scheduler.add_job(
        jobs.poster.run,
        "interval",
        seconds=timing.post_interval,
        id=POST_JOB,
        name="Post cards to Slack",
        next_run_time=now,
    )
    scheduler.add_job(
        jobs.bulk.run,
        "interval",
        seconds=timing.bulk_interval,
        id="bulk",
        name="Send confirmed surge status replies, paced",
        next_run_time=now,
    )


def _schedule_reminders(scheduler: BackgroundScheduler, jobs: Jobs, wake: PostWake, now: datetime) -> None:
    """Escalations nobody acknowledged, SLA targets about to be missed, drafts waiting for review."""
    scheduler.add_job(
        jobs.reminders.run,
        "interval",
        seconds=REMINDER_INTERVAL_SECONDS,
        id="reminders",
        name="Remind locations of unacknowledged escalations",
        next_run_time=now,
    )
    scheduler.add_job(
        jobs.sla.run,
        "interval",
        seconds=REMINDER_INTERVAL_SECONDS,
        id="sla",
        name="Remind the team of SLA targets about to be missed",
        next_run_time=now,
    )
    review = jobs.review
    if review is not None:

        def review_then_wake_poster() -> None:
            if review.run():
                wake()  # the reminders' notes

        scheduler.add_job(
            review_then_wake_poster,
            "interval",
            seconds=REMINDER_INTERVAL_SECONDS,
            id="review",
            name="Remind the leads of drafts waiting for review",
            next_run_time=now,
        )


def _schedule_upkeep(scheduler: BackgroundScheduler, jobs: Jobs, wake: PostWake, timing: Timing, now: datetime) -> None:
    """Settling unconfirmed sends, the health alarms and the daily digest, each when it is set up."""
    reconcile = jobs.reconcile
    if reconcile is not None:

        def reconcile_then_wake_poster() -> None:
            if reconcile():
                wake()  # the settled sends' notes and cards

        scheduler.add_job(
            reconcile_then_wake_poster,
            "interval",
            seconds=OUTBOX_INTERVAL_SECONDS,
            id="outbox",
            name="Settle sends X never confirmed",
            next_run_time=now,
        )
    surveys = jobs.surveys
    if surveys is not None:

        def catch_up_then_wake_poster() -> None:
            if surveys.run():
                wake()  # the questions' notes in their threads

        scheduler.add_job(
            catch_up_then_wake_poster,
            "interval",
            seconds=OUTBOX_INTERVAL_SECONDS,
            id="surveys",
            name="Send the satisfaction surveys a crash cut off",
            next_run_time=now,
        )
    if jobs.health is not None:
        scheduler.add_job(
            jobs.health.run,
            "interval",
            seconds=HEALTH_INTERVAL_SECONDS,
            id="health",
            name="Raise and clear health alarms",
        )
    if jobs.digest is not None:
        hour, minute = (int(part) for part in timing.digest_time.split(":"))
        scheduler.add_job(
            jobs.digest.run,
            CronTrigger(hour=hour, minute=minute, timezone=timing.timezone),
            id="digest",
            name="Daily digest to the report channel",
        )
