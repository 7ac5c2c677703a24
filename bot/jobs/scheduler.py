"""APScheduler wiring: every job, one instance each, coalescing missed runs.

The scheduler is made first (`new_scheduler`), so the post job's wake-up (`bot/jobs/wake.py`) can be
handed to the jobs that ring it when they are built; `schedule_jobs` then adds the jobs to it. Every
process schedules every job, and each run goes through a `Guard` (`bot.leader.Leader.run`): only the
leader's runs do anything, fenced by its lease's epoch.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

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
from storage.errors import LostLease

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
Guard = Callable[[Callable[[], Any]], Any]  # runs a job (when this process leads); its result or None


def unguarded(job: Callable[[], Any]) -> Any:
    """The guard of a process that runs its jobs whatever (tests that drive one runtime)."""
    return job()


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
    never holds up another. Each source keeps its own pacing (the ingestor's `states`). `polls` counts
    each source's polls by outcome (ok, X's error kind, or failed: a bug), for `GET /metrics`."""

    def __init__(self, ingestor: Ingestor, wake: Callable[[], None], guard: Guard = unguarded) -> None:
        self.ingestor = ingestor
        self.wake = wake
        self.guard = guard
        self.polls: Counter[tuple[str, str]] = Counter()
        self._pool = ThreadPoolExecutor(max_workers=len(ingestor.sources()), thread_name_prefix="ingest")
        self._polling: set[str] = set()  # sources whose poll is going now
        self._guard = threading.Lock()

    def __call__(self) -> None:
        self.guard(self._submit)

    def _submit(self) -> None:
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
        state = self.ingestor.states.get(source)
        paused_until = state.not_before if state else None
        try:
            result = self.guard(partial(self.ingestor.poll, source))
            if result is not None:
                self._count(source, source in result.sources_polled, paused_until)
            if result is not None and result.outside_replies:  # new tweets and DMs wake the poster themselves
                self.wake()
        except LostLease:  # fenced out: another process leads now
            pass
        except Exception:  # as APScheduler would log a job's failure; the next tick polls again
            self.polls[source, "failed"] += 1
            log.exception("Polling %s failed", source)
        finally:
            with self._guard:
                self._polling.discard(source)

    def _count(self, source: str, read: bool, paused_until: float | None) -> None:
        """A poll that read counts as ok; one that failed (its source paused anew) by X's error kind; a
        tick its pacing skipped is no poll."""
        state = self.ingestor.states.get(source)
        if read and (state is None or state.last_error is None):
            self.polls[source, "ok"] += 1
        elif state is not None and state.last_error_kind and state.not_before != paused_until:
            self.polls[source, str(state.last_error_kind)] += 1


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


def schedule_jobs(
    scheduler: BackgroundScheduler, jobs: Jobs, wake: PostWake, timing: Timing, guard: Guard = unguarded
) -> SourceWorkers:
    """Poll X every `poll_interval` seconds (unset: twice a second, each source paced by X's rate-limit
    headers), each source in its own thread (`SourceWorkers`); post pending cards every `post_interval`
    seconds and whenever `wake` is rung (the ingest job rings it as soon as it stored something, so a
    new mention reaches Slack without waiting). Every run goes through `guard`; returns the ingest
    job's workers (their poll counts)."""
    now = datetime.now(UTC)
    workers = _schedule_x_and_slack(scheduler, jobs, wake, timing, now, guard)
    _schedule_reminders(scheduler, jobs, wake, now, guard)
    _schedule_upkeep(scheduler, jobs, wake, timing, now, guard)
    return workers


PROMPT_JOBS = ("ingest", POST_JOB, "bulk", "reminders", "sla", "review", "outbox", "surveys")


def run_prompt_jobs_now(scheduler: BackgroundScheduler) -> None:
    """A process that has just become the leader runs at once the jobs a start-up runs at once (the
    health alarms and the digest keep their own times)."""
    now = datetime.now(UTC)
    for job_id in PROMPT_JOBS:
        if scheduler.get_job(job_id) is not None:
            scheduler.modify_job(job_id, next_run_time=now)


def _schedule_x_and_slack(
    scheduler: BackgroundScheduler, jobs: Jobs, wake: PostWake, timing: Timing, now: datetime, guard: Guard
) -> SourceWorkers:
    """The ingest job, the post job, and the paced sending of a surge's confirmed replies."""

    workers = SourceWorkers(jobs.ingestor, wake, guard)
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
        partial(guard, jobs.poster.run),
        "interval",
        seconds=timing.post_interval,
        id=POST_JOB,
        name="Post cards to Slack",
        next_run_time=now,
    )
    scheduler.add_job(
        partial(guard, jobs.bulk.run),
        "interval",
        seconds=timing.bulk_interval,
        id="bulk",
        name="Send confirmed surge status replies, paced",
        next_run_time=now,
    )
    return workers


def _schedule_reminders(
    scheduler: BackgroundScheduler, jobs: Jobs, wake: PostWake, now: datetime, guard: Guard
) -> None:
    """Escalations nobody acknowledged, SLA targets about to be missed, drafts waiting for review."""
    scheduler.add_job(
        partial(guard, jobs.reminders.run),
        "interval",
        seconds=REMINDER_INTERVAL_SECONDS,
        id="reminders",
        name="Remind locations of unacknowledged escalations",
        next_run_time=now,
    )
    scheduler.add_job(
        partial(guard, jobs.sla.run),
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
            partial(guard, review_then_wake_poster),
            "interval",
            seconds=REMINDER_INTERVAL_SECONDS,
            id="review",
            name="Remind the leads of drafts waiting for review",
            next_run_time=now,
        )


def _schedule_upkeep(
    scheduler: BackgroundScheduler, jobs: Jobs, wake: PostWake, timing: Timing, now: datetime, guard: Guard
) -> None:
    """Settling unconfirmed sends, the health alarms and the daily digest, each when it is set up."""
    reconcile = jobs.reconcile
    if reconcile is not None:

        def reconcile_then_wake_poster() -> None:
            if reconcile():
                wake()  # the settled sends' notes and cards

        scheduler.add_job(
            partial(guard, reconcile_then_wake_poster),
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
            partial(guard, catch_up_then_wake_poster),
            "interval",
            seconds=OUTBOX_INTERVAL_SECONDS,
            id="surveys",
            name="Send the satisfaction surveys a crash cut off",
            next_run_time=now,
        )
    if jobs.health is not None:
        scheduler.add_job(
            partial(guard, jobs.health.run),
            "interval",
            seconds=HEALTH_INTERVAL_SECONDS,
            id="health",
            name="Raise and clear health alarms",
        )
    if jobs.digest is not None:
        hour, minute = (int(part) for part in timing.digest_time.split(":"))
        scheduler.add_job(
            partial(guard, jobs.digest.run),
            CronTrigger(hour=hour, minute=minute, timezone=timing.timezone),
            id="digest",
            name="Daily digest to the report channel",
        )
