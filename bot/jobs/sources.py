"""Each X source's pace: when the ingest job may poll it again, and what its last failure was.

A rate limit pauses a source until X's reset time; credits used up or the monthly usage cap reached are
an operator's matter, so the source is only probed now and then; anything else backs off exponentially.
The health job and `/perch status` read these states. Kept apart from the polling itself
(`bot/jobs/ingest.py`).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from bot.x.errors import XAuthError, XCreditsDepleted, XError, XRateLimited, XUsageCapped

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 900.0
BACKOFF_BASE_SECONDS = 5.0  # the first retry after a failure, when no poll interval is set
POLL_WINDOW_SECONDS = 900.0  # X's rate-limit window: `/perch status` counts polls over it
CREDITS_PROBE_SECONDS = 60.0  # credits used up: one probe a minute per source, until a top-up
USAGE_CAP_PROBE_SECONDS = 600.0  # the monthly cap: it lifts with the plan (or next month)


def error_kind(error: XError) -> str:
    """What the health job and `/perch status` call a failure."""
    if isinstance(error, XRateLimited):
        return "rate_limit"
    if isinstance(error, XAuthError):
        return "auth"
    if isinstance(error, XCreditsDepleted):
        return "credits"
    if isinstance(error, XUsageCapped):
        return "usage_cap"
    return "unavailable"


@dataclass
class SourceState:
    """When a source may be polled again, and how many failures in a row it has had."""

    not_before: float = 0.0
    failures: int = 0
    last_error: str | None = None
    last_error_kind: str | None = None  # "auth", "rate_limit", "credits", "usage_cap" or "unavailable"
    last_success: float | None = None
    last_sweep: float | None = None  # when the overlap window was last re-read in full
    polls: deque[float] = field(default_factory=deque)  # when it was polled, over the last 15 minutes

    def polled(self, at: float) -> None:
        self.polls.append(at)
        while self.polls and self.polls[0] <= at - POLL_WINDOW_SECONDS:
            self.polls.popleft()

    def recovered(self) -> None:
        """The source answered: its failures are forgotten."""
        self.failures, self.last_error, self.last_error_kind = 0, None, None

    def failed(self, source: str, error: XError, now: float, poll_interval: float | None) -> None:
        """Pause the source: until the reset time for a rate limit, else with exponential back-off."""
        self.last_error = str(error)
        self.last_error_kind = error_kind(error)
        if isinstance(error, XRateLimited):
            self.not_before = error.reset_at
            log.warning("%s: %s; pausing this source until then", source, error)
            return
        if isinstance(error, XCreditsDepleted | XUsageCapped):  # an operator matter: probe, don't hammer
            probe = CREDITS_PROBE_SECONDS if isinstance(error, XCreditsDepleted) else USAGE_CAP_PROBE_SECONDS
            self.not_before = now + probe
            log.error("%s: %s; asking once every %.0fs until it is resolved", source, error, probe)
            return
        self.failures += 1
        delay = min((poll_interval or BACKOFF_BASE_SECONDS) * 2 ** (self.failures - 1), MAX_BACKOFF_SECONDS)
        self.not_before = now + delay
        level = logging.ERROR if isinstance(error, XAuthError) else logging.WARNING
        log.log(level, "%s: %s; retrying in %.0fs", source, error, delay)


@dataclass(frozen=True)
class Window:
    """What one poll asks for: newer than `since_id` (a fast poll), else since `start` (a sweep).
    `start` is the cursor's time in a fast poll: the mentions timeline's gap check compares with it."""

    start: datetime
    since_id: str | None = None
