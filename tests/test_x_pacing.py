"""Polling paced by X's own rate-limit headers: fast by default, never a 429, stretched on a tighter plan."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers import Clock

MENTION_POLLS = r"/2/users/\d+/mentions$"


def run_for(runtime, fake_x, clock: Clock, seconds: int, *, arrivals: dict[int, str] | None = None) -> dict:
    """A 1 s tick (coarser than the scheduler's) over `seconds` of driven time; returns when each arrival was stored."""
    stored_at: dict[str, float] = {}
    for second in range(seconds):
        if arrivals and second in arrivals:
            arrivals[second] = fake_x.add_tweet(
                f"@Delta help at second {second}", f"cust{second}", created_at=datetime.fromtimestamp(clock.now, UTC)
            )
        runtime.ingestor.run()
        for tweet_id in (arrivals or {}).values():
            if tweet_id and tweet_id not in stored_at and runtime.store.db["tweets"].count_where("id = ?", [tweet_id]):
                stored_at[tweet_id] = clock.now
        clock.advance(1)
    return stored_at


def mention_poll_times(fake_x, clock: Clock) -> list[float]:
    """The driven clock's time of every mention poll from now on (filled as X answers them)."""
    times: list[float] = []
    original = fake_x.finish

    def note(request, response):
        if "/mentions" in request.path:
            times.append(clock.now)
        return original(request, response)

    fake_x.finish = note
    return times


def busiest_window(times: list[float]) -> int:
    return max((sum(1 for t in times if start <= t < start + 900) for start in times), default=0)


def test_by_default_mentions_are_polled_as_often_as_x_allows_and_never_meet_a_429(make_bot, fake_x, fake_slack):
    fake_x.endpoint_limits.update({"users/mentions": 300, "users/tweets": 900})
    clock = Clock(datetime.now(UTC).timestamp())
    runtime = make_bot(clock, POLL_INTERVAL_SECONDS="")  # unset: X's headers pace each source
    times = mention_poll_times(fake_x, clock)
    arrivals = {600: "", 777: "", 1001: ""}
    stored = run_for(runtime, fake_x, clock, 1200, arrivals=arrivals)
    answers = fake_x.requests_to(MENTION_POLLS)
    assert answers and all(r.response is not None and r.response.status == 200 for r in answers)
    assert 250 <= busiest_window(times) <= 300, busiest_window(times)
    print(f"mention polls in the busiest 15 min: {busiest_window(times)} of 300")
    lags = [stored[tweet_id] - (clock.now - 1200 + second) for second, tweet_id in arrivals.items()]
    assert all(lag <= 4 for lag in lags), lags  # seconds from visible on X to stored
    print(f"visible on X → stored: {lags}")


def test_a_tighter_plan_stretches_the_interval(make_bot, fake_x, fake_slack):
    fake_x.endpoint_limits["users/mentions"] = 15  # an older tier: 15 mention reads per 15 minutes
    clock = Clock(datetime.now(UTC).timestamp())
    runtime = make_bot(clock, POLL_INTERVAL_SECONDS="")
    times = mention_poll_times(fake_x, clock)
    run_for(runtime, fake_x, clock, 1800)
    answers = fake_x.requests_to(MENTION_POLLS)
    assert all(r.response is not None and r.response.status == 200 for r in answers)
    assert 12 <= busiest_window(times) <= 15, busiest_window(times)


def test_the_ingest_tick_is_the_set_interval_or_one_second(make_bot):
    def ingest_seconds(**env: str) -> float:
        runtime = make_bot(**env)
        return runtime.scheduler.get_job("ingest").trigger.interval.total_seconds()

    assert ingest_seconds(POLL_INTERVAL_SECONDS="7") == 7  # a floor: the headers may stretch a source further
    assert ingest_seconds(POLL_INTERVAL_SECONDS="") == 0.5  # unset: twice a second, each source paced by X
