"""Surge mode: a burst of alike mentions becomes an incident card, paced, with nothing lost; a status
update goes to every customer only after explicit confirmation, once each; the surge ends cleanly.

The bursts are real tweets from data/: those of the kind a winter storm brings
(cancellations, delays, phone holds) as the surge, other airline tweets as the brand's usual traffic.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode

import pytest

from fakes.data import airline_tweets, publish, storm_and_calm
from fakes.slack_requests import (
    block_action_body,
    home_action_body,
    signed_post,
    slash_command_body,
    view_submission_body,
)
from fakes.x_api import too_many_requests
from tests.helpers import QUEUE, SIGNING_SECRET, add_case, wait_until

STORM, CALM = storm_and_calm(airline_tweets())
BRAND = "Delta"  # the fake X's brand account
TWEET_LINK = re.compile(r"twitter\.com/(?:\w+|i/web)/status/(\d+)")


def incident_cards(fake_slack) -> list:
    return [m for m in fake_slack.top_level(QUEUE) if (m.metadata or {}).get("event_type") == "perch_incident"]


def case_cards(fake_slack) -> list:
    return [m for m in fake_slack.top_level(QUEUE) if (m.metadata or {}).get("event_type") == "perch_case"]


def visible_tweet_ids(fake_slack) -> set[str]:
    """Every tweet a person can see in Slack: as its own card, or listed in an incident's thread."""
    seen = {m.metadata["event_payload"]["tweet_id"] for m in case_cards(fake_slack)}
    for message in fake_slack.messages:
        if (message.metadata or {}).get("event_type") == "perch_incident_chunk":
            seen |= set(TWEET_LINK.findall(json.dumps(message.blocks)))
    return seen


def post_until_done(bot, rounds: int = 20) -> None:
    for _ in range(rounds):
        report = bot.poster.run()
        if not (report.posted or report.chunks or report.incidents or report.updated):
            return


# -- grouping ---------------------------------------------------------------------------------------


# -- the 2,000-mention burst ----------------------------------------------------------------------


def test_burst_of_2000_mentions_in_a_minute_is_grouped_paced_and_nothing_lost(make_bot, fake_x, fake_slack):
    """Slack's limit time-scaled 50x (one message per 20 ms per channel, enforced by the fake with 429s)
    so the test runs in seconds; bench/surge.py runs the same burst at the real one per second."""
    now = datetime.now(UTC)
    usual = publish(fake_x, CALM[:100], BRAND, start=now - timedelta(hours=3), every_seconds=60)
    burst = publish(fake_x, STORM[:2000], BRAND, start=now - timedelta(seconds=60), every_seconds=0.03)
    fake_slack.channel_interval = 0.02
    bot = make_bot(SLACK_CHANNEL_POST_INTERVAL_SECONDS="0.02", SURGE_THRESHOLD="30")
    bot.ingestor.run()
    post_until_done(bot)

    stored = {row["id"] for row in bot.store.db.query("SELECT id FROM tweets")}
    assert set(burst) | set(usual) <= stored
    assert visible_tweet_ids(fake_slack) == set(burst) | set(usual)
    assert fake_slack.rate_limited == []
    incidents = incident_cards(fake_slack)
    assert 2 <= len(incidents) <= 5  # up to four topics, and the other tweets
    assert any("other mentions" in json.dumps(card.blocks) for card in incidents)
    assert any("cancel" in json.dumps(card.blocks) for card in incidents)
    assert len(fake_slack.messages) < len(burst) / 5  # cards + incident cards + thread chunks
    assert fake_slack.pings() == []
    db = bot.store.db
    grouped = db.execute("SELECT COUNT(*) FROM cases WHERE grouped = 1").fetchone()[0]
    assert grouped > 1500
    own_cards = db.execute(
        "SELECT priority, COUNT(*) FROM cases WHERE grouped = 0 AND tweet_created_at > ? GROUP BY priority",
        [(now - timedelta(minutes=2)).isoformat()],
    ).fetchall()
    assert [priority for priority, _ in own_cards] == ["high"]  # during the surge, only high priority stands alone
    # every case has its `posted` time (when it became visible), so time-to-card reports stay true
    assert bot.store.db.execute("SELECT COUNT(*) FROM cases WHERE posted_at IS NULL").fetchone()[0] == 0


