"""Ingest end to end: the real jobs against the fake X and Slack servers."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from bot.jobs.sources import SLICE_SECONDS
from fakes.server import Response
from fakes.x_api import MENTIONS_CAP, too_many_requests
from tests.helpers import Clock, cycle, minutes_ago


def card_tweet_ids(fake_slack) -> list[str]:
    return [m.metadata["event_payload"]["tweet_id"] for m in fake_slack.top_level()]


def test_pages_through_more_than_100_mentions_with_expansions(make_bot, fake_x, fake_slack):
    ids = [
        fake_x.add_tweet(f"@Delta question number {n}", f"customer{n % 40}", created_at=minutes_ago(300 - n))
        for n in range(250)
    ]
    bot = make_bot()
    cycle(bot)
    assert sorted(card_tweet_ids(fake_slack), key=int) == sorted(ids, key=int)
    assert card_tweet_ids(fake_slack) == sorted(ids, key=int), "cards go out oldest first"
    pages = fake_x.requests_to(r"/mentions$")
    assert len(pages) == 3
    assert [("pagination_token" in p.query) for p in pages] == [False, True, True]
    first = pages[0].query
    assert first["max_results"] == "100"
    assert {"author_id", "referenced_tweets.id"} <= set(first["expansions"].split(","))
    assert {"created_at", "conversation_id", "referenced_tweets"} <= set(first["tweet.fields"].split(","))
    assert "public_metrics" in first["user.fields"]
    assert pages[0].headers["authorization"].startswith("OAuth ")
    card = fake_slack.top_level()[0]
    assert "customer0" in card.blocks[0]["text"]["text"] and "120 followers" in card.blocks[0]["text"]["text"]


def test_restart_posts_no_duplicate_cards(make_bot, fake_x, fake_slack):
    for n in range(12):
        fake_x.add_tweet(f"@Delta where is my bag {n}", f"flyer{n}", created_at=minutes_ago(20 - n))
    cycle(make_bot())
    assert len(fake_slack.top_level()) == 12
    restarted = make_bot()
    cycle(restarted, times=2)
    assert len(fake_slack.top_level()) == 12
    fake_x.add_tweet("@Delta one more", "late_flyer")
    cycle(restarted)
    assert len(fake_slack.top_level()) == 13
    db = restarted.store.db
    assert db["cases"].count == 13 and db["tweets"].count == 13


def test_x_429_then_503_every_mention_carded_once(make_bot, fake_x, fake_slack):
    clock = Clock(time.time())
    ids = [fake_x.add_tweet(f"@Delta help {n}", f"pax{n}", created_at=minutes_ago(200 - n)) for n in range(150)]
    bot = make_bot(clock)
    bot.ingestor.run()  # learns the account; the first mention poll succeeds
    fake_x.add_tweet("@Delta later one", "pax_late")
    fake_x.script(r"/mentions$", **too_many_requests(reset_in=120))
    bot.ingestor.run()
    calls = len(fake_x.requests_to(r"/mentions$"))
    bot.ingestor.run()
    bot.ingestor.run()
    assert len(fake_x.requests_to(r"/mentions$")) == calls, "no calls while the rate limit is exhausted"
    clock.advance(121)
    fake_x.script(r"/mentions$", status=503, body={"title": "Service Unavailable"})
    bot.ingestor.run()
    assert bot.ingestor.states["mentions"].failures == 1
    clock.advance(bot.ingestor.poll_interval + 1)
    cycle(bot, times=2)
    posted = card_tweet_ids(fake_slack)
    assert len(posted) == len(set(posted)) == 151
    assert set(ids) <= set(posted)


def test_429_on_a_later_page_keeps_what_was_read_and_does_not_move_the_cursor(make_bot, fake_x, fake_slack):
    clock = Clock(time.time())
    for n in range(230):
        fake_x.add_tweet(f"@Delta burst {n}", f"burst{n}", created_at=minutes_ago(100 - n * 0.1))
    bot = make_bot(clock)
    bot.ingestor.run()  # first poll: all 230 (3 pages)
    assert bot.store.db["cursors"].count == 1
    cursor_before = bot.store.db["cursors"].get("mentions")
    for n in range(150):
        fake_x.add_tweet(f"@Delta second burst {n}", f"second{n}", created_at=minutes_ago(5 - n * 0.01))
    original = fake_x.handle

    served = {"n": 0}

    def flaky(request):
        served["n"] += 1
        if served["n"] == 2:
            return Response(**too_many_requests(reset_in=60))
        return original(request)

    fake_x.handle = flaky
    bot.ingestor.run()
    assert bot.store.db["tweets"].count == 230 + 100, "the page that was read is kept"
    assert bot.store.db["cursors"].get("mentions") == cursor_before, "cursor waits for a complete poll"
    fake_x.handle = original
    clock.advance(61)
    bot.ingestor.run()
    bot.poster.run()
    assert bot.store.db["tweets"].count == 380
    assert len(set(card_tweet_ids(fake_slack))) == len(card_tweet_ids(fake_slack)) == 380


def test_late_indexed_mention_with_a_lower_id_is_found_by_the_next_slice(make_bot, fake_x, fake_slack):
    clock = Clock(time.time())
    late_id = fake_x.add_tweet("@Delta my flight was cancelled", "late_one", created_at=minutes_ago(0.4), visible=False)
    on_time = fake_x.add_tweet("@Delta thanks for the upgrade", "on_time", created_at=minutes_ago(0.2))
    bot = make_bot(clock)
    cycle(bot)
    assert card_tweet_ids(fake_slack) == [on_time]
    fake_x.publish(late_id)  # X indexes it now; its id is lower than the one we already hold
    clock.advance(1)
    cycle(bot)  # a fast poll asks only for what is newer than the cursor: X has nothing new
    fast = fake_x.requests_to(r"/mentions$")[-1].query
    assert fast["since_id"] == on_time and "start_time" not in fast
    assert fast_returned_nothing(fake_x) and late_id not in card_tweet_ids(fake_slack)
    clock.advance(SLICE_SECONDS)
    cycle(bot)  # the next slice reads by time, from POLL_OVERLAP_SECONDS before the catch-up
    by_time = fake_x.requests_to(r"/mentions$")[-1].query
    assert "start_time" in by_time and "end_time" in by_time and "since_id" not in by_time
    assert late_id in card_tweet_ids(fake_slack) and len(card_tweet_ids(fake_slack)) == 2


def fast_returned_nothing(fake_x) -> bool:
    answer = fake_x.requests_to(r"/mentions$")[-1].response
    return answer is not None and "data" not in answer.body


def test_own_tweets_and_plain_retweets_are_skipped(make_bot, fake_x, fake_slack):
    customer = fake_x.add_tweet("@Delta lost my stroller at ATL", "parent_of_two", created_at=minutes_ago(5))
    brand = fake_x.users[fake_x.brand["id"]]
    fake_x.add_tweet("@parent_of_two @Delta so sorry, DM us please", brand, reply_to=customer)
    fake_x.add_tweet("RT @parent_of_two: @Delta lost my stroller at ATL", "bystander", retweet_of=customer)
    quote = fake_x.add_tweet("@Delta same thing happened to me", "other_parent", quote_of=customer)
    cycle(make_bot())
    assert sorted(card_tweet_ids(fake_slack)) == sorted([customer, quote])


def test_follow_up_from_the_same_customer_goes_in_the_thread(make_bot, fake_x, fake_slack):
    first = fake_x.add_tweet("@Delta my bag is not on the belt at JFK T4", "bagless", created_at=minutes_ago(9))
    bot = make_bot()
    cycle(bot)
    follow = fake_x.add_tweet("@Delta still nothing, 40 minutes now", "bagless", reply_to=first)
    other = fake_x.add_tweet("@Delta same here!", "someone_else", reply_to=first)
    cycle(bot)
    cards = fake_slack.top_level()
    assert [c.metadata["event_payload"]["tweet_id"] for c in cards] == [first, other]
    thread = fake_slack.thread(cards[0].ts)
    assert len(thread) == 1
    assert "still nothing" in thread[0].blocks[1]["text"]["text"]
    assert thread[0].metadata == {"event_type": "perch_follow_up", "event_payload": {"case_id": 1, "tweet_id": follow}}
    kinds = [e["kind"] for e in bot.store.db.query("SELECT kind FROM events WHERE case_id = 1 ORDER BY id")]
    assert kinds == ["opened", "posted", "follow_up"]
    cycle(make_bot())  # a restart does not repeat the thread reply
    assert len(fake_slack.thread(cards[0].ts)) == 1


def test_follow_up_stored_in_the_same_poll_as_its_case(make_bot, fake_x, fake_slack):
    first = fake_x.add_tweet("@Delta stuck at gate B22", "gatewaiter", created_at=minutes_ago(6))
    fake_x.add_tweet("@Delta nobody at the desk", "gatewaiter", created_at=minutes_ago(5), reply_to=first)
    bot = make_bot()
    cycle(bot)
    assert len(fake_slack.top_level()) == 1
    assert len(fake_slack.thread(fake_slack.top_level()[0].ts)) == 1


def test_mentions_beyond_the_800_timeline_cap_are_filled_from_search(make_bot, fake_x, fake_slack):
    clock = Clock(time.time())
    fake_x.add_tweet("@Delta before the outage", "early_bird", created_at=minutes_ago(120))
    bot = make_bot(clock)
    cycle(bot)
    burst = [
        fake_x.add_tweet(f"@Delta is the app down? #{n}", f"burst{n}", created_at=minutes_ago(60 - n * 0.05))
        for n in range(MENTIONS_CAP + 150)
    ]
    bot.ingestor.run()
    stored = {row["id"] for row in bot.store.db.query("SELECT id FROM tweets")}
    assert set(burst) <= stored, "mentions older than the newest 800 came from recent search"
    search = fake_x.requests_to(r"/search/recent$")
    assert search and search[0].query["query"] == "@Delta"
    assert "end_time" in search[0].query and "start_time" in search[0].query


def test_tracked_search_and_mention_of_the_same_tweet_make_one_case(make_bot, fake_x, fake_slack):
    both = fake_x.add_tweet("@Delta delta wifi is down on DL123", "wifi_fan", created_at=minutes_ago(4))
    search_only = fake_x.add_tweet(
        "flying delta today and the wifi is down again", "quiet_flyer", created_at=minutes_ago(3)
    )
    fake_x.add_tweet("nothing to see here", "random_person", created_at=minutes_ago(2))
    bot = make_bot(X_SEARCH_QUERIES="delta wifi;nonexistentword", X_BEARER_TOKEN="app-token")
    cycle(bot)
    assert sorted(card_tweet_ids(fake_slack)) == sorted([both, search_only])
    search = fake_x.requests_to(r"/search/recent$")
    assert {r.query["query"] for r in search} == {"delta wifi", "nonexistentword"}
    assert all(r.headers["authorization"].startswith("Bearer ") for r in search)
    sources = dict(bot.store.db.execute("SELECT id, source FROM tweets").fetchall())
    assert sources[search_only] == "search:delta wifi"


def test_partial_errors_in_a_200_are_logged_not_fatal(make_bot, fake_x, fake_slack, caplog):
    tweet = fake_x.add_tweet("@Delta seat 12C is broken", "seat_12c", created_at=minutes_ago(2))
    bot = make_bot()
    bot.ingestor.run()  # learn the account
    original = fake_x.handle

    def with_errors(request):
        response = original(request)
        if request.path.endswith("/mentions") and isinstance(response.body, dict):
            response.body["errors"] = [
                {
                    "value": "1",
                    "detail": "Could not find tweet with referenced_tweets.id",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                }
            ]
        return response

    fake_x.handle = with_errors
    with caplog.at_level(logging.WARNING):
        cycle(bot)
    assert tweet in card_tweet_ids(fake_slack)
    assert "Could not find tweet" in caplog.text


def test_malformed_bodies_and_time_outs_back_off_and_lose_nothing(make_bot, fake_x, fake_slack):
    clock = Clock(time.time())
    tweet = fake_x.add_tweet("@Delta can't check in online", "checkin_woes", created_at=minutes_ago(2))
    bot = make_bot(clock)
    bot.x.user_client.session.timeout = 0.5
    bot.ingestor.run()  # learn the account, store the first mention
    second = fake_x.add_tweet("@Delta my seat is gone", "seatless")
    fake_x.script(r"/mentions$", status=200, body="<html>proxy error</html>")
    bot.ingestor.run()
    assert bot.ingestor.states["mentions"].failures == 1
    clock.advance(61)
    fake_x.script(r"/mentions$", status=200, body={"data": "not a list", "meta": {}}, delay=1.0)
    bot.ingestor.run()
    assert bot.ingestor.states["mentions"].failures == 2
    fake_x.script(r"/mentions$", status=200, body={"data": [{"id": "oops"}, {"text": "no id"}], "meta": {}})
    clock.advance(200)
    bot.ingestor.run()  # junk entries skipped, no crash
    clock.advance(200)
    cycle(bot)
    assert sorted(card_tweet_ids(fake_slack)) == sorted([tweet, second])


def test_auth_failure_is_reported_and_polling_waits(make_bot, fake_x, fake_slack, caplog):
    clock = Clock(time.time())
    fake_x.add_tweet("@Delta hello", "hello_there", created_at=minutes_ago(1))
    fake_x.script(r"/users/me$", status=401, body={"title": "Unauthorized", "detail": "Unauthorized"})
    bot = make_bot(clock)
    with caplog.at_level(logging.ERROR):
        bot.ingestor.run()
    assert "X refused users/me (401)" in caplog.text
    assert fake_x.requests_to(r"/mentions$") == []
    bot.ingestor.run()
    assert len(fake_x.requests_to(r"/users/me$")) == 1, "backs off instead of retrying at once"
    clock.advance(61)
    cycle(bot)
    assert len(fake_slack.top_level()) == 1


def test_rate_limit_headers_pause_before_a_429(make_bot, fake_x, fake_slack):
    clock = Clock(time.time())
    fake_x.add_tweet("@Delta hi", "greeter", created_at=minutes_ago(1))
    bot = make_bot(clock)
    fake_x.rate_limit_per_window = 2  # users/me then one mentions call exhaust... per endpoint
    bot.ingestor.run()
    bot.ingestor.run()  # second mentions call: remaining hits 0
    calls = len(fake_x.requests_to(r"/mentions$"))
    bot.ingestor.run()
    assert len(fake_x.requests_to(r"/mentions$")) == calls
    clock.advance(timedelta(minutes=16).total_seconds())
    bot.ingestor.run()
    assert len(fake_x.requests_to(r"/mentions$")) == calls + 1


def test_gap_fill_never_asks_search_for_the_last_10_seconds(make_bot, fake_x, fake_slack):
    """X refuses a recent-search `end_time` less than 10 s old: a burst that overflows the timeline
    within seconds is filled once X can answer for it, with no 400 on the way."""
    clock = Clock(time.time())
    fake_x.add_tweet("@Delta before the outage", "early_bird", created_at=minutes_ago(120))
    bot = make_bot(clock)
    cycle(bot)
    burst = [
        fake_x.add_tweet(f"@Delta app down #{n}", f"fast{n}", created_at=minutes_ago(0.05 - n * 0.00001))
        for n in range(MENTIONS_CAP + 40)
    ]
    bot.ingestor.run()
    stored = {row["id"] for row in bot.store.db.query("SELECT id FROM tweets")}
    assert len(set(burst) & stored) == MENTIONS_CAP, "the 40 oldest are in X's last 10 s: not asked yet"
    assert all(r.response is not None and r.response.status == 200 for r in fake_x.requests_to(r"/search/recent$"))
    clock.advance(15)
    bot.ingestor.run()
    stored = {row["id"] for row in bot.store.db.query("SELECT id FROM tweets")}
    assert set(burst) <= stored, "the cursor stayed put, so the next poll filled the rest"
    assert all(r.response is not None and r.response.status == 200 for r in fake_x.requests_to(r"/search/recent$"))


def test_a_tweet_that_cannot_be_stored_never_blocks_the_others(make_bot, fake_x, fake_slack, caplog):
    """A lone surrogate is valid JSON (`\\ud800`) but not UTF-8: it is stored as U+FFFD. A tweet that
    still cannot be stored (here a follower count past SQLite's integers) is skipped and named."""
    before = fake_x.add_tweet("@Delta first", "calm_one", created_at=minutes_ago(5))
    odd = fake_x.add_tweet("@Delta broken \ud800 text", "odd_one", created_at=minutes_ago(4))
    huge = fake_x.add_tweet("@Delta famous", fake_x.add_user("famous", followers=10**30), created_at=minutes_ago(3))
    after = fake_x.add_tweet("@Delta last", "calm_two", created_at=minutes_ago(2))
    bot = make_bot()
    with caplog.at_level(logging.ERROR):
        cycle(bot)
    assert sorted(card_tweet_ids(fake_slack)) == sorted([before, odd, after])
    assert bot.store.db["tweets"].get(odd)["text"] == "@Delta broken \ufffd text"
    assert f"Skipped tweet {huge}" in caplog.text
    cycle(bot)
    assert len(fake_slack.top_level()) == 3, "the cursor moved on: nothing is asked again or posted twice"


def test_a_dripping_answer_gives_up_in_bounded_time_and_shows_in_status(make_bot, fake_x, fake_slack):
    """X sending a byte now and then never trips a per-read time-out: the whole answer has a deadline."""
    clock = Clock(time.time())
    fake_x.add_tweet("@Delta anyone there?", "patient", created_at=minutes_ago(2))
    bot = make_bot(clock)
    bot.ingestor.run()  # users/me, then a good poll
    bot.x.user_client.session.timeout = 1.0
    fake_x.script(r"/mentions$", mode="slow", drip=0.2)
    bot.ingestor.run()  # without the deadline this read would take minutes, and then succeed
    state = bot.ingestor.states["mentions"]
    assert state.last_error_kind == "unavailable" and "Timeout" in (state.last_error or "")
    assert "Timeout" in status_text_of(bot), "/perch status says the source is stuck"


def test_an_answer_that_unpacks_past_the_bound_is_refused(make_bot, fake_x, fake_slack):
    fake_x.add_tweet("@Delta hi", "small", created_at=minutes_ago(2))
    bot = make_bot()
    bot.x.user_client.session.max_bytes = 50_000
    bot.ingestor.run()  # users/me
    fake_x.script(r"/mentions$", status=200, body={"data": [], "meta": {"result_count": 0}, "pad": "x" * 200_000})
    bot.ingestor.run()
    assert "AnswerTooLarge" in (bot.ingestor.states["mentions"].last_error or "")


def status_text_of(bot) -> str:
    """What `/perch status` answers (its context holds Perch's services, as Bolt's does)."""
    from handlers.commands.status import status_text

    return status_text({"perch": bot.services})


def test_a_quiet_search_whose_cursor_is_past_x_s_seven_days_asks_by_time(make_bot, fake_x, fake_slack):
    """X refuses a recent-search `since_id` older than its seven days: such a cursor is asked by time."""
    clock = Clock(time.time())
    fake_x.add_tweet("Delta luggage gone", "bystander", created_at=minutes_ago(60))
    bot = make_bot(clock, X_SEARCH_QUERIES="Delta luggage")
    cycle(bot)
    clock.advance(timedelta(days=8).total_seconds())  # a week and a day with no new hit
    cycle(bot)  # a catch-up and slices, by time: nothing new
    clock.advance(5)
    fake_x.add_tweet("Delta luggage lost again", "another", created_at=datetime.fromtimestamp(clock.now - 20, UTC))
    cycle(bot)  # a fast poll: its cursor is past X's reach
    answers = fake_x.requests_to(r"/search/recent$")
    assert all(r.response is not None and r.response.status == 200 for r in answers)
    assert "since_id" not in answers[-1].query and bot.store.db["tweets"].count == 2
