"""What storage asks of a database, whichever engine answers: SQLite through sqlite-utils (the default),
or PostgreSQL through `storage.postgres` when `DATABASE_URL` names one.

Storage modules are typed against `Database`, the part of sqlite-utils' `Database` they use, so a call
the PostgreSQL side does not provide is a type error, not a surprise in production. Their SQL is
written once, in SQLite's dialect; `storage.pg_sql` translates it (placeholders, `INSERT OR IGNORE`,
`COLLATE NOCASE`) and gives PostgreSQL the few SQLite functions it uses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import psycopg

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

# What a bad row (text the engine refuses, a value out of range) raises: a batch is retried row by row.
BAD_ROW: tuple[type[Exception], ...] = (
    sqlite3.Error,
    psycopg.Error,
    UnicodeError,
    ValueError,
    TypeError,
    OverflowError,
)


class Cursor(Protocol):
    """The answer to one statement: its rows (as tuples), their column names, the rows it changed."""

    @property
    def description(self) -> Any: ...

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The connection under a `Database`: statements with many rows of parameters, transaction state."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...

    def close(self) -> None: ...


class Table(Protocol):
    """One table: the writes sqlite-utils makes convenient, and the schema calls migrations use."""

    @property
    def name(self) -> str: ...

    @property
    def last_pk(self) -> Any: ...

    def insert(self, record: dict[str, Any], *, replace: Any = ..., ignore: Any = ...) -> Table: ...

    def insert_all(self, records: Iterable[dict[str, Any]], *, ignore: Any = ...) -> Table: ...

    def upsert(self, record: dict[str, Any], *, pk: Any = ...) -> Table: ...

    def get(self, pk_values: Any) -> dict[Any, Any]: ...

    def exists(self) -> bool: ...

    @property
    def rows(self) -> Iterator[dict[str, Any]]: ...


class Database(Protocol):
    """A connection to Perch's database, as storage uses it."""

    @property
    def conn(self) -> Any: ...

    def execute(self, sql: str, parameters: Any = ...) -> Cursor: ...

    def query(self, sql: str, params: Any = ...) -> Iterator[dict[str, Any]]: ...

    def table(self, table_name: str) -> Any: ...

    def __getitem__(self, table_name: str) -> Any: ...

    def atomic(self) -> AbstractContextManager[Any]: ...


def engine_of(db: Database) -> str:
    """Which engine `db` talks to: where the SQL cannot be the same (DDL of triggers, generated columns)."""
    return str(getattr(db, "engine", SQLITE))


def shown(location: str) -> str:
    """A database location fit for a message or a log: a URL's password replaced by `***`."""
    if not is_postgresql(location):
        return location
    parts = urlsplit(location)
    if parts.password is None:
        return location
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}"))


def is_postgresql(location: str) -> bool:
    """Whether a database location is a PostgreSQL URL rather than a SQLite file path."""
    return location.startswith(("postgresql://", "postgres://"))