# -- working an incident ----------------------------------------------------------------------------


@pytest.fixture
def surge(serve, fake_x, fake_slack):
    """A small storm (60 real tweets in a minute, two from one customer) after a calm morning."""
    now = datetime.now(UTC)
    publish(fake_x, CALM[:60], BRAND, start=now - timedelta(hours=4), every_seconds=120)
    storm = [row for row in STORM if "cancel" in row.text.lower()][:59]
    storm.append(
        storm[0].__class__(
            storm[0].tweet_id + "b",
            storm[0].handle,
            "@AmericanAir still cancelled, nobody answers",
            "negative",
            "American",
            storm[0].created,
        )
    )
    ids = publish(fake_x, storm, BRAND, start=now - timedelta(seconds=60), every_seconds=1)
    served = serve(SURGE_THRESHOLD="30")
    served.runtime.ingestor.run()
    post_until_done(served.runtime)
    (card,) = [c for c in incident_cards(fake_slack) if "cancel" in c.blocks[0]["text"]["text"]]
    return served, card, ids


def chunk_claims(fake_slack, card) -> list[tuple[str, str]]:
    """(chunk ts, case id) of every Claim button in the incident's thread."""
    return [
        (m.ts, block["accessory"]["value"])
        for m in fake_slack.thread(card.ts)
        for block in m.blocks
        if block.get("accessory", {}).get("action_id") == "claim"
    ]


def test_a_tweet_claimed_from_the_incident_thread_gets_its_own_card(surge, fake_slack):
    served, card, _ = surge
    chunk_ts, case_id = chunk_claims(fake_slack, card)[0]
    cards_before = len(case_cards(fake_slack))
    served.click("claim", "U0AGENT", chunk_ts, value=case_id)
    db = served.runtime.store.db
    wait_until(lambda: db["cases"].get(int(case_id))["assignee"] == "U0AGENT")
    served.runtime.poster.run()
    assert db["cases"].get(int(case_id))["slack_ts"]
    new = [c for c in case_cards(fake_slack)[cards_before:] if c.metadata["event_payload"]["case_id"] == int(case_id)]
    assert len(new) == 1 and "reply" in json.dumps(new[0].blocks)
    assert case_id not in {value for _, value in chunk_claims(fake_slack, card)}  # the chunk shows it taken
    assert any("has its own card now" in json.dumps(update) for update in fake_slack.updates)
    waiting = re.search(r"\*(\d+)\* waiting", card.blocks[0]["text"]["text"])  # the card, as edited
    assert waiting and int(waiting.group(1)) == 59  # 60 tweets, one taken


def open_view(fake_slack, callback_id: str) -> dict:
    """The modal Perch opened last with this callback id (clicks are answered after the ack)."""
    wait_until(lambda: any(v["callback_id"] == callback_id for v in fake_slack.views))
    return [v for v in fake_slack.views if v["callback_id"] == callback_id][-1]


