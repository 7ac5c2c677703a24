"""The post job's wake-up: something new waits to be posted, so the post job runs now.

The ingest job rings it when it stored something, the poster when a case left its surge incident, the
scheduler after a settled send or a review reminder. It is built first (with the scheduler it nudges)
and handed to each, so their constructors say whom they wake. A wake-up during a post run makes that run
go round once more (`woken`), instead of being dropped as a second instance of the job.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

POST_JOB = "post"  # the post job's id in the scheduler


class PostWake:
    """Calling it sets `woken` (a post run going now goes round again) and brings the post job's next
    run forward to now; with no scheduler (a runtime that is driven by hand), it only sets `woken`."""

    def __init__(self, scheduler: BackgroundScheduler | None = None) -> None:
        self.scheduler = scheduler
        self.woken = threading.Event()

    def __call__(self) -> None:
        self.woken.set()
        job = self.scheduler.get_job(POST_JOB) if self.scheduler is not None else None
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))
