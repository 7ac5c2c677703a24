"""Storage speaks its own errors: busy, full, gone (storage/errors.py), never the engine's."""

from __future__ import annotations

import sqlite3
import threading

import psycopg
import pytest

from storage.db import JOB_BUSY_SECONDS, REQUEST_BUSY_SECONDS, Store, connect, writing
from storage.engine import SQLITE, engine_of
from storage.errors import Busy, Full, Gone, translated


def test_a_writer_held_past_the_wait_is_busy_and_nothing_is_written(tmp_path):
    path = str(tmp_path / "busy.db")
    store = Store(path)
    holder = connect(path)
    holder.conn.execute("BEGIN IMMEDIATE")
    waiter = connect(path, busy_seconds=0.05)
    with pytest.raises(Busy) as raised, writing(waiter):
        waiter.execute("INSERT INTO alarms (name, raised_at) VALUES ('x', 'y')")
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
    holder.conn.execute("ROLLBACK")
    assert store.db.execute("SELECT COUNT(*) FROM alarms").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        (sqlite3.SQLITE_FULL, "database or disk is full", Full),
        (sqlite3.SQLITE_IOERR | (3 << 8), "disk I/O error", Gone),
        (sqlite3.SQLITE_NOTADB, "file is not a database", Gone),
        (sqlite3.SQLITE_BUSY, "database is locked", Busy),
    ],
)
def test_the_engines_codes_become_storage_errors(code, message, kind):
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    assert type(translated(error)) is kind


def test_a_mistake_in_perchs_own_sql_is_left_whole(fresh_db):
    mistake = sqlite3.OperationalError if engine_of(fresh_db) == SQLITE else psycopg.errors.UndefinedTable
    with pytest.raises(mistake, match="no such table|does not exist"):
        fresh_db.execute("SELECT * FROM no_such_table")


def test_a_thread_that_answers_slack_waits_briefly_and_a_jobs_thread_long(tmp_path):
    store = Store(str(tmp_path / "waits.db"))
    waits = {}

    def answering() -> None:
        store.answer_requests_here()
        waits["request"] = store.db.execute("PRAGMA busy_timeout").fetchone()[0]

    def job() -> None:
        waits["job"] = store.db.execute("PRAGMA busy_timeout").fetchone()[0]

    for target in (answering, job):
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    assert waits == {"request": int(REQUEST_BUSY_SECONDS * 1000), "job": int(JOB_BUSY_SECONDS * 1000)}
