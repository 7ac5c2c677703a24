"""X spend: what Perch reads and sends, counted as X bills it, priced, forecast, and held to a budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.spend import Prices, cost, forecast
from bot.jobs.health import HealthMonitor
from fakes.slack_requests import slash_command_body
from storage.usage import OWNED_READ, POST_READ, Usage, usage_between
from tests.helpers import NOW, QUEUE, Clock, cycle, minutes_ago

LATER = 600.0  # seconds: long past POLL_OVERLAP_SECONDS, so the posts' time slice is due


def today(clock: Clock) -> str:
    return datetime.fromtimestamp(clock.now, UTC).strftime("%Y-%m-%d")


def test_reads_are_counted_once_per_item_per_utc_day(make_bot, fake_x, fake_slack):
    """At noon (a fixed clock): the slice read ten minutes on is the same UTC day whatever the hour of the run."""
    for n in range(5):  # read by the fast poll, then again by the time slice that covers them
        fake_x.add_tweet(f"@Delta help {n}", f"cust{n}", created_at=NOW - timedelta(minutes=0.3 - n * 0.01))
    clock = Clock(NOW.timestamp())
    runtime = make_bot(clock, X_SEARCH_QUERIES="Delta luggage")
    fake_x.add_tweet("Delta luggage lost again", "bystander", created_at=NOW - timedelta(minutes=0.2))
    cycle(runtime)
    clock.advance(LATER)
    cycle(runtime)  # their time slice reads the same posts again: X bills them once today
    assert today(clock) == "2026-03-20"
    usage = usage_between(runtime.store.db, today(clock), today(clock))
    assert usage.reads == {OWNED_READ: 5, POST_READ: 1}  # five mentions, one search hit, each once
    returned = sum(len((r.response.body or {}).get("data") or []) for r in fake_x.requests_to(r"/mentions$"))
    assert returned == 10, "X returned each mention twice; the bill counts it once"


def test_the_search_hit_is_priced_as_another_post_and_sends_by_request():
    usage = Usage(reads={OWNED_READ: 1000, POST_READ: 100, "dm_read": 10}, posts=20, posts_with_link=1, dms=3)
    assert round(cost(usage, Prices()), 3) == round(1.0 + 0.5 + 0.1 + 0.3 + 0.2 + 0.045, 3)
    assert forecast(10.0, datetime(2026, 4, 16, tzinfo=UTC)) == 20.0  # half of April gone


def test_status_shows_the_month_s_spend_and_forecast(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta hi", "greeter", created_at=minutes_ago(1))
    served = serve()
    cycle(served.runtime)
    text = served.send(slash_command_body("status", user="U0AGENT", channel=QUEUE)).json()["text"]
    assert "X spend this month (estimate): $0.00" in text and "by month end" in text


def test_the_budget_warns_at_80_percent_and_at_100_pauses_searches(make_bot, fake_x, fake_slack):
    """On a fixed clock: the reads and the month they are budgeted in are one month at any hour of the run."""
    for n in range(8):
        fake_x.add_tweet(f"@Delta help {n}", f"cust{n}", created_at=NOW - timedelta(minutes=3 - n * 0.1))
    clock = Clock(NOW.timestamp())
    runtime = make_bot(clock, X_SEARCH_QUERIES="Delta")  # 8 mentions read: $0.008, 8 search hits: $0.04
    health = HealthMonitor(
        runtime.store,
        runtime.slack,
        QUEUE,
        runtime.ingestor,
        no_poll_minutes=15,
        no_mentions_hours=24,
        budget=0.06,
        now=lambda: datetime.fromtimestamp(clock.now, UTC),
    )
    cycle(runtime)
    assert set(health.run()) == {"x_budget_80"}
    assert runtime.ingestor.over_budget is False
    health.budget = 0.04
    assert set(health.run()) == {"x_budget"}
    assert runtime.ingestor.over_budget is True
    searches = len(fake_x.requests_to(r"/search/recent$"))
    clock.advance(LATER)
    cycle(runtime)
    assert len(fake_x.requests_to(r"/search/recent$")) == searches, "searches paused"
    assert "start_time" not in fake_x.requests_to(r"/mentions$")[-1].query, "no time slice either"
    alarms = [m.text for m in fake_slack.top_level(QUEUE) if "Perch:" in m.text or "Resolved" in m.text]
    assert any("X_MONTHLY_BUDGET_USD" in text and "paused" in text for text in alarms)
