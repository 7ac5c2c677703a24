"""`python -m bot backup FILE`: a consistent copy of the running database, and a restore from it that
neither loses nor repeats anything."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from storage.backup import BackupError, backup
from storage.db import Store
from tests.engines import sqlite_only
from tests.helpers import cycle, minutes_ago, wait_until

# The backup command copies a SQLite file with SQLite's online backup API: SQLite's own.
pytestmark = sqlite_only

ROOT = Path(__file__).resolve().parent.parent
BATCH = 10  # cases each writer transaction adds: a consistent copy holds a whole number of them


@pytest.mark.parametrize("pages_per_step", [-1, 1])  # Perch's one step; a page at a time, writes interleaving
def test_a_copy_taken_while_perch_writes_holds_whole_transactions_only(tmp_path, pages_per_step):
    source = str(tmp_path / "perch.db")
    db = Store(source).db
    rows = [(f"c{n}", "new", "2026-03-01T10:00:00.000Z") for n in range(2_000)]
    db.conn.executemany("INSERT INTO cases (author_id, status, tweet_created_at) VALUES (?, ?, ?)", rows)
    stop = threading.Event()
    written = []

    def writer() -> None:
        own = Store(source).db
        while not stop.is_set():
            with own.conn:
                own.conn.execute("BEGIN IMMEDIATE")
                own.conn.executemany(
                    "INSERT INTO cases (author_id, status, tweet_created_at) VALUES (?, 'new', '2026-03-02T10:00:00Z')",
                    [(f"w{len(written)}",)] * BATCH,
                )
            written.append(BATCH)

    thread = threading.Thread(target=writer)
    thread.start()
    wait_until(lambda: written)  # the writer is writing before the copy starts
    try:
        done = backup(source, str(tmp_path / "copy.db"), pages_per_step=pages_per_step)
    finally:
        stop.set()
        thread.join()
    assert written, "the writer wrote while the copy was made"
    assert done.cases >= 2_000 and (done.cases - 2_000) % BATCH == 0
    with sqlite3.connect(done.path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == done.cases


@pytest.mark.parametrize(
    ("make_source", "destination", "problem"),
    [
        (lambda tmp: str(tmp / "missing.db"), "copy.db", "there is no database"),
        (lambda tmp: str(tmp / "perch.db"), "perch.db", "would overwrite the database itself"),
        (lambda tmp: str(tmp / "perch.db"), "no/such/folder/copy.db", "there is no folder"),
    ],
)
def test_a_backup_that_cannot_be_made_says_why_and_leaves_the_old_one(tmp_path, make_source, destination, problem):
    Store(str(tmp_path / "perch.db"))
    previous = tmp_path / "copy.db"
    previous.write_bytes(b"yesterday's backup")
    with pytest.raises(BackupError, match=problem):
        backup(make_source(tmp_path), str(tmp_path / destination))
    assert previous.read_bytes() == b"yesterday's backup"
    assert not list(tmp_path.glob("*.partial"))


def test_restoring_a_backup_taken_from_the_command_line_loses_and_repeats_nothing(
    make_bot, bot_env, fake_x, fake_slack, tmp_path
):
    for n in range(3):
        fake_x.add_tweet(f"@Delta my bag number {n} is lost", f"bags{n}", created_at=minutes_ago(5 - n))
    runtime = make_bot()
    cycle(runtime)
    assert len(fake_slack.top_level()) == 3
    saved = tmp_path / "backups" / "perch-backup.db"
    saved.parent.mkdir()
    env = {**os.environ, "DATABASE_PATH": bot_env["DATABASE_PATH"], "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(saved)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "3 cases" in done.stdout
    runtime.scheduler.shutdown(wait=False) if runtime.scheduler.running else None

    restored = tmp_path / "restored" / "perch.db"  # the machine is lost: a new one starts from the backup
    restored.parent.mkdir()
    shutil.copyfile(saved, restored)
    fake_x.add_tweet("@Delta and now my flight is delayed", "late_lou", created_at=minutes_ago(1))
    again = make_bot(DATABASE_PATH=str(restored))
    cycle(again, times=2)
    posted = [m.metadata["event_payload"]["tweet_id"] for m in fake_slack.top_level()]
    assert len(posted) == 4 and len(set(posted)) == 4  # the three cards not repeated, the new one once
