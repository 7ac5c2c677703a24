"""Which engine the suite runs on (PERCH_TEST_DATABASE: `sqlite`, the default, or `postgresql`) and, for
PostgreSQL, the server the tests start themselves: pgserver's PostgreSQL (from its wheel: nothing to
install beside pip), one per run, with a migrated template that each test's database is copied from
(CREATE DATABASE … TEMPLATE: a fresh, migrated database in milliseconds)."""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from storage.db import Store
from storage.engine import is_postgresql
from storage.postgres import WRITE_LOCK

ENGINE = os.environ.get("PERCH_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
if ENGINE not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"PERCH_TEST_DATABASE={ENGINE!r}: say sqlite or postgresql")

TEMPLATE = "perch_template"

# Tests about SQLite itself (its file, its lock, its WAL, its backup API): they run on SQLite only.
sqlite_only = pytest.mark.skipif(ENGINE == "postgresql", reason="about SQLite's own file, lock or backup")


class PostgresServer:
    def __init__(self, server: Any) -> None:  # a pgserver.PostgresServer
        self.server = server
        self.admin_url = server.get_uri()
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._admin(f"DROP DATABASE IF EXISTS {TEMPLATE}", f"CREATE DATABASE {TEMPLATE}")
        Store(self.url(TEMPLATE)).close()  # every migration, once for the run

    def _admin(self, *statements: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            for statement in statements:
                admin.execute(statement.encode())

    def url(self, name: str) -> str:
        return self.admin_url.replace("/postgres?", f"/{name}?", 1)

    def fresh_database(self) -> str:
        """A new database, migrated (a copy of the template): its URL."""
        with self._lock:
            name = f"perch_test_{next(self._numbers)}"
            self._admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def stop(self) -> None:
        self.server.cleanup()


def start_postgres(folder: Path, attempts: int = 4) -> PostgresServer:
    """pgserver's PostgreSQL in `folder`. pgserver gives `pg_ctl start` 10 s, which a busy machine can
    outlast while the server does come up: each retry finds the server it started. A server that is still
    not up after the last attempt fails the run (never a skip)."""
    import pgserver  # only for a run on PostgreSQL (its import warns when XDG_RUNTIME_DIR is unset)

    for attempt in range(1, attempts + 1):
        try:
            return PostgresServer(pgserver.get_server(str(folder / "data"), cleanup_mode="stop"))
        except Exception:
            if attempt == attempts:
                raise
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def database_env(location: str) -> dict[str, str]:
    """The setting that points Perch at `location`: DATABASE_URL for PostgreSQL, DATABASE_PATH for a file."""
    return {"DATABASE_URL": location} if is_postgresql(location) else {"DATABASE_PATH": location}


@contextmanager
def write_lock_held(location: str) -> Iterator[None]:
    """Another process holds the database's write lock (a backup, a migration, a stuck script): SQLite's
    BEGIN IMMEDIATE, or on PostgreSQL the advisory lock every write transaction of Perch takes first."""
    if not is_postgresql(location):
        other = sqlite3.connect(location, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with psycopg.connect(location) as conn:  # not autocommit: the lock lasts until the rollback
        conn.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})".encode())
        try:
            yield
        finally:
            conn.rollback()