def test_status_update_is_sent_to_each_customer_once_and_only_after_confirmation(surge, fake_x, fake_slack):
    served, card, ids = surge
    runtime = served.runtime
    served.click("incident_status", "U0AGENT", card.ts, value="1")
    status = open_view(fake_slack, "incident_status")
    text = "We know about the storm cancellations and are rebooking everyone. Updates at jetblue.com/travelalerts"
    assert served.send(view_submission_body(status, {"status_text": text}, user="U0AGENT")).ok
    wait_until(lambda: runtime.store.db["incidents"].get(1)["status_text"] == text)  # saved after the ack
    runtime.poster.run()
    assert "Status update" in json.dumps(fake_slack.updates[-1]) and "jetblue.com/travelalerts" in json.dumps(
        fake_slack.updates[-1]
    )

    served.click("incident_bulk_reply", "U0AGENT", card.ts, value="1")
    confirm = open_view(fake_slack, "incident_bulk_reply")
    db = runtime.store.db
    customers = {row[0] for row in db.execute("SELECT DISTINCT author_id FROM cases WHERE incident_id = 1")}
    assert f"{len(customers)} individual public replies" in json.dumps(confirm)

    unticked = served.send(view_submission_body(confirm, {}, user="U0AGENT"))
    assert unticked.json()["response_action"] == "errors"
    for _ in range(3):
        runtime.bulk.run()
    assert fake_x.posted == []  # nothing without the box ticked

    body = _ticked_submission(confirm, "U0AGENT")
    assert served.send(body).status_code == 200
    assert served.send(body).status_code == 200  # a double submit confirms nothing more
    for _ in range(len(customers) + 5):
        runtime.bulk.run()
    replied_to = [p["reply"]["in_reply_to_tweet_id"] for p in fake_x.posted]
    assert len(replied_to) == len(set(replied_to)) == len(customers)
    authors = [fake_x.tweets[tweet_id].author_id for tweet_id in replied_to]
    assert sorted(authors) == sorted(customers)  # one per customer, the one with two tweets too
    assert all(p["text"].startswith("@") and p["text"].endswith(text) for p in fake_x.posted)
    assert db.execute("SELECT COUNT(*) FROM cases WHERE incident_id = 1 AND assignee IS NOT NULL").fetchone()[0] == 0
    runtime.poster.run()
    assert f"{len(customers)} of {len(customers)} sent · done" in json.dumps(fake_slack.updates, ensure_ascii=False)


def confirm_bulk_reply(served, card, fake_slack) -> None:
    """A status update is written and an agent confirms sending it to everyone."""
    db = served.runtime.store.db
    db.execute("UPDATE incidents SET status_text = 'We are on it', status_at = '2026-01-01T00:00:00Z' WHERE id = 1")
    served.click("incident_bulk_reply", "U0AGENT", card.ts, value="1")
    assert served.send(_ticked_submission(open_view(fake_slack, "incident_bulk_reply"), "U0AGENT")).ok
    wait_until(lambda: db["incidents"].get(1)["bulk_at"])


def _ticked_submission(view: dict, user: str) -> str:
    """The confirmation modal submitted with its checkbox ticked."""
    payload = json.loads(parse_qs(view_submission_body(view, {}, user=user))["payload"][0])
    payload["view"]["state"]["values"] = {
        "confirm": {
            "confirmed": {
                "type": "checkboxes",
                "selected_options": [{"value": "yes", "text": {"type": "plain_text", "text": "x"}}],
            }
        }
    }
    return urlencode({"payload": json.dumps(payload)})


def test_when_the_surge_ends_new_tweets_get_their_own_cards_again(surge, fake_x, fake_slack):
    served, card, _ = surge
    runtime = served.runtime
    later = datetime.now(UTC) + timedelta(minutes=10)
    runtime.grouper.now = lambda: later
    runtime.poster.run()
    assert "Surge over" in json.dumps(fake_slack.updates)
    tweet = fake_x.add_tweet(f"@{BRAND} my flight got cancelled too, rebook me please", "late_storm")
    runtime.ingestor.run()
    runtime.poster.run()
    assert tweet in {m.metadata["event_payload"]["tweet_id"] for m in case_cards(fake_slack)}


