"""Both engines, one behaviour: write transactions keep their guarantees on two connections at once (run
on the suite's engine, PERCH_TEST_DATABASE), PostgreSQL's errors become storage's, a cut connection
costs one `Busy` and no restart, and a bad DATABASE_URL stops start-up with one line and no password."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import psycopg
import pytest

from storage.cases import claim
from storage.db import Store, writing
from storage.engine import shown
from storage.errors import DUPLICATE, Busy, Duplicate, Full, Gone, translated_pg
from storage.lifecycle import Outcome
from storage.pg_sql import to_postgresql
from storage.replies import begin_send
from tests.engines import ENGINE
from tests.helpers import add_case
from tests.test_config import VALID, run_bot

on_postgresql = pytest.mark.skipif(ENGINE != "postgresql", reason="PostgreSQL's own behaviour")


def _together(calls: list) -> list:
    """Run each call in its own thread, released at the same instant; their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return results


def test_five_simultaneous_claims_on_two_connections_have_one_winner(database):
    first, second = Store(database), Store(database)
    try:
        add_case(first.db, 1, "2026-03-10 10:00")
        stores = [first, second, first, second, second]
        outcomes = _together([lambda s=s, n=n: claim(s.db, 1, f"U{n}").outcome for n, s in enumerate(stores)])
        assert sorted(outcomes) == sorted([Outcome.OK] + [Outcome.TAKEN] * 4)
        assert first.db.execute("SELECT COUNT(*) FROM events WHERE kind = 'claimed'").fetchone()[0] == 1
        assert second.db.execute("SELECT COUNT(*) FROM holds").fetchone()[0] == 1
    finally:
        first.close()
        second.close()


def test_one_outbox_send_claimed_by_two_workers_at_once_goes_out_once(database):
    first, second = Store(database), Store(database)
    try:
        add_case(first.db, 1, "2026-03-10 10:00")
        stores = [first, second] * 3
        begun = _together([lambda s=s: begin_send(s.db, "reply:1:form", 1, "reply", "Hi", agent="U1") for s in stores])
        assert [b.outcome for b in begun].count("go") == 1
        assert {b.outcome for b in begun} == {"go", "in_flight"}
        assert first.db.execute("SELECT COUNT(*) FROM replies").fetchone()[0] == 1
    finally:
        first.close()
        second.close()


def test_a_unique_key_taken_is_a_duplicate_and_the_transaction_writes_nothing(fresh_store):
    db = fresh_store.db
    db.execute("INSERT INTO alarms (name, raised_at) VALUES ('poll', 'x')")
    with pytest.raises(DUPLICATE), writing(db):
        db.execute("INSERT INTO reasons (name, position) VALUES ('late', 1)")
        db.execute("INSERT INTO alarms (name, raised_at) VALUES ('poll', 'y')")
    assert db.execute("SELECT COUNT(*) FROM reasons").fetchone()[0] == 0


@on_postgresql
def test_a_writer_held_past_a_requests_wait_is_busy(fresh_store):
    holder = Store(fresh_store.path)
    try:
        held, release, outcome = threading.Event(), threading.Event(), {}

        def hold() -> None:
            with writing(holder.db):
                held.set()
                release.wait(10)

        def request() -> None:
            fresh_store.answer_requests_here()
            try:
                with writing(fresh_store.db):
                    fresh_store.db.execute("INSERT INTO alarms (name, raised_at) VALUES ('x', 'y')")
            except Busy as error:
                outcome["busy"] = error

        holding = threading.Thread(target=hold)
        holding.start()
        assert held.wait(10)
        asking = threading.Thread(target=request)
        asking.start()
        asking.join(10)
        release.set()
        holding.join(10)
        assert "busy" in outcome and "lock timeout" in str(outcome["busy"])
        assert fresh_store.db.execute("SELECT COUNT(*) FROM alarms").fetchone()[0] == 0
    finally:
        holder.close()


@on_postgresql
def test_a_cut_connection_is_busy_once_and_the_next_statement_works_without_a_restart(fresh_store, postgres):
    db = fresh_store.db

    def cut() -> None:  # a failover, as the server sees it
        with psycopg.connect(postgres.admin_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [urlsplit(fresh_store.path).path.strip("/")],
            )

    with pytest.raises(Busy), writing(db):
        db.execute("INSERT INTO alarms (name, raised_at) VALUES ('x', 'y')")
        cut()
        db.execute("INSERT INTO alarms (name, raised_at) VALUES ('z', 'y')")
    assert db.execute("SELECT COUNT(*) FROM alarms").fetchone()[0] == 0, "nothing of the cut transaction"
    cut()  # now an idle pooled connection: the statement that meets it is busy, the next one works
    with pytest.raises(Busy):
        db.execute("SELECT COUNT(*) FROM alarms")
    assert db.execute("SELECT COUNT(*) FROM alarms").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (psycopg.errors.SerializationFailure("x"), Busy),
        (psycopg.errors.LockNotAvailable("x"), Busy),
        (psycopg.errors.AdminShutdown("x"), Busy),
        (psycopg.OperationalError("server closed the connection unexpectedly"), Busy),
        (psycopg.errors.DiskFull("x"), Full),
        (psycopg.errors.InvalidCatalogName("x"), Gone),
        (psycopg.errors.UniqueViolation("x"), Duplicate),
    ],
)
def test_postgresqls_errors_become_storage_errors(error, kind):
    assert type(translated_pg(error)) is kind


def test_a_mistake_in_sql_stays_itself_on_postgresql():
    error = psycopg.errors.UndefinedTable("relation does not exist")
    assert translated_pg(error) is error


def test_sqlites_idioms_are_translated_once_outside_quoted_text():
    assert to_postgresql("SELECT '?', x FROM t WHERE a = ? AND b LIKE '50%'", False) == (
        "SELECT '?', x FROM t WHERE a = %s AND b LIKE '50%%'"
    )
    assert (
        to_postgresql("UPDATE t SET a = :a WHERE b = :b::text", True) == "UPDATE t SET a = %(a)s WHERE b = %(b)s::text"
    )
    assert to_postgresql("INSERT OR IGNORE INTO t (a) VALUES (?)", False) == (
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING"
    )
    assert to_postgresql("SELECT 1 FROM r WHERE name = ? COLLATE NOCASE ORDER BY name COLLATE NOCASE", False) == (
        "SELECT 1 FROM r WHERE lower(name) = lower(%s) ORDER BY lower(name)"
    )


def test_a_database_urls_password_is_never_shown():
    assert shown("postgresql://perch:s3cret@db.example:5432/perch") == "postgresql://perch:***@db.example:5432/perch"
    assert shown("perch.db") == "perch.db"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://perch:s3cret@db/perch", "DATABASE_URL is malformed: it should be postgresql://"),
        ("postgresql://perch:s3cret@db:port/perch", "DATABASE_URL is malformed: Port could not be cast"),
        ("postgresql://perch:s3cret@db:5432", "DATABASE_URL is malformed: it names no database"),
    ],
)
def test_a_malformed_database_url_stops_start_up_with_one_line_without_the_password(url, said, tmp_path):
    result = run_bot({**VALID, "DATABASE_URL": url}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"perch: configuration error: {said}")
    assert "s3cret" not in result.stderr + result.stdout


def test_an_unreachable_database_stops_start_up_with_one_line_without_the_password(tmp_path):
    url = f"postgresql://perch:s3cret@/perch?host={tmp_path}&connect_timeout=2"  # no server listens there
    result = run_bot({**VALID, "DATABASE_URL": url}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect to PostgreSQL" in lines[0], result.stderr
    assert "s3cret" not in result.stderr + result.stdout
