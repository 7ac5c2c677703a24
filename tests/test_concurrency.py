"""Acknowledging a click never waits behind anyone's follow-up work, even with Slack answering slowly."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from fakes.slack_requests import signed_post
from tests.helpers import QUEUE, SIGNING_SECRET, cycle, minutes_ago, wait_until

CLICKS = 40


def test_forty_clicks_are_all_acknowledged_while_slack_is_stuck(serve, fake_x, fake_slack):
    for n in range(CLICKS):
        fake_x.add_tweet(f"@Delta help with booking {n}", f"busy{n}", created_at=minutes_ago(30 - n * 0.1))
    served = serve()
    cycle(served.runtime)
    cards = fake_slack.top_level(QUEUE)
    assert len(cards) == CLICKS
    # One request first, so Bolt's one-time auth.test is behind us (it is not what this test is about).
    warm_up = signed_post(served.url, SIGNING_SECRET, home_opened("U0WARMUP"), content_type="application/json")
    assert warm_up.status_code == 200
    wait_until(lambda: "U0WARMUP" in fake_slack.homes)
    slack_stuck = threading.Event()
    for method in ("chat\\.update", "chat\\.postEphemeral", "views\\.open", "chat\\.postMessage"):
        fake_slack.script(method + "$", mode="slow", hold=slack_stuck, times=CLICKS * 2)
    half = CLICKS // 2
    clicks = [("claim" if n < half else "reply", f"U0AGENT{n}", card) for n, card in enumerate(cards)]
    barrier = threading.Barrier(CLICKS)

    def click(action_id: str, user: str, card) -> int:
        barrier.wait()
        case_id = str(card.metadata["event_payload"]["case_id"])
        return served.click(action_id, user, card.ts, value=case_id).status_code

    try:
        with ThreadPoolExecutor(max_workers=CLICKS) as pool:
            statuses = list(pool.map(lambda c: click(*c), clicks))
        assert statuses == [200] * CLICKS, "every click acknowledged"
        assert not slack_stuck.is_set(), "…while every follow-up call to Slack was still waiting"
    finally:
        slack_stuck.set()
    db = served.runtime.store.db
    wait_until(lambda: db.execute("SELECT COUNT(*) FROM cases WHERE assignee IS NOT NULL").fetchone()[0] == half)
    wait_until(lambda: len(fake_slack.views) == CLICKS - half)  # every Reply modal opened, once Slack answered


def home_opened(user: str) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0PERCH",
            "api_app_id": "A0PERCH",
            "event_id": "Ev0WARM",
            "event_time": 1,
            "event": {"type": "app_home_opened", "user": user, "channel": "D0WARM", "tab": "home", "event_ts": "1.1"},
        }
    )
