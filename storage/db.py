"""Open the database — SQLite (WAL mode) at a path, or PostgreSQL at a `postgresql://` URL — and bring
its schema up to date with numbered migrations.

Migrations only ever add: an old database keeps working, and each migration runs once, recorded in
the `migrations` table. A new migration is a new function appended to `MIGRATIONS`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlite_utils

from storage.engine import POSTGRESQL, SQLITE, Cursor, Database, Table, is_postgresql
from storage.errors import translated
from storage.fence import FENCE, OPENS_WRITE
from storage.migrations import MIGRATIONS
from storage.postgres import PgDatabase

T = TypeVar("T")


def utc_now() -> str:
    """The current time as the UTC ISO 8601 string every table stores."""
    return to_iso(datetime.now(UTC))


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@contextmanager
def writing(db: Database) -> Iterator[Database]:
    """A write transaction that takes SQLite's write lock up front (BEGIN IMMEDIATE).

    A transaction that reads before it writes must not discover at its first write that another
    connection wrote meanwhile (WAL then fails at once with "database is locked"); IMMEDIATE waits
    for the lock instead, within `busy_timeout`. Nested use becomes a savepoint. On PostgreSQL the
    transaction takes one advisory lock first, the same one writer at a time (`storage.postgres`).
    """
    if isinstance(db, PgDatabase):
        with db.transaction(lock=True):
            yield db
        return
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def rows_as(cls: Callable[..., T], cursor: Cursor) -> list[T]:
    """Each row as `cls`, its fields filled by column name (never by position)."""
    names = [column[0] for column in cursor.description]
    return [cls(**dict(zip(names, row, strict=True))) for row in cursor]


def rows_as_named(cls: Callable[..., T], cursor: Cursor) -> list[T]:
    """Each row as the named tuple `cls`, once the query's column names are checked to be its fields,
    in order: mapped by name, without a dict per row (a report's tens of thousands of rows)."""
    names = tuple(column[0] for column in cursor.description)
    fields: tuple[str, ...] = getattr(cls, "_fields")  # noqa: B009 - a NamedTuple's
    if names != fields:
        raise ValueError(f"columns {names} are not the fields of {getattr(cls, '__name__', cls)}: {fields}")
    return list(map(getattr(cls, "_make"), cursor))  # noqa: B009


def row_as(cls: Callable[..., T], cursor: Cursor) -> T | None:
    """The first row as `cls` (by column name), or None."""
    found = rows_as(cls, cursor)
    return found[0] if found else None


def new_id(table: Table) -> int:
    """The rowid (or identity) of the row `table` just inserted (kept as `last_pk`)."""
    if table.last_pk is None:
        raise sqlite3.DatabaseError(f"no row id after inserting into {table.name}")
    return int(table.last_pk)


JOB_BUSY_SECONDS = 30.0  # a scheduled job may wait for the write lock this long
REQUEST_BUSY_SECONDS = 1.5  # a Slack request may not: it has 3 s to answer, and the person must be told


class _Connection(sqlite3.Connection):
    """SQLite's connection, raising `storage.errors` instead of its own errors: the one seam where
    the engine's exceptions are read (sqlite-utils and Perch's storage both call these methods).
    In a fenced job thread, a write (or a BEGIN) outside a transaction goes through `_fenced`."""

    def execute(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        try:
            if FENCE.check is not None and not self.in_transaction and OPENS_WRITE.match(args[0]):
                return self._fenced(super().execute, *args, **kwargs)
            return super().execute(*args, **kwargs)
        except sqlite3.Error as error:
            raise translated(error) from error

    def executemany(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        try:
            if FENCE.check is not None and not self.in_transaction and OPENS_WRITE.match(args[0]):
                return self._fenced(super().executemany, *args, **kwargs)
            return super().executemany(*args, **kwargs)
        except sqlite3.Error as error:
            raise translated(error) from error

    def _fenced(self, run: Callable[..., sqlite3.Cursor], sql: str, *rest: Any, **kwargs: Any) -> sqlite3.Cursor:
        """The write lock (BEGIN IMMEDIATE), then the lease checked, then the statement: a BEGIN leaves
        the transaction open for its caller; a lone write is committed at once, as autocommit would."""
        cursor = super().execute("BEGIN IMMEDIATE")
        try:
            if FENCE.check is not None:
                FENCE.check(self)
            if sql.lstrip()[:5].upper() == "BEGIN":
                return cursor
            cursor = run(sql, *rest, **kwargs)
        except BaseException:
            if self.in_transaction:
                super().execute("ROLLBACK")
            raise
        super().execute("COMMIT")
        return cursor

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.Error as error:
            raise translated(error) from error


def connect(path: str, busy_seconds: float = JOB_BUSY_SECONDS) -> sqlite_utils.Database:
    """One connection in autocommit mode: writes that belong together go inside `db.atomic()`."""
    try:
        conn = sqlite3.connect(
            path, check_same_thread=False, timeout=busy_seconds, isolation_level=None, factory=_Connection
        )
    except sqlite3.Error as error:
        raise translated(error) from error
    db = sqlite_utils.Database(conn)
    if path != ":memory:":
        db.enable_wal()
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
    conn.execute("PRAGMA synchronous = NORMAL")
    return db


class Store:
    """The database, with one connection per thread on SQLite (jobs and Slack listeners run in threads),
    or one pool of connections on PostgreSQL (`location` a `postgresql://` URL).

    A thread that answers Slack says so (`answer_requests_here`, called by the thread pools and the
    middleware that serve Slack's requests): its connection waits at most `REQUEST_BUSY_SECONDS` for
    another writer, so a locked database fails that request at once (and the person is told) instead
    of timing out at Slack. Every other thread is a job's and waits up to `JOB_BUSY_SECONDS`.
    """

    def __init__(self, location: str) -> None:
        self.path = location
        self.engine = POSTGRESQL if is_postgresql(location) else SQLITE
        self._local = threading.local()
        self._pool = PgDatabase(location) if self.engine == POSTGRESQL else None
        migrate(self.db)

    def answer_requests_here(self) -> None:
        """This thread answers Slack's requests from now on: short waits for the write lock."""
        if self._pool is not None:
            self._pool.set_wait(REQUEST_BUSY_SECONDS)
            return
        if getattr(self._local, "answering", False):
            return
        self._local.answering = True
        opened = getattr(self._local, "db", None)
        if opened is not None:  # opened with a job's wait: the next use opens one with the short wait
            opened.conn.close()
            self._local.db = None

    @property
    def db(self) -> Database:
        if self._pool is not None:
            return self._pool
        db = getattr(self._local, "db", None)
        if db is None:
            answering = getattr(self._local, "answering", False)
            db = self._local.db = connect(self.path, REQUEST_BUSY_SECONDS if answering else JOB_BUSY_SECONDS)
        return db

    def close(self) -> None:
        """Close the PostgreSQL pool (its connections and threads), or this thread's SQLite connection."""
        if self._pool is not None:
            self._pool.close()
            return
        opened = getattr(self._local, "db", None)
        if opened is not None:
            opened.conn.close()
            self._local.db = None


def migrate(db: Database) -> None:
    """Apply the migrations not yet applied, each in its own write transaction, which reads again
    whether it was applied (two processes starting at once on one PostgreSQL database)."""
    migrations = db.table("migrations")
    if not migrations.exists():
        with writing(db):
            if not migrations.exists():
                migrations.create({"number": int, "name": str, "applied_at": str}, pk="number")
    applied = {row["number"] for row in migrations.rows}
    for number, migration in enumerate(MIGRATIONS, start=1):
        if number in applied:
            continue
        with writing(db):
            if db.execute("SELECT 1 FROM migrations WHERE number = ?", [number]).fetchone():
                continue
            migration(db)
            migrations.insert({"number": number, "name": migration.__name__.lstrip("_"), "applied_at": utc_now()})