def test_lost_responses_never_duplicate_the_incident_card_or_a_thread_chunk(make_bot, fake_x, fake_slack):
    """Slack posts the message but the answer is lost (the bot may have crashed): the next run finds it
    by its metadata instead of posting it again."""
    storm = [row for row in STORM if "cancel" in row.text.lower()][:45]
    ids = publish(fake_x, storm, BRAND, start=datetime.now(UTC) - timedelta(seconds=50), every_seconds=1)
    bot = make_bot(SURGE_THRESHOLD="30")
    bot.ingestor.run()
    fake_slack.script(r"chat\.postMessage$", mode="apply_then", drop_connection=True)  # the incident card
    bot.poster.run()
    assert len(incident_cards(fake_slack)) == 1 and bot.store.db["incidents"].get(1)["slack_ts"] is None
    fake_slack.script(r"chat\.postMessage$", mode="apply_then", drop_connection=True)  # the first chunk
    bot.poster.run()
    post_until_done(bot)
    (card,) = incident_cards(fake_slack)
    chunks = fake_slack.thread(card.ts)
    assert len(chunks) == 2  # 45 tweets, 30 a chunk
    listed = [tweet for chunk in chunks for tweet in TWEET_LINK.findall(json.dumps(chunk.blocks))]
    assert sorted(listed) == sorted(ids)
    assert case_cards(fake_slack) == []


def test_bulk_replies_wait_out_xs_rate_limit_and_never_send_twice(surge, fake_x, fake_slack):
    served, card, _ = surge
    runtime = served.runtime
    db = runtime.store.db
    confirm_bulk_reply(served, card, fake_slack)
    runtime.bulk.run()
    fake_x.script(r"^/2/tweets$", **too_many_requests(reset_in=2))
    assert runtime.bulk.run() == "rate_limited"
    calls = len(fake_x.requests_to(r"^/2/tweets$"))
    assert runtime.bulk.run() is None  # paused until X's reset, not hammering X
    assert len(fake_x.requests_to(r"^/2/tweets$")) == calls
    wait_until(lambda: time.time() > runtime.bulk.paused_until + 0.1)
    fake_x.script(r"^/2/tweets$", mode="apply_then", status=503, body={"title": "Service Unavailable"})
    assert runtime.bulk.run() == "unknown"  # X posted it but did not say so
    while runtime.bulk.run() is not None:
        pass
    replied_to = [p["reply"]["in_reply_to_tweet_id"] for p in fake_x.posted]
    assert len(replied_to) == len(set(replied_to))
    customers = db.execute("SELECT COUNT(DISTINCT author_id) FROM cases WHERE incident_id = 1").fetchone()[0]
    assert len(replied_to) == customers


def test_tweets_arriving_later_fill_the_last_chunk_by_an_edit_and_count_as_shown(make_bot, fake_x, fake_slack):
    storm = [row for row in STORM if "cancel" in row.text.lower()][:55]
    now = datetime.now(UTC)
    first = publish(fake_x, storm[:40], BRAND, start=now - timedelta(seconds=50), every_seconds=1)
    bot = make_bot(SURGE_THRESHOLD="30")
    bot.ingestor.run()
    post_until_done(bot)
    (card,) = incident_cards(fake_slack)
    assert len(fake_slack.thread(card.ts)) == 2  # 30 + 10
    later = publish(fake_x, storm[40:], BRAND, start=now - timedelta(seconds=9), every_seconds=0.5)
    bot.ingestor.run()
    post_until_done(bot)
    chunks = fake_slack.thread(card.ts)
    assert len(chunks) == 2  # the second chunk was filled up in place: 30 + 25, no new message
    listed = [tweet for chunk in chunks for tweet in TWEET_LINK.findall(json.dumps(chunk.blocks))]
    assert sorted(listed) == sorted(first + later)
    assert bot.store.db.execute("SELECT COUNT(*) FROM cases WHERE posted_at IS NULL").fetchone()[0] == 0
    assert "55 tweets" in json.dumps(card.blocks)  # the incident card's count followed


