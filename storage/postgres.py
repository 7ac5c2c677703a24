"""PostgreSQL as storage's `Database`: a psycopg connection pool behind the calls sqlite-utils gives SQLite.

Outside a transaction each statement borrows a pooled connection (autocommit) and hands it back with
its rows read, so a connection the server cut is dropped by the pool when the statement that met it
fails, and the next statement gets a new one: a restart or a managed failover costs the statements
that meet a cut connection a `Busy`, never a restart of Perch. (Connections are not checked on every
loan, which costs a round trip per statement: after one is found cut, the pool checks the idle ones.)
A transaction keeps one connection for this thread until it ends. Every psycopg error is translated
here into `storage.errors`, the one seam for this engine as `storage.db._Connection` is for SQLite.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool
from psycopg.adapt import Loader
from psycopg.types.numeric import IntDumper
from psycopg.types.string import StrDumperUnknown

from storage.engine import POSTGRESQL
from storage.errors import Gone, translated_pg
from storage.fence import FENCE, OPENS_WRITE
from storage.pg_sql import COMPATIBILITY, to_postgresql
from storage.pg_table import PgTable

WRITE_LOCK = 7_142_871  # the advisory lock every write transaction takes first: SQLite's one writer


class _NumberLoader(Loader):
    """numeric as SQLite gives it: an int when whole (a SUM), else a float (a division by 1000.0)."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if "." in text or "e" in text.lower() or text == "NaN" else int(text)


class _FlagLoader(Loader):
    """A comparison's boolean as SQLite gives it: 1 or 0."""

    def load(self, data: Any) -> int:
        return 1 if bytes(data) == b"t" else 0


class _FlagDumper(IntDumper):
    """Python's True and False as 1 and 0: flag columns are integers, as in SQLite."""

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"

    def quote(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class _TextDumper(StrDumperUnknown):
    """Text as PostgreSQL can keep it: without NUL characters, which SQLite keeps and PostgreSQL refuses
    (a hostile post with one is still stored and carded; Slack would not show a NUL either)."""

    def dump(self, obj: str) -> Any:
        return super().dump(obj.replace("\x00", ""))


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_loader("numeric", _NumberLoader)
    conn.adapters.register_loader("bool", _FlagLoader)
    conn.adapters.register_dumper(bool, _FlagDumper)
    conn.adapters.register_dumper(str, _TextDumper)


class Result:
    """A statement's answer, read whole before its connection went back to the pool."""

    def __init__(self, cursor: psycopg.Cursor[Any] | None) -> None:
        self.rowcount = cursor.rowcount if cursor is not None else -1
        self.description: list[tuple[str, ...]] | None = None
        self._rows: list[tuple[Any, ...]] = []
        if cursor is not None and cursor.description is not None:
            self.description = [(column.name,) for column in cursor.description]
            self._rows = cursor.fetchall()
        self._at = 0

    def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self) -> list[Any]:
        rows, self._at = self._rows[self._at :], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        while (row := self.fetchone()) is not None:
            yield row


