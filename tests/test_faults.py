"""What the fault probe found (issue 28), end to end against the fakes: a card Slack refuses to redraw,
a post X serves half-empty, and one slow X endpoint holding up the others."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest

from bot.jobs.post import PostReport
from bot.jobs.post_cards import CARD_SHORTENED
from bot.jobs.sources import SLICE_SECONDS
from fakes.x_api import x_time
from tests.helpers import Clock, cycle, minutes_ago, wait_until

SEARCH = r"/2/tweets/search/recent$"
MENTIONS = r"/2/users/\d+/mentions$"
LOOKUP = r"/2/tweets$"
TOO_LONG = {"status": 200, "body": {"ok": False, "error": "msg_too_long"}}
LONG_POST = "@Delta my bag never arrived. " + "Here is everything that happened at the airport. " * 24


def card_tweet_ids(fake_slack) -> list[str]:
    return [m.metadata["event_payload"].get("tweet_id") for m in fake_slack.top_level()]


# -- #8: one slow X endpoint holds up no other --------------------------------------------------------
def test_a_mention_reaches_slack_while_a_tracked_search_is_stalled(make_bot, fake_x, fake_slack):
    """Each source is polled in its own thread: a search whose answer does not come (X holding it, as a
    drip does until the client's 15 s deadline) delays neither the mentions nor their cards."""
    release = threading.Event()
    stalled = fake_x.script(SEARCH, mode="slow", hold=release, times=1000)
    bot = make_bot(POLL_INTERVAL_SECONDS="", X_SEARCH_QUERIES="lost bag")
    workers = bot.scheduler.get_job("ingest").func
    bot.scheduler.start()
    try:
        wait_until(lambda: stalled.taken == 1)  # a search poll is waiting on X now
        mention = fake_x.add_tweet("@Delta my bag never arrived", "waiting_flyer")
        wait_until(lambda: mention in card_tweet_ids(fake_slack))
        search = bot.ingestor.states["search:lost bag"]
        assert not search.polls and search.last_error is None, "the card did not wait for the search"
        assert "search:lost bag" in workers.polling, "the search poll is still waiting"
        assert stalled.taken == 1, "one poll of a source at a time"
        assert len(fake_x.requests_to(MENTIONS)) >= 2, "the mentions were polled again meanwhile"
    finally:
        bot.scheduler.shutdown(wait=False)
        release.set()
    wait_until(lambda: not workers.polling)


# -- #6: a card Slack refuses to redraw ----------------------------------------------------------------
@pytest.fixture
def long_card(serve, fake_x, fake_slack):
    """A carded customer post of 1,200 characters (X serves it as a long post); (served bot, card)."""
    fake_x.add_tweet(LONG_POST, "long_story", created_at=minutes_ago(5))
    served = serve()
    cycle(served.runtime)
    return served, fake_slack.top_level()[0]


def test_a_card_slack_refuses_to_redraw_after_a_claim_is_redrawn_smaller(long_card, fake_slack):
    served, card = long_card
    refused = fake_slack.script(r"/api/chat\.update$", **TOO_LONG)
    assert served.click("claim", "U0AGENT", card.ts).status_code == 200
    wait_until(lambda: len(fake_slack.updates) == 1)  # the refused full card, then the smaller one
    shown = json.dumps(card.blocks)
    assert refused.taken == 1
    assert "Claimed" in shown and "<@U0AGENT> has it" in shown, "the card shows the claim"
    post = next(block["text"]["text"] for block in card.blocks if block["block_id"] == "tweet")
    assert post.endswith("_(shortened here: the whole post is on X)_") and len(post) < len(LONG_POST) / 2
    db = served.runtime.store.db
    assert db.execute("SELECT card_version = card_synced FROM cases").fetchone()[0] == 1
    # What the handler tells the clicker comes back from the redraw (the Poster side).
    fake_slack.script(r"/api/chat\.update$", **TOO_LONG)
    redraw = served.runtime.poster.cards.update(1, PostReport())
    assert redraw.drawn and redraw.note == CARD_SHORTENED


def test_the_clicker_hears_that_the_card_was_redrawn_smaller(long_card, fake_slack):
    served, card = long_card
    fake_slack.script(r"/api/chat\.update$", **TOO_LONG)
    served.click("claim", "U0AGENT", card.ts)
    wait_until(lambda: fake_slack.updates)
    wait_until(lambda: CARD_SHORTENED in fake_slack.ephemerals_to("U0AGENT"), timeout=5)


# -- #7: a post X serves half-empty --------------------------------------------------------------------
def half_empty_page(fake_x, tweet_id: str) -> dict:
    """A mentions page as the probe saw X serve it: `text: null`, the id a JSON number, no `includes`."""
    tweet = fake_x.tweets[tweet_id]
    item = {
        "id": int(tweet_id),
        "text": None,
        "author_id": tweet.author_id,
        "created_at": x_time(tweet.created_at),
        "conversation_id": tweet.conversation_id,
        "edit_history_tweet_ids": [tweet_id],
    }
    return {"status": 200, "body": {"data": [item], "meta": {"result_count": 1, "newest_id": tweet_id}}}


def card_of(fake_slack) -> str:
    return json.dumps(fake_slack.top_level()[0].blocks, ensure_ascii=False)


def test_a_post_served_without_text_or_author_is_looked_up_before_its_card(make_bot, fake_x, fake_slack):
    tweet = fake_x.add_tweet("@Delta stuck on the tarmac for 3 hours", "tarmac_tom", created_at=minutes_ago(3))
    fake_x.script(MENTIONS, **half_empty_page(fake_x, tweet))
    cycle(make_bot())
    lookups = fake_x.requests_to(LOOKUP)
    assert [r.query["ids"] for r in lookups] == [tweet]
    assert lookups[0].response is not None and lookups[0].response.status == 200, "as X's OpenAPI allows it"
    shown = card_of(fake_slack)
    assert "stuck on the tarmac for 3 hours" in shown and "@tarmac_tom" in shown
    assert "no text" not in shown and "Unknown author" not in shown


def test_a_post_the_lookup_cannot_mend_is_mended_when_a_whole_copy_comes(make_bot, fake_x, fake_slack):
    clock = Clock(time.time())
    tweet = fake_x.add_tweet("@Delta lost my car seat", "seatless", created_at=datetime.fromtimestamp(clock.now, UTC))
    fake_x.script(MENTIONS, **half_empty_page(fake_x, tweet))
    fake_x.script(LOOKUP, status=503, body={"title": "Service Unavailable"})
    bot = make_bot(clock)
    cycle(bot)
    assert "_(no text)_" in card_of(fake_slack) and "@seatless" not in card_of(fake_slack)
    clock.advance(SLICE_SECONDS + 31)  # past the overlap (30 s): its time slice reads the post again, whole
    cycle(bot)
    shown = card_of(fake_slack)
    assert "lost my car seat" in shown and "@seatless" in shown and "no text" not in shown
    assert len(fake_slack.top_level()) == 1 and len(fake_slack.updates) == 1, "the same card, redrawn"


def test_a_follow_up_posted_half_empty_is_redrawn_in_its_thread_when_a_whole_copy_comes(make_bot, fake_x, fake_slack):
    clock = Clock(time.time())
    first = fake_x.add_tweet("@Delta my flight was cancelled", "rebooked", created_at=minutes_ago(5))
    bot = make_bot(clock)
    cycle(bot)
    created = datetime.fromtimestamp(clock.now, UTC)
    later = fake_x.add_tweet("@Delta still no hotel voucher", "rebooked", reply_to=first, created_at=created)
    fake_x.script(MENTIONS, **half_empty_page(fake_x, later))
    fake_x.script(LOOKUP, status=503, body={"title": "Service Unavailable"})
    cycle(bot)
    card = fake_slack.top_level()[0]
    (posted,) = fake_slack.thread(card.ts)
    assert "_(no text)_" in json.dumps(posted.blocks)
    clock.advance(SLICE_SECONDS + 31)  # its time slice reads the post again, whole
    cycle(bot)
    (redrawn,) = fake_slack.thread(card.ts)
    shown = json.dumps(redrawn.blocks, ensure_ascii=False)
    assert redrawn.ts == posted.ts and "still no hotel voucher" in shown and "no text" not in shown
    assert bot.store.db.execute("SELECT mended_at FROM tweets WHERE id = ?", [later]).fetchone() == (None,)
    cycle(bot)
    assert len([u for u in fake_slack.updates if u.get("ts") == posted.ts]) == 1, "redrawn once"
