"""Posting is paced to Slack's one message per second per channel, so a burst never provokes 429s."""

from __future__ import annotations

from tests.helpers import QUEUE, cycle, minutes_ago, wait_until


def seed(fake_x, count: int) -> None:
    for n in range(count):
        fake_x.add_tweet(f"@Delta bag {n} still missing at JFK", f"traveller{n}", created_at=minutes_ago(10 - n))


def arrivals(fake_slack) -> list[float]:
    return [r.at for r in fake_slack.requests_to(r"chat\.postMessage$")]


def test_cards_into_one_channel_are_paced_and_never_refused(make_bot, fake_x, fake_slack):
    fake_slack.channel_interval = 1.0
    seed(fake_x, 4)
    bot = make_bot(SLACK_CHANNEL_POST_INTERVAL_SECONDS="1")
    cycle(bot)
    assert len(fake_slack.top_level(QUEUE)) == 4
    assert fake_slack.rate_limited == []
    times = arrivals(fake_slack)
    assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[1:], strict=False))


def test_without_pacing_the_fake_refuses_and_slack_sdk_waits_out_the_429s(make_bot, fake_x, fake_slack):
    """The control: the fake does enforce the limit; unpaced, cards still arrive, through 429s."""
    fake_slack.channel_interval = 1.0
    seed(fake_x, 3)
    bot = make_bot(SLACK_CHANNEL_POST_INTERVAL_SECONDS="0")
    cycle(bot)
    assert len(fake_slack.top_level(QUEUE)) == 3
    assert fake_slack.rate_limited, "unpaced posts into one channel hit the limit"


def test_messages_posted_from_listeners_share_the_pacer(serve, fake_x, fake_slack):
    """Bolt builds a plain WebClient per request: listeners get the bot's paced client instead."""
    fake_slack.channel_interval = 0.3
    served = serve(SLACK_CHANNEL_POST_INTERVAL_SECONDS="0.3")
    seen = []

    @served.runtime.app.action("probe_post")
    def probe(ack, client):
        ack()
        seen.append(client)
        for n in range(3):
            client.chat_postMessage(channel=QUEUE, text=f"from a listener {n}")

    served.click("probe_post", "U0AGENT", "1.1")
    wait_until(lambda: len(fake_slack.top_level(QUEUE)) == 3)
    assert seen == [served.runtime.slack]
    assert fake_slack.rate_limited == []
