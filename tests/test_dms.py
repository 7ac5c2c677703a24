"""Direct messages in the case: customers' DMs read from X into the card's thread, answered from Slack."""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks.home import home_view
from bot.blocks.report_csv import report_csv
from bot.domain.locations import build_location
from bot.jobs.health import HealthMonitor
from fakes.slack_api import PING, Message
from storage.case_rows import case_rows
from storage.home import home_data
from storage.locations import save_location
from storage.metrics import build_report
from tests.conftest import Served
from tests.helpers import QUEUE, Clock, cycle, minutes_ago, wait_until
from tests.test_agent_actions import events, open_modal, submit
from tests.test_hostile import HOSTILE

DM_POLLS = r"^/2/dm_events$"
DM_SPACING = 70.0  # seconds: more than X's DM read limit spaces two reads (15 per 15 minutes)


@dataclass
class Moved:
    served: Served
    card: Message
    customer: str
    clock: Clock

    def poll_again(self) -> None:
        """The next DM read X's limit allows (15 / 15 min: about a minute later), then a post run."""
        self.clock.advance(DM_SPACING)
        cycle(self.served.runtime)


@pytest.fixture
def moved(serve, fake_x, fake_slack):
    """A customer's tweet, carded and moved to DM by an agent."""
    tweet = fake_x.add_tweet("@Delta my bag did not arrive at JFK", "bag_lady", created_at=minutes_ago(10))
    clock = Clock(time.time())
    served = serve(clock)
    cycle(served.runtime)
    card = fake_slack.top_level()[0]
    view = open_modal(served, fake_slack, "move_to_dm", "U0AGENT", card)
    public = next(b for b in view["blocks"] if b["block_id"] == "public")["element"]["initial_value"]
    assert submit(served, view, {"public": public, "private": "Hi! Your bag tag number, please?"}, "U0AGENT").text == ""
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["status"] == "in_dm")
    wait_until(lambda: events(served, "moved_to_dm"))  # recorded once the DM after the ack went out
    return Moved(served, card, fake_x.tweets[tweet].author_id, clock)


def dm_messages(fake_slack, ts: str) -> list:
    return [m for m in fake_slack.thread(ts) if (m.metadata or {}).get("event_type") == "perch_dm"]


def buttons(message) -> list[str]:
    return [e["action_id"] for e in message.blocks[-1]["elements"]]


def test_the_customers_dm_after_the_handoff_lands_in_the_thread(moved, fake_x, fake_slack):
    served, card, customer = moved.served, moved.card, moved.customer
    fake_x.add_dm("Tag is DL123456, thanks!", fake_x.users[customer])
    moved.poll_again()
    [dm] = dm_messages(fake_slack, card.ts)
    assert "Tag is DL123456, thanks!" in json.dumps(dm.blocks) and "answered by DM" in json.dumps(dm.blocks)
    customer_dm = next(e.id for e in fake_x.dm_events.values() if e.sender_id == customer)
    assert dm.metadata["event_payload"] == {"case_id": 1, "dm_event_id": customer_dm}
    assert "DL123456" not in dm.text, "the notification text says who wrote, not what"
    wait_until(lambda: "The customer wrote by DM" in json.dumps(fake_slack.top_level()[0].blocks))
    top = fake_slack.top_level()[0]
    assert "DL123456" not in json.dumps(top.blocks) + top.text
    assert "reply_dm" in buttons(top) and "move_to_dm" not in buttons(top)
    assert [e["kind"] for e in events(served) if e["kind"] == "dm_received"] == ["dm_received"]
    moved.poll_again()
    assert len(dm_messages(fake_slack, card.ts)) == 1, "stored once, posted once"


