"""Acknowledging a click never waits behind anyone's follow-up work, even with Slack answering slowly."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.helpers import QUEUE, cycle, minutes_ago, wait_until

CLICKS = 40


def test_forty_clicks_are_all_acknowledged_while_slack_is_stuck(serve, fake_x, fake_slack):
    for n in range(CLICKS):
        fake_x.add_tweet(f"@Delta help with booking {n}", f"busy{n}", created_at=minutes_ago(30 - n * 0.1))
    served = serve()
    cycle(served.runtime)
    cards = fake_slack.top_level(QUEUE)
    assert len(cards) == CLICKS
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