def test_a_follow_up_to_a_grouped_tweet_shows_in_its_chunk_and_later_in_its_card_thread(surge, fake_x, fake_slack):
    served, card, ids = surge
    runtime = served.runtime
    customer = fake_x.tweets[ids[5]].author_id
    follow_up = fake_x.add_tweet(
        f"@{BRAND} still stuck at the gate &lt;3 hours now", fake_x.users[customer], reply_to=ids[5]
    )
    runtime.ingestor.run()
    runtime.poster.run()
    shown = [m for m in fake_slack.thread(card.ts) if ids[5] in json.dumps(m.blocks)]
    assert len(shown) == 1 and "still stuck at the gate &lt;3 hours now" in json.dumps(shown[0].blocks)
    case_id = runtime.store.db.execute("SELECT case_id FROM tweets WHERE id = ?", [ids[5]]).fetchone()[0]
    served.click("claim", "U0AGENT", shown[0].ts, value=str(case_id))
    wait_until(lambda: runtime.store.db["cases"].get(case_id)["assignee"] == "U0AGENT")
    runtime.poster.run()
    own = [m for m in case_cards(fake_slack) if m.metadata["event_payload"]["case_id"] == case_id]
    assert len(own) == 1
    assert any(follow_up in json.dumps(m.metadata) for m in fake_slack.thread(own[0].ts))


def test_stop_sending_leaves_the_rest_unsent(surge, fake_x, fake_slack):
    served, card, _ = surge
    runtime = served.runtime
    db = runtime.store.db
    confirm_bulk_reply(served, card, fake_slack)
    assert runtime.bulk.run() == "sent" and runtime.bulk.run() == "sent"
    runtime.poster.run()
    assert "Stop sending" in json.dumps(card.blocks)
    served.click("incident_bulk_stop", "U0LEAD", card.ts, value="1")
    wait_until(lambda: db["incidents"].get(1)["bulk_stopped_by"] == "U0LEAD")
    assert runtime.bulk.run() is None
    assert len(fake_x.posted) == 2
    runtime.poster.run()
    assert "stopped by <@U0LEAD>" in json.dumps(card.blocks) and "Stop sending" not in json.dumps(card.blocks)
    # the lead is told after the click's acknowledgement: wait for it, as for any follow-up work
    wait_until(lambda: any("will not get the status reply" in text for text in fake_slack.ephemerals_to("U0LEAD")))


def test_perch_status_lists_open_surges(surge):
    served, _, _ = surge
    text = served.send(slash_command_body("status", user="U0AGENT", channel=QUEUE)).json()["text"]
    assert re.search(r"🌊 Surge “cancelled · flight” since \d\d:\d\d UTC: 60 waiting", text)


def test_a_grouped_tweet_is_claimable_from_the_app_home(surge, fake_slack):
    served, _, _ = surge
    db = served.runtime.store.db
    event = {
        "type": "event_callback",
        "team_id": "T0PERCH",
        "api_app_id": "A0PERCH",
        "event_id": "Ev9",
        "event_time": 1,
        "event": {"type": "app_home_opened", "user": "U0AGENT", "tab": "home", "event_ts": "1"},
    }
    signed_post(served.url, SIGNING_SECRET, json.dumps(event), content_type="application/json")
    wait_until(lambda: "U0AGENT" in fake_slack.homes)
    home = fake_slack.homes["U0AGENT"]
    assert re.search(
        r"🌊 \*Surge\* <https://slack.com/archives/C0QUEUE/p\d+\|“cancelled · flight”>: 60 waiting",
        json.dumps(home, ensure_ascii=False),
    )
    queued = [b["accessory"]["value"] for b in home["blocks"] if b.get("accessory", {}).get("action_id") == "claim"]
    grouped = {str(row[0]) for row in db.execute("SELECT id FROM cases WHERE grouped = 1")}
    case_id = next(value for value in queued if value in grouped)
    served.send(home_action_body("claim", case_id, user="U0AGENT", view=home))
    wait_until(lambda: db["cases"].get(int(case_id))["assignee"] == "U0AGENT")
    wait_until(lambda: f'"value": "{case_id}"' not in json.dumps(fake_slack.homes["U0AGENT"]))  # drawn again


