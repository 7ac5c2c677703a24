"""What can go wrong with the database, in words the rest of Perch can act on.

Callers never see the engine's own exceptions: storage raises these (each engine translates its errors
at one seam: SQLite's in `storage.db.connect`, PostgreSQL's in `storage.postgres`), so a listener can
tell the person "busy, try again" without knowing which engine answered. Each keeps the engine's
error as its `__cause__`.

    StorageError
    ├── Busy      another writer held the lock past this caller's wait; nothing was written
    ├── Full      the disk (or the database's size limit) has no room; nothing was written
    ├── Gone      the database cannot be read or written at all (missing, unreadable, corrupt, I/O)
    └── LostLease a job's process is no longer the leader (`storage.lease`): its write was refused

    Duplicate     (not a condition: a unique key already taken, which callers that race expect)

`SEEN` counts the errors translated so far, by kind (for `GET /metrics`).
"""

from __future__ import annotations

import sqlite3
from collections import Counter

import psycopg
import psycopg_pool


class StorageError(Exception):
    """The database could not do what was asked; the transaction was rolled back."""


class Busy(StorageError):
    """Locked by another writer past the wait: try again in a moment."""


class Full(StorageError):
    """No room on the disk for the write: nothing was written."""


class Gone(StorageError):
    """The database cannot be reached, read or written."""


class LostLease(StorageError):
    """Another process holds the leader's lease now (or a later epoch of it): a job of this process
    must not write, so nothing was written. Its runner stops being the leader, quietly."""


SEEN: Counter[str] = Counter()  # the engine's errors translated, by kind, since the process started


class Duplicate(Exception):
    """A row with this unique key (an idempotency key, a primary key) exists already: nothing was written."""


# What a write whose unique key is taken raises, on either engine (SQLite's error is its own).
DUPLICATE: tuple[type[Exception], ...] = (sqlite3.IntegrityError, Duplicate)

# SQLite's primary result codes (sqlite3 exposes them as `sqlite_errorcode`, the extended code).
_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_FULL_CODES = {sqlite3.SQLITE_FULL}
_GONE_CODES = {
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_NOTADB,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_PERM,
}


def translated(error: sqlite3.Error) -> Exception:
    """The `StorageError` an engine error means, or the error itself when it is a mistake in Perch's
    own SQL or data (a constraint, a syntax error): those are bugs to see whole, not conditions."""
    found = _kind(error)
    SEEN[type(found).__name__] += 1
    return found


def _kind(error: sqlite3.Error) -> Exception:
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    message = str(error)
    if code in _BUSY_CODES or "database is locked" in message:
        return Busy(message)
    if code in _FULL_CODES or "database or disk is full" in message:
        return Full(message)
    if code in _GONE_CODES:
        return Gone(message)
    return error


# PostgreSQL's SQLSTATE classes and codes: a connection cut or refused (08, 57P), a server that cannot
# take more (53), a lock not had in time or a transaction that lost a race (55P03, 40001, 40P01, 57014).
_PG_BUSY = ("08", "57P", "53300", "55P03", "40001", "40P01", "57014", "25006")
_PG_FULL = ("53100",)
_PG_GONE = ("58", "XX", "3D000", "28")


def translated_pg(error: Exception) -> Exception:
    """PostgreSQL's (psycopg's) error as a `StorageError`, or itself when it is Perch's own mistake."""
    found = _pg_kind(error)
    SEEN[type(found).__name__] += 1
    return found


def _pg_kind(error: Exception) -> Exception:
    if isinstance(error, psycopg.errors.UniqueViolation):
        return Duplicate(str(error).strip())
    if isinstance(error, psycopg_pool.PoolTimeout):
        return Busy(f"no database connection free in time: {error}")
    state = getattr(error, "sqlstate", None) or ""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if state.startswith(_PG_FULL):
        return Full(message)
    if state.startswith(_PG_BUSY) or (
        not state and isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)
    ):
        return Busy(message)
    if state.startswith(_PG_GONE):
        return Gone(message)
    return error
