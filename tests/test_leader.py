"""The leader's lease and its fence, on one database file, driven by a fixed clock (no process is
started here: tests/test_leader_processes.py runs real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from bot.leader import Leader, exited, holder_id, this_host
from storage.alarms import active_alarms, raise_alarm
from storage.db import Store, to_iso, writing
from storage.errors import LostLease
from storage.lease import JOBS, fenced, read, take
from storage.replies import begin_send
from tests.helpers import cycle, minutes_ago


class FixedClock:
    """The database's clock (ms) and each process's monotonic clock (s), moved only by the test."""

    def __init__(self) -> None:
        self.ms = 1_000_000
        self.mono = 100.0

    def db(self, _db) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)
        self.mono += seconds


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def leader(store: Store, clock: FixedClock, name: str) -> Leader:
    return Leader(store, 15, holder=name, clock=clock.db, monotonic=lambda: clock.mono)


def test_the_lease_is_taken_once_renewed_by_its_holder_and_taken_over_only_after_it_expires(fresh_store):
    db = fresh_store.db
    first = take(db, JOBS, "a", 15, now_ms=1_000)
    assert (first.holder, first.epoch, first.expires_at) == ("a", 1, 16_000)
    assert take(db, JOBS, "b", 15, now_ms=15_999).holder == "a", "not expired yet"
    renewed = take(db, JOBS, "a", 15, now_ms=15_000)
    assert (renewed.holder, renewed.epoch, renewed.expires_at) == ("a", 1, 30_000), "same epoch"
    taken = take(db, JOBS, "b", 15, now_ms=30_000)
    assert (taken.holder, taken.epoch) == ("b", 2)
    assert take(db, JOBS, "a", 15, now_ms=30_001).holder == "b", "the old holder cannot renew it back"


def test_a_dead_holder_named_is_taken_over_before_expiry_and_only_that_holder(fresh_store):
    db = fresh_store.db
    take(db, JOBS, "a", 15, now_ms=1_000)
    assert take(db, JOBS, "b", 15, now_ms=2_000, dead="someone-else").holder == "a"
    assert (lease := take(db, JOBS, "b", 15, now_ms=2_000, dead="a")).holder == "b" and lease.epoch == 2


def test_a_holder_on_this_host_is_exited_only_when_its_pid_is_gone():
    host = this_host()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert exited(f"{host}:{child.pid}:abc")
    assert not exited(f"{host}:{os.getppid()}:abc"), "alive"
    assert not exited(f"another-host:{child.pid}:abc"), "another host's processes cannot be seen"
    assert holder_id().startswith(f"{host}:{os.getpid()}:") and not exited(holder_id())


def test_a_write_fenced_by_a_lost_epoch_is_refused_whichever_way_it_is_written(fresh_store):
    db = fresh_store.db
    take(db, JOBS, "a", 15, now_ms=1_000)
    take(db, JOBS, "b", 15, now_ms=20_000)  # "a" froze; "b" took over
    lost: list[int] = []
    with fenced(JOBS, "a", 1, lost.append):
        with pytest.raises(LostLease), writing(db):
            raise_alarm(db, "in-writing", "x")
        with pytest.raises(LostLease):
            raise_alarm(db, "autocommit", "x")  # sqlite-utils' insert, outside any transaction
        with pytest.raises(LostLease), db.atomic():
            raise_alarm(db, "atomic", "x")
        assert read(db, JOBS).holder == "b", "reads are not fenced"
    assert lost == [1, 1, 1]
    assert active_alarms(db) == {}, "nothing was written"
    with fenced(JOBS, "b", 2):
        raise_alarm(db, "holder", "x")
    raise_alarm(db, "unfenced", "x")  # a Slack request's thread: no fence
    assert set(active_alarms(db)) == {"holder", "unfenced"}


def test_one_leader_runs_the_jobs_and_a_frozen_one_steps_down_without_writing(fresh_store, clock):
    a, b = leader(fresh_store, clock, "a"), leader(fresh_store, clock, "b")
    promoted: list[str] = []
    a.on_promoted = lambda: promoted.append("a")
    b.on_promoted = lambda: promoted.append("b")
    a.renew()
    b.renew()
    assert (a.role, b.role, promoted) == ("leader", "standby", ["a"])
    assert a.run(lambda: "ran") == "ran" and b.run(lambda: "ran") is None

    clock.advance(16)  # "a" is frozen past its lease (its monotonic clock runs on, as CLOCK_MONOTONIC does)
    b.renew()
    assert (b.role, b.epoch, promoted) == ("leader", 2, ["a", "b"])
    assert a.role == "standby", "past its own deadline, it does not claim to lead"

    a._valid_until = clock.mono + 10  # as if it had not noticed yet: its job starts, its write is refused
    assert a.run(lambda: raise_alarm(fresh_store.db, "stale", "x") or "wrote") is None
    assert a.role == "standby" and active_alarms(fresh_store.db) == {}
    assert b.run(lambda: raise_alarm(fresh_store.db, "fresh", "x") or "wrote") == "wrote"
    a.renew()
    assert a.role == "standby" and promoted == ["a", "b"]


def test_a_leader_that_stops_gives_the_lease_up_for_the_next_renewal(fresh_store, clock):
    a, b = leader(fresh_store, clock, "a"), leader(fresh_store, clock, "b")
    a.renew()
    b.renew()
    a.stop()
    b.renew()  # at once, no expiry waited for
    assert (a.role, b.role, b.epoch) == ("standby", "leader", 2)


def test_a_job_run_by_the_guard_when_the_database_says_another_leads_is_skipped(fresh_store, clock):
    a = leader(fresh_store, clock, "a")
    a.renew()
    take(fresh_store.db, JOBS, "b", 15, now_ms=clock.ms, dead="a")  # "a" does not know yet
    ran: list[str] = []
    assert a.run(lambda: ran.append("job")) is None
    assert ran == [] and a.role == "standby"


def snapshot(db) -> dict[str, list]:
    """Every row of every table, on either engine: what a test compares before and after."""
    return {name: db.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall() for name in sorted(db.table_names())}


def test_a_woken_leader_s_jobs_write_nothing_and_send_nothing(make_bot, fake_x, fake_slack):
    """Work waits for every kind of job write (a mention on X, a case without its card, a send a crash
    left unconfirmed); run under an epoch that is no longer the lease's, the jobs may read but every
    write is refused, so no card is posted, nothing is sent to X and the database is as it was."""
    first = fake_x.add_tweet("@Delta my bag did not arrive", "bag_lady", created_at=minutes_ago(10))
    bot = make_bot()
    cycle(bot)  # a case and its card, unfenced (as a single process did before it froze)
    fake_x.add_tweet("@Delta still waiting", "bag_lady_2", created_at=minutes_ago(5))
    bot.ingestor.run()  # a second case, waiting for its card
    fake_x.add_tweet("@Delta hello?", "third", created_at=minutes_ago(4))  # not read yet
    db = bot.store.db
    begin_send(db, "view:V1", 1, "reply", "@bag_lady Found it", agent="U0A", agent_name="a", in_reply_to=first)
    long_ago = to_iso(datetime.now(UTC) - timedelta(minutes=2))
    db.execute("UPDATE replies SET attempted_at = ?, created_at = ?", [long_ago, long_ago])
    take(db, JOBS, "frozen", 15, now_ms=1_000)
    take(db, JOBS, "new", 15, now_ms=1_000, dead="frozen")  # the new leader, epoch 2
    before = snapshot(db)
    cards = len(fake_slack.top_level())

    with fenced(JOBS, "frozen", 1):
        for job in (bot.ingestor.run, bot.poster.run, bot.services.outbox.reconcile, bot.reminders.run, bot.bulk.run):
            try:
                job()
            except LostLease:
                continue
    assert snapshot(db) == before
    assert len(fake_slack.top_level()) == cards == 1
    assert fake_x.requests_to(r"^/2/tweets$") == []
    assert len(fake_x.requests_to(r"/mentions$")) >= 2, "the woken ingest did read X (reads are not fenced)"
