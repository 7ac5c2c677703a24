from tests.helpers import cycle, minutes_ago


def test_a_mention_becomes_one_card(make_bot, fake_x, fake_slack):
    fake_x.add_tweet("@Delta my bag never arrived at JFK", "traveler1", created_at=minutes_ago(3))
    bot = make_bot()
    cycle(bot)
    cards = fake_slack.top_level()
    assert len(cards) == 1
    assert "my bag never arrived" in cards[0].blocks[1]["text"]["text"]
    assert cards[0].metadata["event_type"] == "perch_case"