def test_perch_s_own_dm_read_back_from_x_is_not_posted_again(moved, fake_x, fake_slack):
    served, card = moved.served, moved.card
    wait_until(lambda: len(fake_slack.thread(card.ts)) == 2)  # the handoff's note and the first DM's
    moved.poll_again()
    assert len(fake_slack.thread(card.ts)) == 2
    db = served.runtime.store.db
    assert db.execute("SELECT COUNT(*) FROM replies WHERE kind = 'dm'").fetchone()[0] == 1
    assert db.execute("SELECT reply_id IS NOT NULL FROM dm_events WHERE direction = 'out'").fetchone()[0] == 1


def test_reply_in_dm_shows_the_conversation_and_sends_once(moved, fake_x, fake_slack):
    served, card, customer = moved.served, moved.card, moved.customer
    fake_x.add_dm("It is DL123456", fake_x.users[customer])
    moved.poll_again()
    view = open_modal(served, fake_slack, "reply_dm", "U0AGENT", fake_slack.top_level()[0])
    assert view["callback_id"] == "reply_dm"
    shown = json.dumps(view["blocks"], ensure_ascii=False)
    assert "It is DL123456" in shown and "Your bag tag number" in shown
    values = {"dm_text_0": "Found it: it arrives on the 18:05 flight."}
    first = submit(served, view, values, "U0AGENT")
    again = submit(served, view, values, "U0AGENT", retry_num=1)  # Slack's retry of the same submission
    assert first.text == "" and again.text == ""
    assert [d["text"] for d in fake_x.dms] == ["Hi! Your bag tag number, please?", values["dm_text_0"]]
    wait_until(lambda: any("Found it" in json.dumps(m.blocks) for m in fake_slack.thread(card.ts)))
    wait_until(lambda: "Waiting on the customer" in json.dumps(fake_slack.top_level()[0].blocks))


def test_an_empty_or_refused_dm_is_told_on_the_form(moved, fake_x, fake_slack):
    served, card, customer = moved.served, moved.card, moved.customer
    view = open_modal(served, fake_slack, "reply_dm", "U0AGENT", card)
    empty = submit(served, view, {"dm_text_0": "   "}, "U0AGENT").json()
    assert empty["response_action"] == "errors" and "empty" in empty["errors"]["dm_text_0"]
    fake_x.closed_dms.add(customer)
    refused = submit(served, view, {"dm_text_0": "Are you there?"}, "U0AGENT").json()
    assert "not following you" in refused["errors"]["dm_text_0"]
    db = served.runtime.store.db
    assert db.execute("SELECT status FROM replies WHERE text = 'Are you there?'").fetchone()[0] == "failed"
    assert len(fake_x.dms) == 1 and len(events(served, "dm_sent")) == 1


def test_an_x_time_out_then_a_resubmit_still_sends_one_dm(moved, fake_x, fake_slack):
    served, card = moved.served, moved.card
    view = open_modal(served, fake_slack, "reply_dm", "U0AGENT", card)
    fake_x.script(r"^/2/dm_conversations/with/\d+/messages$", mode="apply_then", delay=3.0)
    values = {"dm_text_0": "We rebooked you on DL 44."}
    late = submit(served, view, values, "U0AGENT").json()
    assert "did not confirm it in time" in late["errors"]["dm_text_0"]
    assert submit(served, view, values, "U0AGENT").text == ""
    assert [d["text"] for d in fake_x.dms].count(values["dm_text_0"]) == 1
    assert len(events(served, "dm_sent")) == 2  # the handoff's first DM, and this one, each once


def test_a_dm_from_someone_with_no_case_opens_a_dm_card(make_bot, fake_x, fake_slack):
    fake_x.add_dm("Hi, my flight from JFK was cancelled and I need a hotel", "quiet_one")
    runtime = make_bot()
    save_location(runtime.store.db, build_location("JFK", "C0JFK", staff="S0JFK"))
    cycle(runtime)
    [card] = fake_slack.top_level()
    payload = card.metadata["event_payload"]
    assert card.metadata["event_type"] == "perch_case" and set(payload) == {"case_id", "dm_event_id"}
    shown = json.dumps(card.blocks, ensure_ascii=False) + card.text
    assert "Came by DM" in shown and "hotel" not in shown, "a DM's text stays in the thread"
    assert "@quiet_one" in shown and "JFK?" in shown, "triaged and located like a tweet"
    assert buttons(card)[:2] == ["claim", "reply_dm"] and "reply" not in buttons(card)
    assert "move_to_dm" not in buttons(card)
    [dm] = dm_messages(fake_slack, card.ts)
    assert "hotel" in json.dumps(dm.blocks) and "wrote to the brand by DM" in json.dumps(dm.blocks)


