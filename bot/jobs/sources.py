"""Each X source's pace: when the ingest job may poll it again, and what its last failure was.

A rate limit pauses a source until X's reset time; credits used up or the monthly usage cap reached are
an operator's matter, so the source is only probed now and then; anything else backs off exponentially.
The health job and `/perch status` read these states. Each source also reads its past by time in
contiguous slices (`next_slice`), for the posts X indexes late. Kept apart from the polling itself
(`bot/jobs/ingest.py`).

While X's activity stream is up and subscribed to a source's items (`watch_stream`), the polls stay as
the reconciler at a slower pace (`relief`): mentions at most every `MENTIONS_GAP_STREAMED` s (the
implicit mentions and replies to replies only the timeline has), DMs every `DMS_GAP_STREAMED` s (3 of
the 15 DM reads X allows per 15 minutes, instead of nearly all). The stream's own state sits beside the
sources' (`StreamSource`), where the health job and `/perch status` read it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.x.activity import DM_RECEIVED, MENTION_CREATED, STREAM_SOURCE
from bot.x.client import SEARCH_END_TIME_LAG
from bot.x.errors import XAuthError, XCreditsDepleted, XError, XRateLimited, XUsageCapped
from bot.x.stream import ActivityStream

log = logging.getLogger(__name__)

SEARCH_PREFIX = "search:"  # a tracked search's source: `search:<query>`
MAX_BACKOFF_SECONDS = 900.0
BACKOFF_BASE_SECONDS = 5.0  # the first retry after a failure, when no poll interval is set
POLL_WINDOW_SECONDS = 900.0  # X's rate-limit window: `/perch status` counts polls over it
CREDITS_PROBE_SECONDS = 60.0  # credits used up: one probe a minute per source, until a top-up
USAGE_CAP_PROBE_SECONDS = 600.0  # the monthly cap: it lifts with the plan (or next month)
SLICE_SECONDS = 15.0  # a source reads its past by time once the unread stretch is this long
MENTIONS_GAP_STREAMED = 5.0  # the stream brings mentions: a turn of the mentions poll at most this often
DMS_GAP_STREAMED = 300.0  # the stream brings DMs: a DM sweep this often (X allows 15 per 15 minutes)


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

    held_until: float = 0.0  # X's pace or a failure's back-off (`not_before` adds the stream's relief)
    failures: int = 0
    last_error: str | None = None
    last_error_kind: str | None = None  # "auth", "rate_limit", "credits", "usage_cap" or "unavailable"
    last_success: float | None = None
    sliced_to: datetime | None = None  # every post created before this was read by time (a slice)
    slice_waiting: bool = False  # the slice due had no call to spare last turn: it opens the next one
    polls: deque[float] = field(default_factory=deque)  # when it was polled, over the last 15 minutes
    relief: Callable[[], float] | None = None  # the least gap between polls now (the stream covers it)

    @property
    def not_before(self) -> float:
        """When the next poll may go: X's pace, a failure's back-off, and while the stream brings this
        source's items, not before `relief()` after the last poll."""
        gap = self.relief() if self.relief is not None else 0.0
        if gap and self.polls:
            return max(self.held_until, self.polls[-1] + gap)
        return self.held_until

    @not_before.setter
    def not_before(self, value: float) -> None:
        self.held_until = value

    def polled(self, at: float) -> None:
        self.polls.append(at)
        while self.polls and self.polls[0] <= at - POLL_WINDOW_SECONDS:
            self.polls.popleft()

    def next_slice(self, now: datetime, overlap: timedelta) -> Window | None:
        """The slice of time due now, if any: `[sliced_to, now - overlap)` once it is `SLICE_SECONDS`
        long. Every post created in it is indexed by now (X shows a post at most `overlap` late), so each
        post is read by exactly one slice; X refuses an `end_time` fresher than 10 s."""
        if self.sliced_to is None:
            return None
        end = whole_second(now - max(overlap, SEARCH_END_TIME_LAG))
        if (end - self.sliced_to).total_seconds() < SLICE_SECONDS:
            return None
        return Window(self.sliced_to, end=end)

    def turn(self, fast: Window, now: datetime, overlap: timedelta, over_budget: bool) -> list[Window]:
        """This turn's reads in order: the fast poll and the slice due, the slice first if it waited last
        turn. Over the month's budget no slice is read (the sweeps' policy): `sliced_to` moves on unread."""
        due = self.next_slice(now, overlap)
        if due is not None and over_budget:
            self.sliced_to, due = due.end, None
        if due is None:
            return [fast]
        return [due, fast] if self.slice_waiting else [fast, due]

    def sliced(self, end: datetime, whole: bool) -> None:
        """A slice was read: `sliced_to` moves to its end only if every page came (else it is asked
        again, from the same start: nothing is skipped)."""
        self.slice_waiting = False
        if whole:
            self.sliced_to = end

    def pace(self, spacing: float | None, sharing: int, now: float, tick: float) -> None:
        """Hold the next poll back by X's spacing for the endpoint (times the sources sharing it); a
        spacing shorter than the job's own tick is the tick: nothing to hold back."""
        if spacing is not None and spacing * sharing >= tick / 2:
            self.not_before = now + spacing * sharing

    def answered(self, source: str, error: XError | None, now: float, poll_interval: float | None) -> None:
        """After a read: paused if it failed (`failed`), else its failures forgotten."""
        if error is not None:
            self.failed(source, error, now, poll_interval)
            return
        self.recovered()
        self.last_success = now

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
    """What one poll asks for: newer than `since_id` (a fast poll), else created in `[start, end)` (a
    slice; no `end`: up to now, the catch-up after start-up). `start` is the cursor's time in a fast
    poll: the mentions timeline's gap check compares with it."""

    start: datetime
    since_id: str | None = None
    end: datetime | None = None


def whole_second(moment: datetime) -> datetime:
    """Slice bounds on whole seconds: X reads `start_time` and `end_time` to the second."""
    return moment.replace(microsecond=0)


@dataclass
class StreamSource(SourceState):
    """X's activity stream beside the polled sources: never polled, its reader's state read from here."""

    reader: ActivityStream | None = None


def watch_stream(states: dict[str, SourceState], stream: ActivityStream, mentions: str, dms: str) -> None:
    """Put the stream beside the sources, and slow the mentions and DM polls while it brings theirs."""
    states[STREAM_SOURCE] = StreamSource(reader=stream)
    states.setdefault(mentions, SourceState()).relief = lambda: (
        MENTIONS_GAP_STREAMED if stream.covers(MENTION_CREATED) else 0.0
    )
    states.setdefault(dms, SourceState()).relief = lambda: DMS_GAP_STREAMED if stream.covers(DM_RECEIVED) else 0.0
