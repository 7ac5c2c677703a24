"""Fixtures: local fake X and Slack servers, and the real bot pointed at them."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest

from bot.app import Runtime, build_runtime
from bot.config import load_settings
from bot.server import http_server, stop_http_server
from fakes.slack_api import FakeSlack
from fakes.slack_requests import block_action_body, signed_post
from fakes.x_api import FakeX
from storage.db import Store
from storage.engine import Database
from tests.engines import ENGINE, PostgresServer, start_postgres
from tests.helpers import QUEUE, SIGNING_SECRET, Clock, add_case, at


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk honours HTTP(S)_PROXY and ignores NO_PROXY: the fakes are local, so clear them."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    """With PERCH_TEST_DATABASE=postgresql, one PostgreSQL server for the run (pgserver's, in a temporary
    folder) and a migrated template database; a server that cannot start fails the run, never skips it."""
    if ENGINE != "postgresql":
        yield None
        return
    # Not under pytest's basetemp: another pytest run on this machine may prune it while this one runs.
    folder = Path(tempfile.mkdtemp(prefix="perch-pg-"))
    try:
        server = start_postgres(folder)
        yield server
        server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database(tmp_path: Path, postgres: PostgresServer | None) -> str:
    """Where this test's database is: a fresh SQLite file, or a fresh PostgreSQL database (a copy of the
    migrated template) when the run is on PostgreSQL."""
    return str(tmp_path / "fresh.db") if postgres is None else postgres.fresh_database()


@pytest.fixture
def fresh_store(database: str) -> Iterator[Store]:
    """An empty Perch database with every migration applied, opened as the bot opens it."""
    store = Store(database)
    yield store
    store.close()


@pytest.fixture
def fresh_db(fresh_store: Store) -> Database:
    """The storage unit tests' database (as sqlite-utils' own tests do it): fresh for each test."""
    return fresh_store.db


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    with FakeX() as server:
        yield server


@pytest.fixture
def fake_slack(request: pytest.FixtureRequest) -> Iterator[FakeSlack]:
    """Slack's stand-in; a test fails if anything the bot sent broke a Block Kit limit (unless it is
    marked `refused_blocks`, for tests that send such payloads on purpose)."""
    with FakeSlack(channels=(QUEUE,)) as server:
        yield server
    if request.node.get_closest_marker("refused_blocks") is None:
        assert server.block_errors == [], "Slack would have refused these"


@pytest.fixture
def bot_env(tmp_path: Path, fake_x: FakeX, fake_slack: FakeSlack, postgres: PostgresServer | None) -> dict[str, str]:
    on_postgres = {} if postgres is None else {"DATABASE_URL": postgres.fresh_database()}
    return on_postgres | {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_APP_TOKEN": "xapp-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_QUEUE_CHANNEL": QUEUE,
        "SLACK_API_URL": fake_slack.url + "/api/",
        "X_API_URL": fake_x.url,
        "X_API_KEY": "key",
        "X_API_SECRET": "secret",
        "X_ACCESS_TOKEN": "token",
        "X_ACCESS_TOKEN_SECRET": "token-secret",
        "DATABASE_PATH": str(tmp_path / "perch.db"),
        "POLL_INTERVAL_SECONDS": "60",
        # The fake enforces no per-channel limit unless a test turns it on (tests/test_surge.py does).
        "SLACK_CHANNEL_POST_INTERVAL_SECONDS": "0",
        "SURGE_THRESHOLD": "0",
    }


@pytest.fixture
def make_bot(bot_env: dict[str, str], fake_x: FakeX):
    """Build the real runtime (jobs not started: tests run them one step at a time). A `Clock` drives
    the bot's ingest and the fake X's sense of time alike (rate-limit windows, search's time rules)."""
    built: list[Runtime] = []

    def make(clock: Clock | None = None, *, http_mode: bool = False, **overrides: str) -> Runtime:
        runtime = build_runtime(load_settings({**bot_env, **overrides}, http_mode=http_mode))
        if clock is not None:
            runtime.ingestor.clock = clock
            runtime.x.clock = clock
            fake_x.clock = clock
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:  # PostgreSQL's pools hold connections and threads: give them back
        runtime.store.close()


@dataclass
class Served:
    """The real bot behind its HTTP endpoint (waitress, signature checks on), jobs run by hand."""

    runtime: Runtime
    url: str

    def send(self, body: str, *, retry_num: int | None = None):
        return signed_post(self.url, SIGNING_SECRET, body, retry_num=retry_num)

    def click(self, action_id: str, user: str, message_ts: str, value: str = "1", **extra: str):
        body = block_action_body(action_id, value, user=user, channel=QUEUE, message_ts=message_ts)
        if extra:
            payload = json.loads(parse_qs(body)["payload"][0])
            payload["actions"][0].update(extra)
            body = urlencode({"payload": json.dumps(payload)})
        return self.send(body)


@pytest.fixture
def serve(make_bot):
    """Start the bot's HTTP endpoint on a free port; returns `Served`."""
    servers = []

    def start(clock: Clock | None = None, **overrides: str) -> Served:
        runtime = make_bot(clock, http_mode=True, **overrides)
        server = http_server(
            runtime.app,
            lambda: {"ok": True},
            host="127.0.0.1",
            port=0,
            signing_secret=SIGNING_SECRET,
            in_flight=runtime.in_flight,
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        return Served(runtime, f"http://127.0.0.1:{server.effective_port}/slack/events")

    yield start
    for server, thread in servers:
        stop_http_server(server, thread)


@pytest.fixture
def fixed_log(fresh_store: Store) -> Store:
    """Five cases of 10–11 March 2026 whose report figures are computed by hand (docs/metrics.md)."""
    store = fresh_store
    db = store.db
    add_case(
        db,
        1,
        "2026-03-10 10:00",
        posted="2026-03-10 10:01",
        claimed="2026-03-10 10:03",
        response="2026-03-10 10:15",
        resolved="2026-03-10 11:00",
        status="resolved",
        assignee="U1",
        resolved_by="U1",
    )
    add_case(
        db,
        2,
        "2026-03-10 10:30",
        posted="2026-03-10 10:31",
        claimed="2026-03-10 10:41",
        response="2026-03-10 12:30",
        status="replied",
        assignee="U2",
    )  # answered on x.com after 2h
    add_case(db, 3, "2026-03-10 11:00", posted="2026-03-10 11:02")  # never answered
    add_case(
        db,
        4,
        "2026-03-10 23:30",
        posted="2026-03-10 23:31",
        claimed="2026-03-10 23:35",
        response="2026-03-10 23:40",
        resolved="2026-03-11 01:00",
        status="resolved",
        assignee="U1",
        resolved_by="U1",
        reopened=1,
    )  # resolved, reopened, resolved again at 01:00
    add_case(db, 5, "2026-03-11 00:10", posted="2026-03-11 00:11")  # 3/10 in New York
    db["replies"].insert_all(
        [
            {
                "case_id": 1,
                "idempotency_key": "a",
                "kind": "reply",
                "source": "perch",
                "status": "sent",
                "text": "x",
                "sent_by": "U1",
                "sent_at": at("2026-03-10 10:15"),
            },
            {
                "case_id": 2,
                "idempotency_key": "b",
                "kind": "reply",
                "source": "x.com",
                "status": "sent",
                "text": "y",
                "sent_at": at("2026-03-10 12:30"),
            },
        ]
    )
    db["escalations"].insert(
        {
            "case_id": 1,
            "location": "JFK",
            "urgency": "normal",
            "note": "",
            "requested_by": "U1",
            "requested_at": at("2026-03-10 10:20"),
            "slack_channel": "C0JFK",
            "slack_ts": "9.9",
            "acknowledged_at": at("2026-03-10 10:25"),
            "resolved_at": at("2026-03-10 10:50"),
            "reminders_sent": 0,
            "message_version": 0,
            "message_synced": 0,
        }
    )
    return store
