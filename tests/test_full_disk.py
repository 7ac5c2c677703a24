"""The disk under the database fills up while agents work: the person who clicked is told, nothing is
half-done, and once there is room again the same click works. The database lives on a small file
system of its own (tmpfs, 4 MB) that the test fills; where one cannot be mounted the test is skipped."""

from __future__ import annotations

import errno
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.slack_requests import view_submission_body
from tests.engines import sqlite_only
from tests.helpers import cycle, minutes_ago, wait_until

# A full disk under the SQLite file (PostgreSQL's disk is its server's): SQLite's own.
pytestmark = sqlite_only


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"cannot mount a small file system here: {error}")
    if done.returncode:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()[:200]}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=10)


def fill(directory: Path) -> Path:
    """Write a file until the file system has no room left; returns it (delete it to make room)."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC
                break
        while True:  # the last few bytes too
            try:
                out.write(b"\0" * 512)
            except OSError:
                break
    return filler


@pytest.fixture
def carded_on_small_disk(serve, small_disk, fake_x, fake_slack):
    """One customer's tweet carded by a bot whose database is on the small disk; returns (served, card)."""
    fake_x.add_tweet("@Delta my bag did not arrive at JFK", "bag_lady", created_at=minutes_ago(10))
    served = serve(DATABASE_PATH=str(small_disk / "perch.db"))
    cycle(served.runtime)
    (card,) = fake_slack.top_level()
    return served, card


def fill_up(small_disk: Path) -> Path:
    """Start the write-ahead log afresh (so the next write must grow a file), then fill the disk."""
    with sqlite3.connect(small_disk / "perch.db") as other:
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return fill(small_disk)


def test_a_full_disk_during_a_claim_is_said_and_nothing_is_half_done(carded_on_small_disk, small_disk, fake_slack):
    served, card = carded_on_small_disk
    filler = fill_up(small_disk)

    assert served.click("claim", "U0AGENT", card.ts).status_code == 200  # acknowledged at once
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    assert fake_slack.ephemerals_to("U0AGENT") == [
        "Perch's database is busy or full right now, so that did not happen. Try again in a minute."
    ]
    db = served.runtime.store.db
    case = db["cases"].get(1)
    assert case["status"] == "new" and case["assignee"] is None and case["claimed_at"] is None
    assert db.execute("SELECT COUNT(*) FROM events WHERE kind = 'claimed'").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM holds").fetchone()[0] == 0
    assert "has it" not in str(fake_slack.top_level()[0].blocks), "the card does not say it was claimed"

    filler.unlink()
    assert served.click("claim", "U0AGENT", card.ts).status_code == 200
    wait_until(lambda: "<@U0AGENT> has it" in str(fake_slack.top_level()[0].blocks))
    assert db["cases"].get(1)["assignee"] == "U0AGENT"
    assert len(fake_slack.ephemerals_to("U0AGENT")) == 1, "told once, about the click that failed"


def test_a_reply_submitted_on_a_full_disk_is_refused_on_its_field_and_never_reaches_x(
    carded_on_small_disk, small_disk, fake_x, fake_slack
):
    served, card = carded_on_small_disk
    assert served.click("reply", "U0AGENT", card.ts).status_code == 200
    wait_until(lambda: fake_slack.views)
    filler = fill_up(small_disk)
    answer = served.send(
        view_submission_body(fake_slack.views[-1], {"reply_text_0": "@bag_lady So sorry"}, user="U0AGENT")
    )
    assert answer.status_code == 200
    assert "database is busy or full" in answer.json()["errors"]["reply_text_0"]
    assert fake_x.posted == [], "nothing went to X: the reply is written down before it is sent"
    assert served.runtime.store.db["replies"].count == 0

    filler.unlink()
    answer = served.send(
        view_submission_body(fake_slack.views[-1], {"reply_text_0": "@bag_lady So sorry"}, user="U0AGENT")
    )
    assert answer.status_code == 200 and not answer.text.strip(), "the modal closes: sent"
    assert [post["text"] for post in fake_x.posted] == ["@bag_lady So sorry"]
