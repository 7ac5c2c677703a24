"""Hostile tweets: nothing pings anyone, no disguised link renders, every Block Kit limit holds."""

from __future__ import annotations

import json

import pytest

from bot.blocks.mrkdwn import decode_x, safe_mrkdwn, utf16_len
from fakes.block_kit import check_message
from fakes.slack_api import PING
from tests.helpers import cycle, minutes_ago

HOSTILE = {
    "channel": "@Delta <!channel> my flight is cancelled",
    "here_everyone": "@Delta <!here> <!everyone> @channel @here wake up",
    "user": "@Delta <@U024BE7LH> you said you'd call me",
    "subteam": "@Delta <!subteam^S0123ABC|@support> help",
    "link": "@Delta verify here <https://evil.example/login|https://delta.com/refund>",
    "encoded": "@Delta &lt;!channel&gt; &amp;lt;b&amp;gt; fares &amp; fees &gt; 100",
    "long": "@Delta " + "refund " * 3600,
    "rtl": "@Delta \u202eknil siht kcilc\u202c \u0645\u0631\u062d\u0628\u0627 \u2066isolate\u2069 zero\u200bwidth",
    "emoji": "@Delta 👨‍👩‍👧‍👦🏳️‍🌈👍🏽" * 300,
    "empty": "@Delta",
    "controls": "@Delta \x00\x07null and bell\x1b[31m",
}


@pytest.fixture
def hostile_cards(make_bot, fake_x, fake_slack):
    ids = {}
    for index, (name, text) in enumerate(HOSTILE.items()):
        ids[name] = fake_x.add_tweet(text, f"user_{index}", created_at=minutes_ago(30 - index))
    fake_x.add_user("x" * 15, name="<!channel> *Totally Delta* " + "🛫" * 80)
    ids["name"] = fake_x.add_tweet("@Delta hi from a weird name", "x" * 15, created_at=minutes_ago(1))
    cycle(make_bot())
    cards = {m.metadata["event_payload"]["tweet_id"]: m for m in fake_slack.top_level()}
    return {name: cards[tweet_id] for name, tweet_id in ids.items()}


def test_every_hostile_tweet_becomes_a_valid_card(hostile_cards, fake_slack):
    assert len(hostile_cards) == len(HOSTILE) + 1
    assert fake_slack.block_errors == []
    for card in hostile_cards.values():
        assert check_message({"text": card.text, "blocks": card.blocks, "metadata": card.metadata}) is None


def test_nothing_pings_anyone(hostile_cards, fake_slack):
    assert fake_slack.pings() == []
    for request in fake_slack.requests_to(r"chat\.postMessage$"):
        assert not request.params.get("link_names")
        assert request.params.get("parse") in (None, "none")


def test_disguised_links_show_as_text(hostile_cards):
    text = hostile_cards["link"].blocks[1]["text"]["text"]
    assert "&lt;https://evil.example/login|https://delta.com/refund&gt;" in text
    assert "<https://evil" not in json.dumps(hostile_cards["link"].blocks)


def test_x_entities_are_decoded_once_and_escaped_once(hostile_cards):
    text = hostile_cards["encoded"].blocks[1]["text"]["text"]
    assert text == "@Delta &lt;!channel&gt; &amp;lt;b&amp;gt; fares &amp; fees &gt; 100"


def test_long_text_is_cut_with_an_ellipsis_within_limits(hostile_cards, fake_slack):
    text = hostile_cards["long"].blocks[1]["text"]["text"]
    assert utf16_len(text) > 2900, "the long post's full text came from note_tweet, not the 280-char text"
    assert text.endswith("…") and utf16_len(text) <= 3000 and text.startswith("@Delta refund")
    assert utf16_len(hostile_cards["long"].text) <= 400


def test_emoji_sequences_are_never_cut_in_half(hostile_cards):
    text = hostile_cards["emoji"].blocks[1]["text"]["text"]
    assert utf16_len(text) <= 3000
    body = text.removesuffix("…")
    assert not body.endswith(("\u200d", "\ufe0f"))
    assert body.encode("utf-16-le", "strict")  # no lone surrogate


def test_direction_overrides_and_controls_are_dropped(hostile_cards):
    rtl = hostile_cards["rtl"].blocks[1]["text"]["text"]
    assert "\u202e" not in rtl and "\u2066" not in rtl
    assert "\u0645\u0631\u062d\u0628\u0627" in rtl, "real right-to-left text is kept"
    controls = hostile_cards["controls"].blocks[1]["text"]["text"]
    assert "\x00" not in controls and "\x1b" not in controls and "null and bell" in controls


def test_hostile_display_name_is_escaped_and_short(hostile_cards):
    author = hostile_cards["name"].blocks[0]["text"]["text"]
    assert "&lt;!channel&gt;" in author and "<!channel>" not in author
    assert author.count("🛫") < 80 and "@xxxxxxxxxxxxxxx" in author


def test_empty_tweet_still_shows_something(hostile_cards):
    assert hostile_cards["empty"].blocks[1]["text"]["text"] == "@Delta"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a &amp; b", "a & b"),
        ("&amp;amp;", "&amp;"),
        ("&lt;3", "<3"),
        ("&quot;kept&quot;", "&quot;kept&quot;"),
    ],
)
def test_decode_x_decodes_exactly_once(raw, expected):
    assert decode_x(raw) == expected


def test_safe_mrkdwn_never_cuts_inside_an_entity():
    for limit in range(5, 40):
        out = safe_mrkdwn("&" * 50, limit)
        assert utf16_len(out) <= limit
        assert out.removesuffix("…").replace("&amp;", "") == ""


def test_ping_detector_detects_what_it_should():
    assert PING.findall("hi <!channel> and <@U123ABC>") == ["!channel", "@U123ABC"]