def test_a_dm_card_refuses_a_forged_public_reply(serve, fake_x, fake_slack):
    fake_x.add_dm("Need help", "quiet_one")
    served = serve()
    cycle(served.runtime)
    card = fake_slack.top_level()[0]
    served.click("reply", "U0AGENT", card.ts)
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    assert "Reply in DM" in fake_slack.ephemerals_to("U0AGENT")[0]
    assert fake_slack.views == []


def test_dm_cases_go_to_the_private_dm_channel_when_set(make_bot, fake_x, fake_slack):
    fake_slack.channels.add("G0PRIVATE")
    fake_x.add_tweet("@Delta public question", "loud_one", created_at=minutes_ago(3))
    fake_x.add_dm("private question", "quiet_one")
    cycle(make_bot(SLACK_DM_CHANNEL="G0PRIVATE"))
    assert [m.metadata["event_payload"].get("tweet_id") is not None for m in fake_slack.top_level(QUEUE)] == [True]
    [private] = fake_slack.top_level("G0PRIVATE")
    assert "dm_event_id" in private.metadata["event_payload"]
    assert len(dm_messages(fake_slack, private.ts)) == 1


def test_hostile_dms_ping_no_one_and_stay_valid(make_bot, fake_x, fake_slack):
    for index, text in enumerate(HOSTILE.values()):
        fake_x.add_dm(text.replace("@Delta ", ""), f"dm_user_{index}")
    fake_x.add_dm("<@U024BE7LH> call me", fake_x.add_user("odd_name", name="<!channel> *Totally Delta*"))
    cycle(make_bot())
    assert len(fake_slack.top_level()) == len(HOSTILE) + 1
    assert len([m for m in fake_slack.messages if m.thread_ts]) == len(HOSTILE) + 1
    assert fake_slack.pings() == [] and fake_slack.block_errors == []
    for message in fake_slack.messages:
        assert not PING.search(message.text), message.text


def test_a_dm_reopens_a_recently_resolved_case_and_pings_its_agent(moved, fake_x, fake_slack):
    served, card, customer = moved.served, moved.card, moved.customer
    served.click("resolve", "U0AGENT", card.ts)
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["status"] == "resolved")
    fake_x.add_dm("Actually, the bag still is not here", fake_x.users[customer])
    moved.poll_again()
    case = served.runtime.store.db["cases"].get(1)
    assert case["status"] == "claimed" and case["reopened_count"] == 1
    [dm] = dm_messages(fake_slack, card.ts)
    assert "<@U0AGENT>" in json.dumps(dm.blocks) and "open again" in json.dumps(dm.blocks)
    assert len(fake_slack.top_level()) == 1, "no second card"


def test_a_dm_the_brand_sent_on_x_com_counts_as_the_response(make_bot, fake_x, fake_slack):
    tweet = fake_x.add_tweet("@Delta where is my refund", "waiting_one", created_at=minutes_ago(20))
    clock = Clock(time.time())
    runtime = make_bot(clock)
    cycle(runtime)
    customer = fake_x.tweets[tweet].author_id
    fake_x.add_dm("Hi, we have sent your refund today.", fake_x.users[fake_x.brand["id"]], to=customer)
    clock.advance(DM_SPACING)
    cycle(runtime)
    case = runtime.store.db["cases"].get(1)
    assert case["first_response_at"] is not None and case["status"] == "in_dm"
    card = fake_slack.top_level()[0]
    [note] = [m for m in fake_slack.thread(card.ts) if "sent your refund" in json.dumps(m.blocks)]
    assert "Sent a DM on x.com as @Delta" in json.dumps(note.blocks, ensure_ascii=False)
    assert "reply_dm" in buttons(fake_slack.top_level()[0])


