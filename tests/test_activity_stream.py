"""X's activity stream (X_ACTIVITY_STREAM): DMs and mentions in seconds, the polls as the reconciler.

The real bot against the fake X's Activity API (`fakes/x_activity.py`, held to X's 2.167 description):
subscriptions made once, a DM in the card's thread through the stream, the same DM from a poll stored
once, a stall noticed and mended with backfill, a clean end of stream backing off, a refused subscription
said with the polls carrying on, and both shapes of a DM parsed alike. Keep-alive periods are made short
so the reader's deadlines play out quickly; nothing waits on the clock, only on what the fakes saw.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

from bot.doctor import doctor
from bot.domain.spend import Prices, cost
from bot.jobs.health import HealthMonitor
from bot.jobs.sources import DMS_GAP_STREAMED, StreamSource
from bot.x.activity import DM_RECEIVED, MENTION_CREATED, STREAM_SOURCE, Subscriptions
from bot.x.dms import parse_dm_events, parse_v1_dm_events
from handlers.commands.status import stream_line
from storage.dms import DM_SOURCE
from storage.usage import DM_EVENT, DM_READ, POST_EVENT, Usage
from tests.helpers import QUEUE, cycle, minutes_ago, wait_until

KEEPALIVE = 0.5  # seconds: X's 20 s, made short (the reader's deadline is 2.5 periods)
STREAMED = {"X_BEARER_TOKEN": "bearer-token", "X_ACTIVITY_STREAM": "true"}


@pytest.fixture
def streamed(make_bot, fake_x):
    """The bot with the stream on, short keep-alives on both sides; stopped at the end."""
    built = []

    def make(**overrides: str):
        fake_x.activity.keepalive = KEEPALIVE / 2
        runtime = make_bot(**{**STREAMED, **overrides})
        runtime.stream.keepalive = KEEPALIVE
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.stream.stop()


def connected(runtime) -> None:
    runtime.stream.start()
    wait_until(lambda: runtime.stream.status.state == "connected")


def dm_messages(fake_slack, ts: str) -> list:
    return [m for m in fake_slack.thread(ts) if (m.metadata or {}).get("event_type") == "perch_dm"]


def dm_rows(runtime) -> int:
    return runtime.store.db["dm_events"].count


def test_a_dm_reaches_the_cards_thread_through_the_stream_while_the_dm_polls_slow(streamed, fake_x, fake_slack):
    fake_x.add_tweet("@Delta my bag did not arrive at JFK", "bag_lady", created_at=minutes_ago(5))
    runtime = streamed()
    cycle(runtime)
    [card] = fake_slack.top_level()
    connected(runtime)
    assert runtime.stream.covers(DM_RECEIVED) and runtime.stream.covers(MENTION_CREATED)
    polls = len(fake_x.requests_to(r"^/2/dm_events$"))
    dm = fake_x.add_dm("Tag is DL123456", "bag_lady")
    wait_until(lambda: dm_rows(runtime) == 1)
    runtime.poster.run()
    [message] = dm_messages(fake_slack, card.ts)
    assert "Tag is DL123456" in json.dumps(message.blocks)
    assert message.metadata["event_payload"]["dm_event_id"] == dm
    runtime.ingestor.run()  # the DM sweep waits: the stream brings the DMs
    assert len(fake_x.requests_to(r"^/2/dm_events$")) == polls
    state = runtime.ingestor.states[DM_SOURCE]
    assert state.not_before >= state.polls[-1] + DMS_GAP_STREAMED
    billed = runtime.store.db.execute("SELECT kind, item_id FROM x_usage WHERE kind = ?", [DM_EVENT]).fetchall()
    assert billed == [(DM_EVENT, dm)]


def test_the_same_dm_from_the_stream_and_a_poll_is_stored_once(streamed, fake_x, fake_slack):
    fake_x.add_tweet("@Delta where is my refund", "refund_rob", created_at=minutes_ago(5))
    runtime = streamed()
    cycle(runtime)
    [card] = fake_slack.top_level()
    connected(runtime)
    fake_x.add_dm("Booking ref ABC123", "refund_rob")
    wait_until(lambda: dm_rows(runtime) == 1)
    runtime.stream.stop()  # the stream down: the DM poll is due again, and reads the same DM
    runtime.ingestor.states[DM_SOURCE].not_before = 0.0
    polls = len(fake_x.requests_to(r"^/2/dm_events$"))
    cycle(runtime)
    assert len(fake_x.requests_to(r"^/2/dm_events$")) == polls + 1
    assert dm_rows(runtime) == 1
    assert len(dm_messages(fake_slack, card.ts)) == 1


def test_a_mention_from_the_stream_opens_its_case_once(streamed, fake_x, fake_slack):
    runtime = streamed()
    cycle(runtime)
    connected(runtime)
    fake_x.add_tweet("@Delta the app logs me out", "logout_lou")
    wait_until(lambda: runtime.store.db["cases"].count == 1 and runtime.store.db["cases"].get(1)["routed_at"])
    cycle(runtime)  # the mentions poll reads the same post: no second case, one card
    assert runtime.store.db["cases"].count == 1
    assert len(fake_slack.top_level()) == 1


def test_a_stall_is_noticed_within_three_keepalives_and_backfill_brings_what_it_lost(streamed, fake_x):
    fake_x.add_tweet("@Delta lost my seat", "seat_sam", created_at=minutes_ago(5))
    runtime = streamed()
    cycle(runtime)
    connected(runtime)
    stream = runtime.stream
    fake_x.activity.stall()
    fake_x.add_dm("Seat 14C please", "seat_sam")  # lost on the stalled connection
    wait_until(lambda: stream.status.reconnects >= 1 and stream.status.state == "connected")
    assert "stalled" in (stream.status.last_drop or "")
    assert stream.deadline + stream.status.delays[0] < 3 * stream.keepalive
    again = fake_x.requests_to(r"^/2/activity/stream$")[1]
    assert again.query["backfill_minutes"] == "1"
    wait_until(lambda: dm_rows(runtime) == 1)


def test_a_clean_end_of_stream_backs_off_instead_of_looping(streamed, fake_x):
    runtime = streamed()
    cycle(runtime)
    runtime.stream.keepalive = 4.0  # each connection ends long before it counts as one that held
    connected(runtime)
    for ended in range(1, 4):
        fake_x.activity.end() if ended % 2 else fake_x.activity.cut()
        wait_until(lambda n=ended: fake_x.activity.connects == n + 1 and runtime.stream.status.state == "connected")
    delays = list(runtime.stream.status.delays)
    assert len(delays) == 3 and delays[0] < delays[1] < delays[2]
    assert fake_x.activity.connects == 4


def test_a_refused_subscription_is_said_and_the_dm_polls_carry_on(streamed, fake_x, fake_slack):
    fake_x.activity.refuse(DM_RECEIVED)
    runtime = streamed()
    cycle(runtime)
    connected(runtime)  # the mentions' subscription still streams
    subs = runtime.stream.status.subscriptions
    assert list(subs.refused) == [DM_RECEIVED] and "plan" in subs.refused[DM_RECEIVED]
    assert not runtime.stream.covers(DM_RECEIVED) and runtime.stream.covers(MENTION_CREATED)
    assert runtime.ingestor.states[DM_SOURCE].relief() == 0.0
    problems = HealthMonitor(
        runtime.store, runtime.slack, QUEUE, runtime.ingestor, no_poll_minutes=15, no_mentions_hours=24
    ).problems()
    assert "X_ACTIVITY_STREAM=false" in problems["x_stream_refused"]
    fake_x.add_dm("Hello, anyone there?", "patient_pat")
    runtime.ingestor.states[DM_SOURCE].not_before = 0.0
    cycle(runtime)
    assert dm_rows(runtime) == 1  # read by the poll, as before


def test_a_restart_finds_the_subscriptions_again(streamed, fake_x):
    first = streamed()
    cycle(first)
    connected(first)
    first.stream.stop()
    second = streamed()
    cycle(second)
    connected(second)
    assert sorted(s["event_type"] for s in fake_x.activity.subscriptions.values()) == [DM_RECEIVED, MENTION_CREATED]
    assert len([r for r in fake_x.requests_to(r"^/2/activity/subscriptions$") if r.method == "POST"]) == 2
    assert second.stream.status.subscriptions.created == []


def test_status_and_doctor_speak_of_the_stream(streamed, fake_x, fake_slack):
    runtime = streamed()
    findings = [f.line for f in doctor(runtime.settings, runtime.slack, runtime.x)]
    assert any("will subscribe the brand to dm.received, post.mention.create" in line for line in findings)
    cycle(runtime)
    connected(runtime)
    fake_x.add_dm("Hi", "status_sue")
    wait_until(lambda: dm_rows(runtime) == 1)
    source = runtime.ingestor.states[STREAM_SOURCE]
    assert isinstance(source, StreamSource)
    line = stream_line(source, datetime.now(UTC))
    assert "connected" in line and "1 event" in line and "0 reconnects" in line
    findings = [f.line for f in doctor(runtime.settings, runtime.slack, runtime.x)]
    assert any("activity subscriptions are there" in line for line in findings)


def test_both_shapes_of_a_dm_parse_to_the_same_dm():
    page = {
        "data": [
            {
                "id": "2080765901528535096",
                "event_type": "MessageCreate",
                "text": "hello!",
                "sender_id": "2222222222222222222",
                "dm_conversation_id": "1111111111111111111-2222222222222222222",
                "created_at": "2026-07-24T21:23:44.372Z",
            }
        ],
        "includes": {
            "users": [{"id": "2222222222222222222", "username": "OtherUser", "name": "OtherUser", "verified": False}]
        },
    }
    payload = {  # X's own `dm.received` sample (docs: x-api/activity/event-payloads), trimmed
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "2080765901528535096",
                "created_timestamp": "1784928224372",
                "message_create": {
                    "target": {"recipient_id": "1111111111111111111"},
                    "sender_id": "2222222222222222222",
                    "message_data": {"text": "hello!", "entities": {"hashtags": [], "urls": []}},
                },
            }
        ],
        "users": {
            "2222222222222222222": {
                "data": {"id": "2222222222222222222", "username": "OtherUser", "name": "OtherUser", "verified": False}
            }
        },
    }
    [polled], [streamed] = parse_dm_events(page), parse_v1_dm_events(payload)
    assert polled == streamed
    assert streamed.other_participant("1111111111111111111") == "2222222222222222222"


def test_a_stream_down_longer_than_the_polls_may_be_quiet_raises_an_alarm(streamed):
    runtime = streamed()
    now = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    status = runtime.stream.status
    status.state, status.last_error = "waiting", "the stream stalled (no byte for 50 s)"
    status.subscriptions = Subscriptions(ids={DM_RECEIVED: "1", MENTION_CREATED: "2"})
    health = HealthMonitor(
        runtime.store, runtime.slack, QUEUE, runtime.ingestor, no_poll_minutes=15, no_mentions_hours=24, now=lambda: now
    )
    status.down_since = (now - timedelta(minutes=14)).timestamp()
    assert "x_stream_down" not in health.problems()
    status.down_since = (now - timedelta(minutes=16)).timestamp()
    assert "stalled" in health.problems()["x_stream_down"]


def test_the_events_are_priced_as_x_bills_them():
    usage = Usage(reads={DM_EVENT: 3, POST_EVENT: 4, DM_READ: 3})
    assert cost(usage, Prices()) == pytest.approx(3 * 0.010 + 4 * 0.005 + 3 * 0.010)


def test_the_fake_refuses_what_x_refuses(fake_x):
    stream = requests.get(fake_x.url + "/2/activity/stream", headers={"Authorization": "OAuth x"}, timeout=5)
    assert stream.status_code == 403 and "Application-Only" in stream.json()["detail"]
    too_far = requests.get(
        fake_x.url + "/2/activity/stream?backfill_minutes=6", headers={"Authorization": "Bearer b"}, timeout=5
    )
    assert too_far.status_code == 400 and "backfill_minutes" in json.dumps(too_far.json())
    body = {"event_type": DM_RECEIVED, "filter": {"user_id": fake_x.brand["id"]}}
    app_only = requests.post(
        fake_x.url + "/2/activity/subscriptions", json=body, headers={"Authorization": "Bearer b"}, timeout=5
    )
    assert app_only.status_code == 403
    unknown = requests.post(
        fake_x.url + "/2/activity/subscriptions",
        json={**body, "event_type": "dm.deleted"},
        headers={"Authorization": "OAuth x"},
        timeout=5,
    )
    assert unknown.status_code == 400 and fake_x.activity.subscriptions == {}
