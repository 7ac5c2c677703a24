"""Priority triage: table tests, the measured agreement of "upset" with human labels, and the card."""

from __future__ import annotations

import json

from fakes.slack_requests import signed_post
from tests.helpers import QUEUE, SIGNING_SECRET, cycle, minutes_ago, wait_until


def test_high_priority_cards_are_marked_and_first_in_app_home(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta thanks, lovely crew", "happy", created_at=minutes_ago(20))
    fake_x.add_tweet("@Delta flight CANCELLED and I'm stranded, no one at the desk", "angry", created_at=minutes_ago(5))
    served = serve()
    cycle(served.runtime)
    cards = {
        m.metadata["event_payload"]["case_id"]: json.dumps(m.blocks, ensure_ascii=False)
        for m in fake_slack.top_level(QUEUE)
    }
    assert "🔴 *High priority* · negative · urgent: cancelled, no one, stranded" in cards[2]
    assert "High priority" not in cards[1]
    event = {
        "type": "event_callback",
        "team_id": "T0PERCH",
        "api_app_id": "A0PERCH",
        "event_id": "Ev2",
        "event_time": 1,
        "event": {"type": "app_home_opened", "user": "U0AGENT", "tab": "home", "event_ts": "1"},
    }
    signed_post(served.url, SIGNING_SECRET, json.dumps(event), content_type="application/json")
    wait_until(lambda: "U0AGENT" in fake_slack.homes)
    blocks = fake_slack.homes["U0AGENT"]["blocks"]
    start = next(i for i, b in enumerate(blocks) if b["type"] == "section" and b["text"]["text"].startswith("*Queue*"))
    queued = [b for b in blocks[start + 1 :] if b.get("accessory", {}).get("action_id") == "claim"]
    assert [b["accessory"]["value"] for b in queued] == ["2", "1"]  # each claimable from the Home tab
    assert queued[0]["text"]["text"].startswith("🔴") and not queued[1]["text"]["text"].startswith("🔴")


def test_a_verified_author_is_a_signal_read_from_x_and_shown_on_the_card(make_bot, fake_x, fake_slack):
    known = fake_x.add_user("frequentflyer", followers=900, verified=True)
    fake_x.add_tweet("@Delta terrible service, awful crew", known, created_at=minutes_ago(5))
    fake_x.add_tweet("@Delta terrible service, awful crew", "someone", created_at=minutes_ago(4))
    bot = make_bot()
    cycle(bot)
    verified, other = (json.dumps(m.blocks, ensure_ascii=False) for m in fake_slack.top_level(QUEUE))
    assert "🔴 *High priority* · negative · verified" in verified and "High priority" not in other
    assert bot.store.db["tweets"].count_where("author_verified = 1") == 1