class PgDatabase:
    """Perch's database on PostgreSQL, shared by every thread (each thread's transaction is its own)."""

    engine = POSTGRESQL

    def __init__(self, url: str, *, max_size: int = 20) -> None:
        self.url = url
        self._local = threading.local()
        _reach(url)
        self.pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True, "cursor_factory": psycopg.ClientCursor},
            configure=_configure,
            open=False,
            name="perch",
        )
        try:
            self.pool.open(wait=True, timeout=10)
            self._compatibility()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
            self.pool.close()
            raise _storage_error(error) from error

    def close(self) -> None:
        self.pool.close()

    def _compatibility(self) -> None:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            for statement in COMPATIBILITY:
                conn.execute(statement.encode())

    # -- the wait a thread allows itself (a Slack request's is short) ---------------------------------

    def set_wait(self, seconds: float) -> None:
        self._local.wait = seconds

    @property
    def _wait_ms(self) -> int:
        return int(getattr(self._local, "wait", 30.0) * 1000)

    # -- statements ----------------------------------------------------------------------------------

    @property
    def conn(self) -> PgDatabase:
        """sqlite-utils' `db.conn`: the same object (`executemany`, `in_transaction`)."""
        return self

    @property
    def in_transaction(self) -> bool:
        return getattr(self._local, "conn", None) is not None

    def execute(self, sql: str, parameters: Any = None) -> Result:
        if self._fenced_write(sql):  # a job's lone write: in a transaction of its own, fenced
            with self.transaction(lock=True):
                return self.execute(sql, parameters)
        named = isinstance(parameters, dict)
        text = to_postgresql(sql, named)
        return self._run(lambda conn: conn.execute(text.encode(), parameters or None))

    def executemany(self, sql: str, parameters: Iterable[Any]) -> Result:
        rows = list(parameters)
        if not rows:
            return Result(None)
        if self._fenced_write(sql):
            with self.transaction(lock=True):
                return self.executemany(sql, rows)
        text = to_postgresql(sql, isinstance(rows[0], dict))
        return self._run(lambda conn: _many(conn, text, rows))

    def _fenced_write(self, sql: str) -> bool:
        return FENCE.check is not None and not self.in_transaction and bool(OPENS_WRITE.match(sql))

    def query(self, sql: str, params: Any = None) -> Iterator[dict[str, Any]]:
        result = self.execute(sql, params)
        names = [column[0] for column in result.description or []]
        for row in result:
            yield dict(zip(names, row, strict=True))

    def _run(self, statement: Any) -> Result:
        held = getattr(self._local, "conn", None)
        try:
            if held is not None:
                return Result(statement(held))
            with self.pool.connection(timeout=self._wait_ms / 1000) as conn:
                return Result(statement(conn))
        except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
            self._after(error)
            raise _storage_error(error) from error

    def _after(self, error: Exception) -> None:
        """After a cut connection (a restart, a failover), the pool checks its idle ones too: only the
        statement that met the cut is busy, not one per pooled connection."""
        state = getattr(error, "sqlstate", None) or ""
        if isinstance(error, psycopg.OperationalError) and (not state or state.startswith(("08", "57P"))):
            self.pool.check()

    # -- tables --------------------------------------------------------------------------------------

    def table(self, table_name: str) -> PgTable:
        return PgTable(self, table_name)

    def __getitem__(self, table_name: str) -> PgTable:
        return self.table(table_name)

    def table_names(self) -> list[str]:
        found = self.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        return [row[0] for row in found]

    def commit(self) -> None:
        """Statements outside a transaction commit as they run (sqlite-utils' autocommit)."""

    # -- transactions --------------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[PgDatabase]:
        with self.transaction(lock=False):
            yield self

    @contextmanager
    def transaction(self, *, lock: bool) -> Iterator[PgDatabase]:
        """One transaction on one connection for this thread; nested, a savepoint. With `lock`, it first
        takes the write lock (waiting at most this thread's wait), as SQLite's BEGIN IMMEDIATE does."""
        held = getattr(self._local, "conn", None)
        if held is not None:
            try:
                with held.transaction():
                    yield self
            except psycopg.Error as error:
                raise _storage_error(error) from error
            return
        try:
            with self.pool.connection(timeout=self._wait_ms / 1000) as conn, conn.transaction():
                self._local.conn = conn
                try:
                    if lock or FENCE.check is not None:  # a job's transaction: the lock, then its lease
                        conn.execute(f"SET LOCAL lock_timeout = {self._wait_ms}".encode())
                        conn.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})".encode())
                        if FENCE.check is not None:
                            FENCE.check(self)
                    yield self
                finally:
                    self._local.conn = None
        except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
            self._after(error)
            raise _storage_error(error) from error


def _reach(url: str) -> None:
    """One connection before the pool's, so a wrong host, password or database name is said as libpq
    says it (which never repeats the password) instead of as a pool that timed out."""
    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.Error as error:
        said = " ".join(str(error).split()) or type(error).__name__
        raise Gone(f"cannot connect to PostgreSQL: {said}") from error


def _storage_error(error: Exception) -> Exception:
    """The `StorageError` for a psycopg error; Perch's own mistakes (bad SQL) are raised as they are."""
    found = translated_pg(error)
    if found is error:
        raise error
    return found


def _many(conn: psycopg.Connection[Any], text: str, rows: list[Any]) -> psycopg.Cursor[Any]:
    cursor = conn.cursor()
    cursor.executemany(text.encode(), rows)
    return cursor
