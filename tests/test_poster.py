"""Posting cards: Slack outages delay cards and never drop or duplicate one, also across a crash."""

from __future__ import annotations

import json
import time

from tests.helpers import QUEUE, cycle, minutes_ago


def seed(fake_x, count: int) -> list[str]:
    return [
        fake_x.add_tweet(f"@Delta flight DL{400 + n} delayed again", f"pax{n}", created_at=minutes_ago(30 - n))
        for n in range(count)
    ]


def posted_ids(fake_slack) -> list[str]:
    return [m.metadata["event_payload"]["tweet_id"] for m in fake_slack.top_level()]


def test_card_carries_metadata_buttons_and_no_unfurl(make_bot, fake_x, fake_slack):
    (tweet,) = seed(fake_x, 1)
    bot = make_bot()
    cycle(bot)
    (card,) = fake_slack.top_level(QUEUE)
    assert card.metadata == {"event_type": "perch_case", "event_payload": {"case_id": 1, "tweet_id": tweet}}
    actions = card.blocks[-1]
    assert [e["action_id"] for e in actions["elements"]] == ["claim", "reply", "move_to_dm", "escalate", "resolve"]
    assert {e["value"] for e in actions["elements"]} == {"1"}
    request = fake_slack.requests_to(r"chat\.postMessage$")[0]
    assert request.params["unfurl_links"] is False and request.params["unfurl_media"] is False
    assert f"https://twitter.com/pax0/status/{tweet}" in card.blocks[2]["elements"][0]["text"]
    row = bot.store.db["cases"].get(1)
    assert row["slack_ts"] == card.ts and row["slack_channel"] == QUEUE and row["posted_at"]


def test_slack_429_is_waited_out_and_the_card_posted_once(make_bot, fake_x, fake_slack):
    seed(fake_x, 3)
    fake_slack.script(
        r"chat\.postMessage$", status=429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"}
    )
    bot = make_bot()
    started = time.monotonic()
    cycle(bot)
    assert time.monotonic() - started >= 1, "waited for Retry-After"
    assert len(posted_ids(fake_slack)) == 3
    assert len(fake_slack.requests_to(r"chat\.postMessage$")) == 4


def test_slack_500_delays_cards_until_the_next_run(make_bot, fake_x, fake_slack):
    ids = seed(fake_x, 4)
    fake_slack.script(r"chat\.postMessage$", status=500, body="<html>Internal Server Error</html>", times=1)
    bot = make_bot()
    cycle(bot)
    assert posted_ids(fake_slack) == []
    bot.poster.run()
    assert posted_ids(fake_slack) == ids
    bot.poster.run()
    assert posted_ids(fake_slack) == ids


def test_lost_response_after_slack_posted_is_reconciled_not_reposted(make_bot, fake_x, fake_slack):
    ids = seed(fake_x, 3)
    bot = make_bot()
    bot.ingestor.run()
    # Slack stores the first card, then the connection drops before the bot hears its ts.
    fake_slack.script(r"chat\.postMessage$", mode="apply_then", drop_connection=True, times=1)
    bot.poster.run()
    assert len(fake_slack.top_level()) == 1
    bot.poster.run()
    assert posted_ids(fake_slack) == ids
    history = fake_slack.requests_to(r"conversations\.history$")
    assert history and history[0].params["include_all_metadata"] in (True, "true", "1")
    events = bot.store.db.execute("SELECT detail FROM events WHERE kind = 'posted' AND case_id = 1").fetchone()
    assert '"reconciled": true' in events[0]


def test_crash_between_posting_and_recording_then_restart(make_bot, fake_x, fake_slack):
    ids = seed(fake_x, 2)
    bot = make_bot()
    bot.ingestor.run()
    fake_slack.script(r"chat\.postMessage$", mode="apply_then", status=500, body={"ok": False}, times=1)
    bot.poster.run()  # Slack took the card; the bot never learnt its ts (as if it died right there)
    assert len(fake_slack.top_level()) == 1
    restarted = make_bot()
    cycle(restarted, times=2)
    assert posted_ids(fake_slack) == ids
    ts = {row["tweet_id"]: row["slack_ts"] for row in restarted.store.db.query("SELECT tweet_id, slack_ts FROM cases")}
    assert ts == {m.metadata["event_payload"]["tweet_id"]: m.ts for m in fake_slack.top_level()}


def test_history_unavailable_means_no_blind_repost(make_bot, fake_x, fake_slack):
    seed(fake_x, 1)
    bot = make_bot()
    bot.ingestor.run()
    fake_slack.script(r"chat\.postMessage$", mode="apply_then", drop_connection=True)
    bot.poster.run()
    fake_slack.script(r"conversations\.history$", status=503, body="busy", times=1)
    bot.poster.run()
    bot.poster.run()
    assert len(fake_slack.top_level()) == 1
    assert bot.store.db["cases"].get(1)["slack_ts"] == fake_slack.top_level()[0].ts


def test_channel_the_bot_cannot_post_to_loses_nothing(make_bot, fake_x, fake_slack, caplog):
    ids = seed(fake_x, 2)
    bot = make_bot(SLACK_QUEUE_CHANNEL="C0GONE")
    cycle(bot)
    assert fake_slack.top_level() == []
    assert "channel_not_found" in caplog.text
    fake_slack.channels.add("C0GONE")
    bot.poster.run()
    assert posted_ids(fake_slack) == ids


def test_a_card_slack_refuses_is_posted_smaller_at_once(make_bot, fake_x, fake_slack):
    long = fake_x.add_tweet("@Delta " + "my bag is lost again " * 180, "pax9", created_at=minutes_ago(40))
    ids = [long, *seed(fake_x, 2)]
    bot = make_bot()
    bot.ingestor.run()
    fake_slack.script(r"chat\.postMessage$", status=200, body={"ok": False, "error": "msg_too_long"})
    bot.poster.run()
    assert posted_ids(fake_slack) == ids
    first, second = fake_slack.top_level()[:2]
    assert "shortened here: the whole post is on X" in json.dumps(first.blocks)
    assert "shortened here" not in json.dumps(second.blocks)
    assert [c["slack_ts"] is not None for c in bot.store.db["cases"].rows] == [True, True, True]
    assert len(fake_slack.requests_to(r"chat\.postMessage$")) == 4


def test_a_card_refused_big_and_small_does_not_block_the_queue(make_bot, fake_x, fake_slack):
    ids = seed(fake_x, 3)
    bot = make_bot()
    bot.ingestor.run()
    fake_slack.script(r"chat\.postMessage$", status=200, body={"ok": False, "error": "invalid_blocks"}, times=2)
    bot.poster.run()
    assert posted_ids(fake_slack) == ids[1:]
    bot.poster.run()
    assert sorted(posted_ids(fake_slack)) == sorted(ids)


def test_follow_up_reply_lost_then_reconciled(make_bot, fake_x, fake_slack):
    (first,) = seed(fake_x, 1)
    bot = make_bot()
    cycle(bot)
    fake_x.add_tweet("@Delta any news?", "pax0", reply_to=first)
    bot.ingestor.run()
    fake_slack.script(r"chat\.postMessage$", mode="apply_then", drop_connection=True)
    bot.poster.run()
    bot.poster.run()
    card = fake_slack.top_level()[0]
    assert len(fake_slack.thread(card.ts)) == 1
    assert fake_slack.requests_to(r"conversations\.replies$")
