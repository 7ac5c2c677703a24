"""The leader's lease: which process runs the scheduled jobs, until when, and under which epoch.

One row per lease (`leases`, migration 23). Every process tries `take` every few seconds: the holder
extends its expiry, anyone else takes the row only once it has expired, and a change of holder adds
one to `epoch`. Expiry is judged by one clock, the database's (`database_ms`), so the machines' clocks
never matter; the functions take that instant as an argument, so tests drive a fixed clock.

Fencing: a job runs `fenced(...)`; from then on every transaction its thread opens to write first
reads the lease row under the write lock (`storage.fence.FENCE`) and raises `LostLease` when another
holder or a later epoch is there. A leader that was frozen and wakes after losing its lease can read,
but never write: not an outbox claim, a post attempt or a cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from storage.db import row_as, writing
from storage.engine import POSTGRESQL, SQLITE, Database
from storage.errors import LostLease
from storage.fence import FENCE

JOBS = "jobs"  # the lease whose holder runs the scheduled jobs


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    epoch: int
    expires_at: int  # ms since 1970, the database's clock


def database_ms(db: Database) -> int:
    """The database's clock, in ms since 1970: the one clock every process judges expiry by (SQLite's is
    the host's; PostgreSQL's the server's, read without the transaction's frozen `now()`)."""
    sql = _POSTGRESQL_NOW_MS if getattr(db, "engine", SQLITE) == POSTGRESQL else _SQLITE_NOW_MS
    return int(db.execute(sql).fetchone()[0])


# The one SQL here each engine writes its own way: the clock.
_SQLITE_NOW_MS = "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
_POSTGRESQL_NOW_MS = "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"


def take(db: Database, name: str, holder: str, seconds: float, now_ms: int, *, dead: str = "") -> Lease:
    """Renew the lease when `holder` has it, take it when it has expired (or its holder is `dead`,
    known to have exited), and return it as it is now.

    One conditional UPDATE in a write transaction: two processes taking an expired lease at once
    serialize on the row, and the second finds it no longer expired. The epoch grows only when the
    holder changes, so a holder that renews keeps the epoch its jobs are fenced by.
    """
    with writing(db):
        db.execute(
            "UPDATE leases SET epoch = CASE WHEN holder = ? THEN epoch ELSE epoch + 1 END, holder = ?, "
            "expires_at = ? WHERE name = ? AND (holder = ? OR expires_at <= ? OR (holder = ? AND holder <> ''))",
            [holder, holder, now_ms + int(seconds * 1000), name, holder, now_ms, dead],
        )
        found = read(db, name)
    if found is None:
        raise LostLease(f"there is no lease named {name}")
    return found


def release(db: Database, name: str, holder: str, epoch: int) -> bool:
    """Give the lease up at once (a clean stop), so another process takes it at its next renewal."""
    with writing(db):
        return bool(
            db.execute(
                "UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND epoch = ?", [name, holder, epoch]
            ).rowcount
        )


def read(db: Database, name: str) -> Lease | None:
    return row_as(Lease, db.execute("SELECT name, holder, epoch, expires_at FROM leases WHERE name = ?", [name]))


def holds(db: Database, name: str, holder: str, epoch: int) -> bool:
    """Whether `holder` still has the lease at `epoch` (a read: a job checks it before it starts)."""
    found = read(db, name)
    return found is not None and found.holder == holder and found.epoch == epoch


def check(conn: Database, name: str, holder: str, epoch: int) -> None:
    """Raise `LostLease` unless `holder` has the lease at `epoch`; run inside the write transaction,
    after its lock is taken, so no other process can take the lease before this one commits.
    (On PostgreSQL the same SELECT gets `FOR SHARE`, which a takeover's UPDATE must wait for.)"""
    row = conn.execute("SELECT holder, epoch FROM leases WHERE name = ?", [name]).fetchone()
    if row is None or row[0] != holder or row[1] != epoch:
        raise LostLease(f"the {name} lease is no longer this process's (epoch {epoch})")


@contextmanager
def fenced(name: str, holder: str, epoch: int, on_lost: Callable[[int], None] | None = None) -> Iterator[None]:
    """Within this block, every write this thread makes is fenced by the lease at `epoch`; `on_lost`
    hears the epoch a refused write ran under (the runner steps down at once)."""

    def check_here(conn: Database) -> None:
        try:
            check(conn, name, holder, epoch)
        except LostLease:
            if on_lost is not None:
                on_lost(epoch)
            raise

    outer = FENCE.check
    FENCE.check = check_here
    try:
        yield
    finally:
        FENCE.check = outer