def test_bulk_replies_move_past_a_customer_x_never_confirms(surge, fake_x, fake_slack):
    served, card, _ = surge
    runtime = served.runtime
    db = runtime.store.db
    confirm_bulk_reply(served, card, fake_slack)
    fake_x.script(r"^/2/tweets$", status=503, body={"title": "Service Unavailable"}, times=3)
    first = [runtime.bulk.run() for _ in range(3)]
    assert first[:2] == ["unknown", "unknown"] and first[2] == "failed", "given up after three unconfirmed tries"
    while runtime.bulk.run() is not None:
        pass
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM bulk_targets GROUP BY status").fetchall())
    customers = db.execute("SELECT COUNT(DISTINCT author_id) FROM cases WHERE incident_id = 1").fetchone()[0]
    assert statuses == {"failed": 1, "sent": customers - 1}, "the others were all reached"
    assert len(fake_x.posted) == customers - 1
    assert runtime.services.outbox.reconcile() == 0, "the given-up send is not retried behind the job's back"
    runtime.poster.run()
    assert "1 not sent (refused by X or never confirmed)" in json.dumps(fake_slack.top_level()[0].blocks)


def test_the_bulk_reply_says_how_many_customers_it_skips_for_not_summoning_the_brand(surge, fake_x, fake_slack):
    served, card, _ = surge
    db = served.runtime.store.db
    db.execute(
        "UPDATE tweets SET summoned = 0 WHERE author_id = (SELECT author_id FROM cases WHERE incident_id = 1 "
        "GROUP BY author_id HAVING COUNT(*) = 1 LIMIT 1)"
    )
    db.execute("UPDATE incidents SET status_text = 'We are on it', status_at = '2026-01-01T00:00:00Z' WHERE id = 1")
    customers = db.execute("SELECT COUNT(DISTINCT author_id) FROM cases WHERE incident_id = 1").fetchone()[0]
    served.click("incident_bulk_reply", "U0AGENT", card.ts, value="1")
    view = open_view(fake_slack, "incident_bulk_reply")
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert f"*{customers - 1:,} individual public replies*" in text
    assert "1 customer in this surge did not @mention or quote the brand" in text


def test_a_claim_in_an_incidents_list_acts_only_on_a_case_that_list_shows(surge, fake_x, fake_slack):
    """A Claim button in a surge's thread list names its case by value: a value naming a case the
    incident does not group (forged, or a stale copy) is refused in words and changes nothing."""
    served, card, ids = surge
    db = served.runtime.store.db
    other_case = 9_999  # a case of no incident
    add_case(db, other_case, "2026-03-20 11:00")
    listed_case = db.execute("SELECT case_id FROM tweets WHERE id = ?", [ids[3]]).fetchone()[0]
    chunk = next(m for m in fake_slack.thread(card.ts) if ids[3] in json.dumps(m.blocks))

    def claim_from_the_list(case_id: int):
        body = block_action_body("claim", str(case_id), user="U0AGENT", channel=QUEUE, message_ts=chunk.ts)
        payload = json.loads(parse_qs(body)["payload"][0])
        payload["message"]["metadata"] = chunk.metadata  # as Slack sends the message a button is on
        return served.send(urlencode({"payload": json.dumps(payload)}))

    assert claim_from_the_list(other_case).status_code == 200
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    assert "does not list" in fake_slack.ephemerals_to("U0AGENT")[-1]
    assert db["cases"].get(other_case)["assignee"] is None
    assert claim_from_the_list(listed_case).status_code == 200
    wait_until(lambda: db["cases"].get(listed_case)["assignee"] == "U0AGENT")
