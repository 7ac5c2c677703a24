"""The Activity API's stream reader: one long `GET /2/activity/stream`, read in a thread of its own.

X sends each event as a line of JSON and, between events, a keep-alive (an empty line) every 20 s. A
read that waits more than `DEADLINE_PERIODS` keep-alive periods for a byte means the stream stalled:
the connection is cut and made again, so a stall is over within three periods. Between connects the
reader backs off (X allows 450 connects per 15 minutes and 2 connections per app; Perch keeps one):
after a cut or a clean end of stream from a short while, doubling from 1/20 of a keep-alive period up to
16 s; after an HTTP error from 5 s; after a 429 from a minute. A reconnect asks X for what it missed
(`backfill_minutes`, up to 5); a longer gap is left to the polls, which stay the reconciler. Events
are told apart by `event_uuid`, and their items by id (backfill resends; the polls read them too).
`start()`/`stop()` run it; `status` says how it is doing (`/perch status`, the health job), and
`covers(event_type)` whether the polls may slow down for that kind of item.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import socket
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import requests

from bot.x.activity import Activity, ActivityAPI, Subscriptions, parse_activity
from bot.x.answers import error_summary

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 20.0  # X's keep-alive period on its streams
DEADLINE_PERIODS = 2.5  # no byte for this many periods: stalled
BACKFILL_LIMIT_MINUTES = 5  # X's most; a longer gap is the polls' to fill
CONNECTS_PER_WINDOW = 400  # X allows 450 connects per 15 minutes: a margin for restarts
CONNECT_WINDOW_SECONDS = 900.0
SEEN_KEPT = 20_000  # event uuids and item ids remembered (backfill resends at most 5 minutes)


@dataclass
class StreamStatus:
    """How the stream is doing; times are the reader's clock (Unix seconds)."""

    state: str = "off"  # off, subscribing, connecting, connected, waiting, refused
    subscriptions: Subscriptions | None = None
    connected_at: float | None = None
    down_since: float | None = None  # when it stopped being connected (None while connected)
    last_byte_at: float | None = None
    last_event_at: float | None = None
    events: int = 0
    duplicates: int = 0
    reconnects: int = 0
    connects: deque[float] = field(default_factory=deque)  # over the last 15 minutes
    delays: deque[float] = field(default_factory=lambda: deque(maxlen=20))  # the last back-offs
    last_error: str | None = None  # what keeps it down now (None while connected)
    last_drop: str | None = None  # why the last connection ended, kept after the reconnect


