"""Many processes, one leader: the lease that decides which process runs the scheduled jobs.

Every process answers Slack; only the holder of the `jobs` lease (`storage.lease`) runs the jobs. A
thread renews the lease every third of `LEADER_LEASE_SECONDS`, so a process that dies or stalls loses
it to another within the lease plus one renewal. Each job runs through `Leader.run`: skipped unless
this process leads, and fenced by the epoch it leads under, so a leader that wakes from a freeze after
losing its lease writes nothing (`LostLease`) and steps down quietly.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from storage.db import Store
from storage.engine import Database
from storage.errors import LostLease, StorageError
from storage.lease import JOBS, database_ms, fenced, holds, read, release, take

log = logging.getLogger(__name__)

T = TypeVar("T")


def this_host() -> str:
    """The host's name and, on Linux, this process's pid namespace: containers that share a host name
    (host networking) but not their pids are different hosts here."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").removeprefix("pid:[").removesuffix("]")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}/{namespace}" if namespace else socket.gethostname()


def holder_id() -> str:
    """This process, unique across restarts: host, pid and a few random bytes."""
    return f"{this_host()}:{os.getpid()}:{secrets.token_hex(3)}"


def exited(holder: str) -> bool:
    """Whether `holder` was a process on this host that has exited (killed, crashed): its lease may
    be taken at once instead of at its expiry. Another host's holder, or a live pid, is never exited;
    should a pid be wrongly judged gone, the epoch still fences the old holder's writes."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != this_host() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


class Leader:
    """This process's side of the lease: its role, the epoch it leads under, the renewing thread."""

    def __init__(
        self,
        store: Store,
        seconds: float,
        *,
        holder: str | None = None,
        clock: Callable[[Database], int] = database_ms,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.seconds = seconds
        self.holder = holder or holder_id()
        self.clock = clock
        self.monotonic = monotonic
        self.on_promoted: Callable[[], None] = lambda: None
        self.on_demoted: Callable[[], None] = lambda: None  # what only a leader runs stops (the stream)
        self.seen_epoch = 0  # the lease's epoch as last read, whoever holds it
        self._epoch: int | None = None  # the epoch this process leads under, None on standby
        self._valid_until = 0.0  # by this process's monotonic clock: the lease is surely its until then
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def renew_every(self) -> float:
        return self.seconds / 3

    @property
    def epoch(self) -> int | None:
        """The epoch this process leads under, or None when it does not (or cannot be sure it does)."""
        with self._guard:
            return self._epoch if self.monotonic() < self._valid_until else None

    @property
    def role(self) -> str:
        return "leader" if self.epoch is not None else "standby"

    def renew(self) -> None:
        """One renewal (or attempt to take the lease); a database error leaves the role as it was,
        to run out by the local deadline if it lasts."""
        started = self.monotonic()
        db = self.store.db
        try:
            now, seen = self.clock(db), read(db, JOBS)
            dead = seen.holder if seen and seen.holder != self.holder and now < seen.expires_at else ""
            lease = take(db, JOBS, self.holder, self.seconds, now, dead=dead if dead and exited(dead) else "")
        except StorageError as error:
            log.warning("The leader's lease was not renewed: %s", error)
            return
        mine = lease.holder == self.holder
        with self._guard:
            before = self._epoch
            self._epoch = lease.epoch if mine else None
            self._valid_until = started + self.seconds if mine else 0.0
            self.seen_epoch = lease.epoch
        if mine and before != lease.epoch:
            log.info("Leading now (lease epoch %s): this process runs the scheduled jobs", lease.epoch)
            self.on_promoted()
        elif not mine and before is not None:
            log.info("Standing by: another process leads now (lease epoch %s)", lease.epoch)
            self.on_demoted()

    def step_down(self, epoch: int) -> None:
        """A job's write was refused under `epoch`: stop leading under it at once."""
        with self._guard:
            if self._epoch != epoch:
                return
            self._epoch, self._valid_until = None, 0.0
        log.info("Standing by: the lease (epoch %s) is another process's now", epoch)
        self.on_demoted()

    def run(self, job: Callable[[], T]) -> T | None:
        """Run `job` if this process leads, fenced by its epoch; None when it does not lead (or stops
        leading during the job: its writes were refused, nothing is logged as a failure)."""
        epoch = self.epoch
        if epoch is None:
            return None
        try:
            with fenced(JOBS, self.holder, epoch, self.step_down):
                if not holds(self.store.db, JOBS, self.holder, epoch):  # woken from a freeze: read first
                    self.step_down(epoch)
                    return None
                return job()
        except LostLease:
            return None

    def start(self) -> None:
        """Renew once now (so a lone process leads before its jobs' first run), then in a thread."""
        self.renew()
        self._stop.clear()
        self._thread = threading.Thread(target=self._renewing, name="lease", daemon=True)
        self._thread.start()

    def stop(self, *_: Any) -> None:
        """Stop renewing and give the lease up, so a standby takes over at its next renewal."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.seconds)
        epoch = self.epoch
        with self._guard:
            self._epoch, self._valid_until = None, 0.0
        self.on_demoted()
        if epoch is not None:
            try:
                release(self.store.db, JOBS, self.holder, epoch)
            except StorageError as error:
                log.warning("The leader's lease was not given up (it runs out by itself): %s", error)

    def _renewing(self) -> None:
        while not self._stop.wait(self.renew_every):
            self.renew()
