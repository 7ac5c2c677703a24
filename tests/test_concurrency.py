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


def test_a_listeners_follow_up_work_waits_until_the_requests_in_flight_are_answered():
    """ack() from a listener's thread returns (and its follow-up work begins) only once no request is
    still waiting for its answer; from the request's own thread (Bolt acknowledging an event) it never
    waits; and a steady stream of requests holds a follow-up back for a bounded time only."""
    from bot.acks import FOLLOW_UP_WAIT, AckFirst, RequestsInFlight

    in_flight = RequestsInFlight()
    order: list[str] = []
    answering = in_flight.answering()
    answering.__enter__()  # a request is being answered
    ack = AckFirst(in_flight)  # made in the request's thread, as the middleware makes it
    ack()  # Bolt's own ack in the request's thread: no wait (it would wait for itself)
    assert ack.response is not None and ack.response.status == 200

    listener = threading.Thread(target=lambda: (ack(), order.append("follow-up")))
    listener.start()
    listener.join(0.2)
    assert order == [], "the follow-up waits while the request is unanswered"
    order.append("answered")
    answering.__exit__(None, None, None)
    listener.join(5)
    assert order == ["answered", "follow-up"]

    with in_flight.answering():  # a request that is never answered: the follow-up goes ahead anyway
        stuck = threading.Thread(target=ack)
        stuck.start()
        stuck.join(FOLLOW_UP_WAIT + 5)
        assert not stuck.is_alive()
