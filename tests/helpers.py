"""What the tests share: the queue channel and signing secret the fixtures use, a clock the tests
move by hand, waiting for what another thread does, and one scheduler cycle. Fixtures are in
`conftest.py`; import these from here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.db import to_iso

QUEUE = "C0QUEUE"
SIGNING_SECRET = "test-signing-secret"


@dataclass
class Clock:
    """A clock the tests move by hand; the ingest job's pauses and back-offs read it."""

    now: float

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def minutes_ago(minutes: float) -> datetime:
    """A moment relative to the real clock, for a tweet the bot reads with its real clock. Whatever
    depends on the date or the hour (today, a UTC day, a month) takes `NOW` and a `Clock` at it instead."""
    return datetime.now(UTC) - timedelta(minutes=minutes)


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Poll for something another thread or process does; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def cycle(runtime: Any, times: int = 1) -> None:
    """What the scheduler does: an ingest run, then a post run."""
    for _ in range(times):
        runtime.ingestor.run()
        runtime.poster.run()


NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # the fixed clock: noon, so "today" holds hours either side


def at(text: str) -> str:
    return to_iso(datetime.fromisoformat(text).replace(tzinfo=UTC))


def _columns(db, table: str) -> list[str]:
    """A table's columns, on either engine (an older schema lacks the newer ones)."""
    return [column[0] for column in db.execute(f"SELECT * FROM {table} LIMIT 0").description]


def add_case(
    db,
    case_id: int,
    tweeted: str,
    *,
    posted=None,
    claimed=None,
    response=None,
    resolved=None,
    status="new",
    assignee=None,
    resolved_by=None,
    reopened=0,
) -> None:
    tweet_id = str(1_000 + case_id)
    db["tweets"].insert(
        {
            "id": tweet_id,
            "author_id": f"9{case_id}",
            "author_handle": f"cust{case_id}",
            "author_name": "C",
            "text": "@Brand help",
            "created_at": at(tweeted),
            "conversation_id": tweet_id,
            "source": "mentions",
            "case_id": case_id,
        }
    )
    db["cases"].insert(
        {
            "id": case_id,
            "tweet_id": tweet_id,
            "author_id": f"9{case_id}",
            "conversation_id": tweet_id,
            "status": status,
            "assignee": assignee,
            "tweet_created_at": at(tweeted),
            "opened_at": at(tweeted),
            "posted_at": posted and at(posted),
            "claimed_at": claimed and at(claimed),
            "first_response_at": response and at(response),
            "resolved_at": resolved and at(resolved),
            "resolved_by": resolved_by,
            "reopened_count": reopened,
            "slack_ts": f"{case_id}.1",
            "slack_channel": QUEUE,
            **({"routed_at": at(tweeted)} if "routed_at" in _columns(db, "cases") else {}),  # migration 22
        }
    )


def pushed_view(response: Any, over: dict[str, Any], view_id: str = "V0PUSHED") -> dict[str, Any]:
    """The view a submission's answer pushes over the modal `over`, checked as Slack checks it (and
    drawn, as the fake Slack draws what it is sent); given an id and its root's, as Slack gives them."""
    from fakes.block_kit import check_view
    from fakes.slack_render import drawing_problem

    answer = response.json()
    assert answer.get("response_action") == "push", answer
    view = answer["view"]
    assert check_view(view) is None, check_view(view)
    assert drawing_problem(view["blocks"]) is None
    root = over.get("root_view_id") or over["id"]
    return {**view, "id": view_id, "root_view_id": root, "previous_view_id": over["id"]}
