"""X's rule since 2026-02-23: a self-serve app may reply only to posts that @mention or quote the brand."""

from __future__ import annotations

import json

from bot.blocks.cards import NOT_SUMMONED
from fakes.slack_requests import view_submission_body
from tests.helpers import QUEUE, cycle, minutes_ago, wait_until


def card_actions(message) -> list[str]:
    (actions,) = [b for b in message.blocks if b.get("block_id") == "case_actions"]
    return [e["action_id"] for e in actions["elements"]]


def cards_by_tweet(fake_slack) -> dict:
    return {m.metadata["event_payload"]["tweet_id"]: m for m in fake_slack.top_level(QUEUE)}


def test_only_posts_that_summon_the_brand_offer_a_public_reply(serve, fake_x, fake_slack):
    search_hit = fake_x.add_tweet("flying delta today and the wifi is down again", "quiet", created_at=minutes_ago(5))
    mention = fake_x.add_tweet("@Delta wifi is down on DL123", "loud", created_at=minutes_ago(4))
    brand_post = fake_x.add_tweet(
        "Wifi is free on every flight!", fake_x.users[fake_x.brand["id"]], created_at=minutes_ago(60)
    )
    quote = fake_x.add_tweet("wifi? not on mine", "quoter", quote_of=brand_post, created_at=minutes_ago(3))
    served = serve(X_SEARCH_QUERIES="wifi", X_BEARER_TOKEN="app-token")
    cycle(served.runtime)
    cards = cards_by_tweet(fake_slack)
    assert "reply" not in card_actions(cards[search_hit]) and "move_to_dm" in card_actions(cards[search_hit])
    assert NOT_SUMMONED in json.dumps(cards[search_hit].blocks, ensure_ascii=False)
    assert "reply" in card_actions(cards[mention]) and "reply" in card_actions(cards[quote])
    assert NOT_SUMMONED not in json.dumps(cards[mention].blocks, ensure_ascii=False)
    hit = cards[search_hit]
    served.click("reply", "U0AGENT", hit.ts, value=str(hit.metadata["event_payload"]["case_id"]))  # a forged click
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    assert fake_slack.ephemerals_to("U0AGENT") == [NOT_SUMMONED] and fake_slack.views == []


def test_reply_anywhere_restores_reply_on_every_card(serve, fake_x, fake_slack):
    fake_x.reply_anywhere = True
    search_hit = fake_x.add_tweet("flying delta today and the wifi is down", "quiet", created_at=minutes_ago(5))
    served = serve(X_SEARCH_QUERIES="wifi", X_BEARER_TOKEN="app-token", X_REPLY_ANYWHERE="true")
    cycle(served.runtime)
    card = cards_by_tweet(fake_slack)[search_hit]
    assert "reply" in card_actions(card)
    served.click("reply", "U0AGENT", card.ts, value=str(card.metadata["event_payload"]["case_id"]))
    wait_until(lambda: fake_slack.views)
    view = fake_slack.views[-1]
    served.send(view_submission_body(view, {"reply_text_0": "@quiet Sorry, our team is on it"}, user="U0AGENT"))
    wait_until(lambda: fake_x.posted)
    assert fake_x.posted[0]["reply"]["in_reply_to_tweet_id"] == search_hit


def test_xs_refusal_for_an_unsummoned_post_is_said_in_plain_words(serve, fake_x, fake_slack):
    """The card predates the rule (a stored post with no verdict): X refuses, the form says why."""
    mention = fake_x.add_tweet("@Delta bag lost", "bags", created_at=minutes_ago(5))
    served = serve()
    cycle(served.runtime)
    fake_x.script(
        r"^/2/tweets$",
        status=403,
        body={
            "title": "Forbidden",
            "type": "about:blank",
            "status": 403,
            "detail": "Reply to this conversation is not allowed because you have not been mentioned or otherwise "
            "engaged by the author of the post you are replying to.",
        },
    )
    card = cards_by_tweet(fake_slack)[mention]
    served.click("reply", "U0AGENT", card.ts, value="1")
    wait_until(lambda: fake_slack.views)
    answer = served.send(view_submission_body(fake_slack.views[-1], {"reply_text_0": "@bags sorry!"}, user="U0AGENT"))
    error = answer.json()["errors"]["reply_text_0"]
    assert "X lets an app reply only to posts that @mention the brand or quote it" in error
    assert fake_x.posted == []


def test_move_to_dm_on_a_post_x_lets_no_one_answer_sends_the_dm_alone(serve, fake_x, fake_slack):
    search_hit = fake_x.add_tweet("flying delta today and the wifi is down", "quiet", created_at=minutes_ago(5))
    served = serve(X_SEARCH_QUERIES="wifi", X_BEARER_TOKEN="app-token")
    cycle(served.runtime)
    card = cards_by_tweet(fake_slack)[search_hit]
    served.click("move_to_dm", "U0AGENT", card.ts, value=str(card.metadata["event_payload"]["case_id"]))
    wait_until(lambda: fake_slack.views)
    view = fake_slack.views[-1]
    assert "No public handoff" in json.dumps(view["blocks"]) and not any(
        b.get("block_id") == "public" for b in view["blocks"]
    )
    empty = served.send(view_submission_body(view, {"private": "  "}, user="U0AGENT")).json()
    assert "empty" in empty["errors"]["private"]
    answer = served.send(view_submission_body(view, {"private": "Hi! Can we help with the wifi?"}, user="U0AGENT"))
    assert answer.text == "" and fake_x.posted == []
    assert [d["text"] for d in fake_x.dms] == ["Hi! Can we help with the wifi?"]
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["status"] == "in_dm")
