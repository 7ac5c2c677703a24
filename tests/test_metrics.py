"""`GET /metrics` (Prometheus' text format), `/healthz`'s role and engine, and JSON log lines."""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import threading

import requests
from prometheus_client.parser import text_string_to_metric_families

from bot.cli import health
from bot.logs import formatter
from bot.server import http_server, stop_http_server
from storage.errors import translated
from tests.engines import ENGINE
from tests.helpers import minutes_ago, wait_until


def scraped(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, its labels) → value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_are_served_in_prometheus_text_format_and_count_what_happened(make_bot, fake_x, fake_slack):
    posted_at = minutes_ago(3)
    tweet = fake_x.add_tweet("@Delta my bag did not arrive", "bag_lady", created_at=posted_at)
    runtime = make_bot()
    runtime.observer.clock = lambda: posted_at.timestamp() + 180  # scraped three minutes after the post
    server = http_server(
        runtime.app, lambda: health(runtime), host="127.0.0.1", port=0, metrics=runtime.observer.exposition
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"
    try:
        before = scraped(requests.get(url + "/metrics", timeout=5).text)
        assert before[("perch_role", (("role", "standby"),))] == 1 and before[("perch_lease_epoch", ())] == 0
        runtime.leader.renew()
        workers = runtime.observer.observed.workers
        workers()  # one ingest tick: each source polled in its own thread, as the leader
        wait_until(lambda: workers.polls["mentions", "ok"] == 1)
        fake_slack.script(r"chat\.postMessage$", status=429, headers={"Retry-After": "0"})
        translated(sqlite3.OperationalError("database is locked"))
        waiting = scraped(requests.get(url + "/metrics", timeout=5).text)
        runtime.poster.run()
        runtime.services.outbox.reply(1, tweet, "@bag_lady On it!", key="view:V1", agent="U0A", agent_name="a")
        response = requests.get(url + "/metrics", timeout=5)
    finally:
        stop_http_server(server, thread)
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    after = scraped(response.text)
    assert after[("perch_role", (("role", "leader"),))] == 1 and after[("perch_lease_epoch", ())] == 1
    assert after[("perch_polls_total", (("outcome", "ok"), ("source", "mentions")))] == 1
    assert waiting[("perch_cards_waiting", ())] == 1 and after[("perch_cards_waiting", ())] == 0
    assert abs(after[("perch_source_newest_post_age_seconds", (("source", "mentions"),))] - 180) < 1
    assert after[("perch_sends_total", (("outcome", "sent"),))] == 1
    assert after[("perch_slack_rate_limited_total", ())] == before[("perch_slack_rate_limited_total", ())] + 1
    busy = ("perch_database_errors_total", (("kind", "Busy"),))
    assert after[busy] == before.get(busy, 0) + 1
    assert any(name == "perch_x_rate_limit_remaining" and value >= 0 for (name, _), value in after.items())
    assert len(fake_slack.top_level()) == 1, "the card, posted once after the 429"


def test_each_runtime_has_its_own_registry_and_healthz_says_role_and_engine(make_bot):
    first, second = make_bot(), make_bot()
    first.leader.renew()
    second.leader.renew()
    assert b"perch_role" in first.observer.exposition() and b"perch_role" in second.observer.exposition()
    assert first.observer.registry is not second.observer.registry
    assert {key: health(first)[key] for key in ("role", "database")} == {
        "role": "leader",
        "database": ENGINE,  # the engine the suite runs on: sqlite, or postgresql
    }
    assert health(second)["role"] == "standby"


def test_json_log_lines_are_one_object_each_with_the_exception(capsys):
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter("json"))
    logger = logging.getLogger("perch.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("Polling %s failed", "mentions")
        try:
            raise ValueError("bad")
        except ValueError:
            logger.exception("It broke")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["level"], line["logger"], line["message"]) for line in lines] == [
        ("WARNING", "perch.test.json", "Polling mentions failed"),
        ("ERROR", "perch.test.json", "It broke"),
    ]
    assert "exception" not in lines[0] and "ValueError: bad" in lines[1]["exception"]
    assert lines[0]["time"].endswith("+00:00")


def test_a_failed_poll_is_counted_by_x_s_error_kind(make_bot, fake_x):
    fake_x.script(r"/mentions$", status=503)
    runtime = make_bot()
    runtime.leader.renew()
    workers = runtime.observer.observed.workers
    workers()
    wait_until(lambda: workers.polls["mentions", "unavailable"] == 1)
    assert ("mentions", "ok") not in workers.polls
    assert b'perch_polls_total{outcome="unavailable",source="mentions"} 1.0' in runtime.observer.exposition()