class ActivityStream:
    """Reads the stream while started; each new event's items go to `on_activity` (the store)."""

    def __init__(
        self,
        api: ActivityAPI,
        user_id: Callable[[], str | None],
        on_activity: Callable[[Activity], None],
        *,
        keepalive: float = KEEPALIVE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self.user_id = user_id
        self.on_activity = on_activity
        self.keepalive = keepalive
        self.clock = clock
        self.status = StreamStatus()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: requests.Response | None = None
        self._failures = 0
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def deadline(self) -> float:
        return self.keepalive * DEADLINE_PERIODS

    # -- running -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.status.down_since = self.status.down_since or self.clock()
        self._thread = threading.Thread(target=self._run, daemon=True, name="activity-stream")
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading: the connection is cut under the read, the thread ends."""
        self._stop.set()
        self._cut()
        if self._thread is not None:
            self._thread.join(timeout)
        self.status.state = "off"

    def covers(self, event_type: str) -> bool:
        """Whether the stream is up and subscribed to `event_type`: its polls may slow down."""
        subs = self.status.subscriptions
        return self.status.state == "connected" and subs is not None and event_type in subs.ids

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._subscribed():  # the brand not known yet; or X refused: ask again in a while
                self._wait(self.keepalive / 4 if self.status.subscriptions is None else self.keepalive * 16)
                continue
            try:
                delay = self._connect_once()
            except Exception:  # the reader must outlive anything one connection does
                log.exception("The activity stream failed")
                delay = self._backoff(self.keepalive / 4, "an unexpected error", self.keepalive * 16)
            self._wait(delay)

    def _subscribed(self) -> bool:
        """The brand's subscriptions, found or made once per process (again after a failure)."""
        subs = self.status.subscriptions
        if subs is not None and subs.error is None and subs.ids:
            return True
        user_id = self.user_id()
        if user_id is None:
            return False
        self.status.state = "subscribing"
        try:
            subs = self.api.ensure(user_id)
        except requests.RequestException as error:
            subs = Subscriptions(error=f"X did not answer ({type(error).__name__})")
        self.status.subscriptions = subs
        if subs.error is not None or not subs.ids:
            self.status.state = "waiting" if subs.error and subs.error.startswith("X did not") else "refused"
            self.status.last_error = subs.error or "; ".join(f"{k}: {v}" for k, v in subs.refused.items())
            return False
        return True

    def _connect_once(self) -> float:
        """One connection, read until it ends; the delay before the next."""
        self._wait_for_connect_budget()
        backfill = self._backfill_minutes()
        self.status.state = "connecting"
        if self.status.connects or self.status.connected_at is not None:
            self.status.reconnects += 1
        self.status.connects.append(self.clock())
        try:
            response = self.api.stream_request(backfill, self.deadline)
        except requests.RequestException as error:
            return self._backoff(self.keepalive / 20, f"X did not answer the stream's connect ({type(error).__name__})")
        if response.status_code != 200:
            return self._refused(response)
        self._response = response
        self._connected()
        started = time.monotonic()
        ending = self._read(response)
        self._disconnected()
        if time.monotonic() - started >= 3 * self.keepalive:
            self._failures = 0  # it held: the next failure starts the back-off afresh
        return 0.0 if self._stop.is_set() else self._backoff(self.keepalive / 20, ending)

    def _refused(self, response: requests.Response) -> float:
        """X answered the connect with an error: back off by its kind."""
        status, detail = response.status_code, error_summary(response)
        with contextlib.suppress(requests.RequestException, OSError):
            response.close()
        if status in (401, 403):
            self.status.state = "refused"
            return self._backoff(self.keepalive * 3, f"X refused the stream ({status}: {detail})", self.keepalive * 16)
        first = self.keepalive * 3 if status == 429 else self.keepalive / 4
        return self._backoff(first, f"X answered the stream's connect with {status}: {detail}", self.keepalive * 16)

    def _read(self, response: requests.Response) -> str:
        """Lines until the stream ends; what ended it, in words."""
        buffer = b""
        try:
            for chunk in response.iter_content(chunk_size=None):
                self.status.last_byte_at = self.clock()
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    self._line(line.strip())
                if self._stop.is_set():
                    return "stopped"
        except (requests.RequestException, OSError) as error:
            if self._stop.is_set():
                return "stopped"
            if "timed out" in str(error).lower() or isinstance(error, requests.Timeout):
                return f"the stream stalled (no byte for {self.deadline:g} s)"
            return f"the stream was cut ({type(error).__name__})"
        finally:
            with contextlib.suppress(requests.RequestException, OSError):
                response.close()
        return "X ended the stream"

    def _line(self, line: bytes) -> None:
        """One line: a keep-alive (empty), or an event handed on once."""
        if not line:
            return
        try:
            message = json.loads(line)
        except ValueError:
            log.warning("X's activity stream sent a line that is not JSON; skipped")
            return
        activity = parse_activity(message) if isinstance(message, dict) else None
        if activity is None:
            return
        fresh = self._fresh(activity)
        if fresh is None:
            self.status.duplicates += 1
            return
        self.status.events += 1
        self.status.last_event_at = self.clock()
        try:
            self.on_activity(fresh)
        except Exception:  # not stored now (a busy database…): the polls read it again
            log.exception("An activity event could not be stored; the polls will bring it")

    def _fresh(self, activity: Activity) -> Activity | None:
        """The activity with only the items not seen before; None when it brings nothing new."""
        with self._lock:
            if activity.uuid and activity.uuid in self._seen:
                return None
            self._remember(activity.uuid)
            dms = [d for d in activity.dms if f"dm:{d.id}" not in self._seen]
            tweets = [t for t in activity.tweets if f"post:{t.id}" not in self._seen]
            for key in [f"dm:{d.id}" for d in dms] + [f"post:{t.id}" for t in tweets]:
                self._remember(key)
        if not dms and not tweets:
            return None
        return replace(activity, dms=dms, tweets=tweets)

    def _remember(self, key: str) -> None:
        if key:
            self._seen[key] = None
            while len(self._seen) > SEEN_KEPT:
                self._seen.popitem(last=False)

    # -- state and pacing ----------------------------------------------------------------------
    def _connected(self) -> None:
        self.status.state = "connected"
        self.status.connected_at = self.status.last_byte_at = self.clock()  # the answer's head: bytes too
        self.status.down_since, self.status.last_error = None, None
        log.info("Reading X's activity stream")

    def _disconnected(self) -> None:
        self._response = None
        if not self._stop.is_set():
            self.status.state = "waiting"
            self.status.down_since = self.clock()

    def _backoff(self, first: float, why: str, cap: float | None = None) -> float:
        """The wait before the next connect: `first`, doubling with each failure in a row, up to `cap`
        (a cut or an end: 0.8 periods, 16 s; an HTTP error: 16 periods)."""
        cap = self.keepalive * 0.8 if cap is None else cap
        delay = min(first * 2 ** min(self._failures, 20), max(cap, first))
        self._failures += 1
        if self.status.state != "refused":
            self.status.state = "waiting"
        self.status.down_since = self.status.down_since or self.clock()
        self.status.last_error = self.status.last_drop = why
        self.status.delays.append(delay)
        log.warning("Activity stream: %s; connecting again in %.1fs", why, delay)
        return delay

    def _backfill_minutes(self) -> int:
        """Minutes to ask X to resend: since the last byte, up to 5 (none on the first connect)."""
        last = self.status.last_byte_at
        if last is None:
            return 0
        gap = max(self.clock() - last, 0.0)
        return min(BACKFILL_LIMIT_MINUTES, max(1, math.ceil(gap / 60)))

    def _wait_for_connect_budget(self) -> None:
        connects = self.status.connects
        while connects and connects[0] <= self.clock() - CONNECT_WINDOW_SECONDS:
            connects.popleft()
        if len(connects) >= CONNECTS_PER_WINDOW:
            self._wait(connects[0] + CONNECT_WINDOW_SECONDS - self.clock())

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(seconds)

    def _cut(self) -> None:
        """Shut the socket under the read in progress (the read then fails at once)."""
        response = self._response
        sock = getattr(getattr(getattr(response, "raw", None), "_connection", None), "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