def test_every_page_of_dm_events_is_read(make_bot, fake_x, fake_slack):
    start = datetime.now(UTC) - timedelta(hours=2)
    for n in range(230):
        fake_x.add_dm(f"message {n}", f"sender_{n}", created_at=start + timedelta(seconds=n * 10))
    runtime = make_bot(SLACK_CHANNEL_POST_INTERVAL_SECONDS="0")
    runtime.ingestor.run()
    assert len(fake_x.requests_to(DM_POLLS)) == 3
    assert runtime.store.db.execute("SELECT COUNT(*) FROM dm_events").fetchone()[0] == 230
    assert runtime.store.db.execute("SELECT COUNT(*) FROM cases WHERE dm_event_id IS NOT NULL").fetchone()[0] == 230


def test_the_dm_read_limit_is_never_exceeded_over_a_long_run(make_bot, fake_x, fake_slack):
    clock = Clock(datetime.now(UTC).timestamp())
    runtime = make_bot(clock, POLL_INTERVAL_SECONDS="3")  # asks far more often than X allows DM reads
    polls: list[float] = []  # the driven clock's time of each DM read
    for step in range(720):  # two hours in 10 s ticks, a DM now and then
        if step % 20 == 0:
            fake_x.add_dm(f"dm at step {step}", f"sender_{step}", created_at=datetime.fromtimestamp(clock.now, UTC))
        before = len(fake_x.requests_to(DM_POLLS))
        runtime.ingestor.run()
        polls += [clock.now] * (len(fake_x.requests_to(DM_POLLS)) - before)
        clock.advance(10)
    assert all(r.response is not None and r.response.status == 200 for r in fake_x.requests_to(DM_POLLS))
    busiest = max(sum(1 for p in polls if start <= p < start + 900) for start in polls)
    assert busiest <= 15 and len(polls) >= 100, (busiest, len(polls))  # most of the budget, never more
    stored = runtime.store.db.execute("SELECT COUNT(*) FROM dm_events").fetchone()[0]
    assert stored == len([s for s in range(720) if s % 20 == 0])


def test_a_burst_larger_than_one_poll_s_budget_is_read_in_full_without_a_429(make_bot, fake_x, fake_slack):
    clock = Clock(datetime.now(UTC).timestamp())
    runtime = make_bot(clock)
    runtime.ingestor.run()  # learns the budget
    start = datetime.fromtimestamp(clock.now, UTC)
    for n in range(1800):
        fake_x.add_dm(f"burst {n}", f"burst_{n % 50}", created_at=start + timedelta(milliseconds=n))
    clock.advance(60)
    for _ in range(60):
        runtime.ingestor.run()
        clock.advance(60)
    assert runtime.store.db.execute("SELECT COUNT(*) FROM dm_events").fetchone()[0] == 1800
    assert all(r.response is not None and r.response.status == 200 for r in fake_x.requests_to(DM_POLLS))


def test_a_restart_never_posts_a_dm_twice_in_the_thread(make_bot, fake_x, fake_slack):
    fake_x.add_dm("first words", "quiet_one")
    first = make_bot()
    first.ingestor.run()
    first.poster.run()
    card = fake_slack.top_level()[0]
    first.store.db.execute("UPDATE dm_events SET slack_ts = NULL")  # the crash: posted, not recorded
    cycle(make_bot())
    assert len(dm_messages(fake_slack, card.ts)) == 1


