"""Posts X indexes late, with an id lower than ones already seen: the fast polls (`since_id`) never see
them, the contiguous slices of time do, within POLL_OVERLAP_SECONDS + 15 s of X showing them, and each
post is still read about twice. A driven clock at a fixed noon; the fake X shows a post from `visible_at`."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from fakes.server import Response
from storage.usage import OWNED_READ, usage_between
from tests.helpers import NOW, Clock

OVERLAP = 30.0  # POLL_OVERLAP_SECONDS at its default, as the tests run
LIMITS_2026 = {"users/mentions": 300, "users/tweets": 900}


@dataclass
class Read:
    """One answered mentions request: when (driven time), what was asked, what X returned."""

    at: float
    query: dict[str, str]
    returned: list[str]
    status: int
    remaining: int  # X's `x-rate-limit-remaining` after it

    @property
    def is_slice(self) -> bool:
        return "end_time" in self.query

    def covers(self, created: float) -> bool:
        return _seconds(self.query["start_time"]) <= created < _seconds(self.query["end_time"])


def moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _seconds(x_time: str) -> float:
    return datetime.fromisoformat(x_time.replace("Z", "+00:00")).timestamp()


def watch_mentions(fake_x, clock: Clock) -> list[Read]:
    """Every mentions request from now on, as X answers it."""
    reads: list[Read] = []
    original = fake_x.finish

    def note(request, response):
        response = original(request, response)
        if request.path.endswith("/mentions"):
            body = response.body if isinstance(response.body, dict) else {}
            returned = [t["id"] for t in body.get("data") or []]
            left = int(response.headers.get("x-rate-limit-remaining", "-1"))
            reads.append(Read(clock.now, dict(request.query), returned, response.status, left))
        return response

    fake_x.finish = note
    return reads


def drive(bot, clock: Clock, seconds: float, *, step: float = 1.0, until: Callable[[], bool] | None = None) -> float:
    """Run the ingest job every `step` driven seconds; returns the driven time `until` first held."""
    end = clock.now + seconds
    while clock.now < end:
        bot.ingestor.run()
        if until is not None and until():
            return clock.now
        clock.advance(step)
    assert until is None, "never happened"
    return clock.now


def stored(bot, tweet_id: str) -> bool:
    return bool(bot.store.db["tweets"].count_where("id = ?", [tweet_id]))


def assert_contiguous(reads: list[Read]) -> None:
    """The slices read whole follow one another with no gap: nothing was skipped."""
    whole = [r for r in reads if r.is_slice and r.status == 200 and "pagination_token" not in r.query]
    assert len(whole) >= 2
    for before, after in zip(whole, whole[1:], strict=False):
        assert after.query["start_time"] == before.query["end_time"], (before.query, after.query)


def bot_at_noon(make_bot, fake_x) -> tuple[object, Clock]:
    fake_x.endpoint_limits.update(LIMITS_2026)
    clock = Clock(NOW.timestamp())
    return make_bot(clock, POLL_INTERVAL_SECONDS="", X_READ_DMS="false"), clock


@pytest.mark.parametrize("late_by", [5, 20, 30])
def test_a_late_indexed_mention_is_found_by_the_first_slice_after_x_shows_it(make_bot, fake_x, fake_slack, late_by):
    bot, clock = bot_at_noon(make_bot, fake_x)
    fake_x.add_tweet("@Delta earlier today", "early_bird", created_at=moment(clock.now - 600))
    reads = watch_mentions(fake_x, clock)
    drive(bot, clock, 45)  # the catch-up, fast polls, a first slice
    created = clock.now
    late = fake_x.add_tweet(
        "@Delta my bag never arrived", "late_one", created_at=moment(created), visible_at=moment(created + late_by)
    )
    clock.advance(1)
    newer = fake_x.add_tweet("@Delta the lounge is full", "lounge", created_at=moment(clock.now))
    found_at = drive(bot, clock, 120, until=lambda: stored(bot, late))
    assert int(late) < int(newer) and stored(bot, newer)
    assert found_at - (created + late_by) <= OVERLAP + 15, found_at - (created + late_by)
    fast = [r for r in reads if "since_id" in r.query]
    assert newer in {t for r in fast for t in r.returned}
    assert all(late not in r.returned for r in fast), "a fast poll never sees it: its id is lower than the cursor's"
    covering = [r for r in reads if r.is_slice and r.covers(created)]
    assert len(covering) == 1 and late in covering[0].returned and covering[0].at >= created + late_by
    assert_contiguous(reads)
    bot.poster.run()
    cards = [m.metadata["event_payload"]["tweet_id"] for m in fake_slack.top_level()]
    assert cards.count(late) == 1


def test_each_post_is_read_about_twice_over_a_simulated_stretch(make_bot, fake_x, fake_slack):
    """Every fifth mention indexed 5–30 s late; X bills each post once a UTC day, Perch counts it once."""
    bot, clock = bot_at_noon(make_bot, fake_x)
    rng = random.Random(27)
    start, span = clock.now, 1800.0
    posts = []
    for n in range(150):
        created = start + rng.uniform(20, span - 90)
        late_by = rng.uniform(5, 30) if n % 5 == 0 else 0.0
        posts.append(
            fake_x.add_tweet(
                f"@Delta help {n}", f"cust{n}", created_at=moment(created), visible_at=moment(created + late_by)
            )
        )
    reads = watch_mentions(fake_x, clock)
    drive(bot, clock, span, step=3)
    assert all(stored(bot, post) for post in posts)
    returned = [t for r in reads for t in r.returned]
    per_post = {post: returned.count(post) for post in posts}
    assert len(returned) / len(posts) <= 2.5, len(returned) / len(posts)
    assert max(per_post.values()) <= 2, "once by a fast poll, once by its slice"
    assert_contiguous(reads)
    day = NOW.strftime("%Y-%m-%d")
    assert usage_between(bot.store.db, day, day).reads[OWNED_READ] == len(posts)


def test_a_failed_slice_is_asked_again_from_the_same_start(make_bot, fake_x, fake_slack):
    bot, clock = bot_at_noon(make_bot, fake_x)
    reads = watch_mentions(fake_x, clock)
    drive(bot, clock, 40)
    created = clock.now
    late = fake_x.add_tweet(
        "@Delta stuck at the gate", "gate_b22", created_at=moment(created), visible_at=moment(created + 20)
    )
    fake_x.add_tweet("@Delta any news?", "newsless", created_at=moment(created + 1), visible_at=moment(created + 1))
    original, failed = fake_x.handle, []

    def flaky(request):
        if request.path.endswith("/mentions") and "end_time" in request.query and len(failed) < 2:
            failed.append(dict(request.query))
            return Response(503, {"title": "Service Unavailable", "detail": "Service Unavailable"})
        return original(request)

    fake_x.handle = flaky
    drive(bot, clock, 180, until=lambda: stored(bot, late))
    assert len(failed) == 2 and failed[0]["start_time"] == failed[1]["start_time"]
    retried = [r for r in reads if r.is_slice and r.status == 200 and r.query["start_time"] == failed[0]["start_time"]]
    assert len(retried) == 1, "asked again from the same start, and read whole once"
    assert_contiguous(reads)


def test_on_a_tight_plan_slices_wait_for_budget_but_none_is_skipped(make_bot, fake_x, fake_slack):
    """15 mention reads per 15 minutes: a slice waits for a call to spare (the one kept in hand is never
    spent), the fast polls go on, and the slices still cover the whole time: every late post is found."""
    bot, clock = bot_at_noon(make_bot, fake_x)
    fake_x.endpoint_limits["users/mentions"] = 15
    reads = watch_mentions(fake_x, clock)
    start = clock.now
    late = [
        fake_x.add_tweet(
            f"@Delta late {n}", f"late{n}", created_at=moment(start + at), visible_at=moment(start + at + 25)
        )
        for n, at in enumerate((100, 400, 700))
    ]
    on_time = [
        fake_x.add_tweet(f"@Delta now {n}", f"now{n}", created_at=moment(start + at), visible_at=moment(start + at))
        for n, at in enumerate((110, 410, 710))
    ]
    drive(bot, clock, 1800)
    assert all(stored(bot, post) for post in late + on_time)
    assert reads and all(r.status == 200 for r in reads), "no 429"
    assert min(r.remaining for r in reads) >= 1, "a slice never takes the call kept in hand"
    fast = {t for r in reads if "since_id" in r.query for t in r.returned}
    assert set(on_time) & fast, "the fast polls are not crowded out"
    assert_contiguous(reads)