def test_reports_count_dm_answers(moved, fake_x, fake_slack):
    served = moved.served
    db = served.runtime.store.db
    assert db["cases"].get(1)["first_response_at"] is not None
    kinds = {r["kind"] for r in db.query("SELECT kind FROM events")}
    assert {"replied", "moved_to_dm", "dm_sent"} <= kinds


def test_reports_split_cases_by_channel_and_time_the_first_dm_answer(moved, fake_x, fake_slack):
    served, card, customer = moved.served, moved.card, moved.customer
    fake_x.add_dm("My tag is DL123456", fake_x.users[customer])
    fake_x.add_dm("Separate question, by DM only", "quiet_one")
    moved.poll_again()
    view = open_modal(served, fake_slack, "reply_dm", "U0AGENT", card)
    assert submit(served, view, {"dm_text_0": "Thanks, found it."}, "U0AGENT").text == ""
    db = served.runtime.store.db
    now = datetime.now(UTC) + timedelta(minutes=5)
    report = build_report(db, now - timedelta(days=1), now, now=now)
    assert report.volume_in == 2 and report.channels == {"public": 0, "dm": 1, "both": 1}
    assert report.time_to_dm_answer.count == 1  # the DM-only case is unanswered: no duration yet
    assert 0 <= report.time_to_dm_answer.p50 < 60, "from the customer's DM, not from the handoff's DM"
    answered = case_rows(db, now - timedelta(days=1), now)
    assert [r.channel for r in answered] == ["both", "dm"]
    rows = list(csv.DictReader(io.StringIO(report_csv(answered))))
    assert rows[1]["tweet_link"] == "" and rows[1]["channel"] == "dm" and rows[1]["author"] == "quiet_one"


def test_app_home_lists_cases_waiting_on_the_customer_s_dm_apart(moved, fake_x, fake_slack):
    served, card = moved.served, moved.card
    wait_until(lambda: len(fake_slack.thread(card.ts)) == 2)
    db = served.runtime.store.db
    data = home_data(db, "U0AGENT", timezone="UTC", sla_minutes=60, now=datetime.now(UTC))
    text = json.dumps(home_view(data, timezone="UTC", sla_minutes=60, now=datetime.now(UTC))["blocks"])
    assert "Waiting on the customer's DM answer" in text and "Nothing waiting on you." in text
    fake_x.add_dm("here it is", fake_x.users[moved.customer])
    moved.poll_again()
    data = home_data(db, "U0AGENT", timezone="UTC", sla_minutes=60, now=datetime.now(UTC))
    text = json.dumps(home_view(data, timezone="UTC", sla_minutes=60, now=datetime.now(UTC))["blocks"])
    assert "Waiting on the customer" not in text and "Case #1" in text


def test_an_x_app_without_dm_permission_says_so_and_mentions_go_on(make_bot, fake_x, fake_slack):
    fake_x.add_tweet("@Delta hi", "greeter", created_at=minutes_ago(1))
    runtime = make_bot()
    health = HealthMonitor(
        runtime.store, runtime.slack, QUEUE, runtime.ingestor, no_poll_minutes=15, no_mentions_hours=24
    )
    forbidden = {"title": "Forbidden", "detail": "This app is not permitted to access Direct Messages."}
    fake_x.script(DM_POLLS, status=403, body=forbidden, times=5)
    cycle(runtime)
    assert set(health.run()) == {"x_dm_access"}
    [alarm] = [m for m in fake_slack.top_level(QUEUE) if "Perch:" in m.text]
    assert "Direct message" in json.dumps(alarm.blocks) and "X_READ_DMS=false" in json.dumps(alarm.blocks)
    assert len([m for m in fake_slack.top_level(QUEUE) if "perch_case" in str(m.metadata)]) == 1


def test_x_read_dms_false_never_asks_for_dms(make_bot, fake_x, fake_slack):
    fake_x.add_dm("hello", "quiet_one")
    cycle(make_bot(X_READ_DMS="false"))
    assert fake_x.requests_to(DM_POLLS) == [] and fake_slack.top_level() == []
