"""Sends whose outcome nobody knows are settled, exactly once: the process died while X was answering
(the row stayed `sending`), or X never confirmed it. Both windows of a crash, for a reply and a DM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.db import to_iso
from storage.replies import begin_send
from tests.helpers import cycle, minutes_ago

TEXT = "@bag_lady So sorry, your bag is on the next flight."


@pytest.fixture
def case(make_bot, fake_x, fake_slack):
    """A carded customer tweet; returns (runtime, the tweet id, the customer's user id)."""
    tweet = fake_x.add_tweet("@Delta my bag did not arrive", "bag_lady", created_at=minutes_ago(10))
    bot = make_bot()
    cycle(bot)
    return bot, tweet, fake_x.tweets[tweet].author_id


def crashed_send(bot, *, kind: str, key: str, tweet: str | None = None, participant: str | None = None) -> int:
    """What a process killed mid-send leaves: the send claimed (`sending`), X's answer never recorded."""
    begin = begin_send(
        bot.store.db,
        key,
        1,
        kind,
        TEXT,
        agent="U0AGENT",
        agent_name="agent",
        in_reply_to=tweet,
        participant=participant,
    )
    long_ago = to_iso(datetime.now(UTC) - timedelta(minutes=2))
    bot.store.db.execute(
        "UPDATE replies SET attempted_at = ?, created_at = ? WHERE id = ?", [long_ago, long_ago, begin.reply_id]
    )
    return begin.reply_id


def replied_events(bot) -> int:
    return bot.store.db.execute("SELECT COUNT(*) FROM events WHERE kind IN ('replied', 'dm_sent')").fetchone()[0]


def test_a_reply_that_reached_x_before_the_crash_is_recorded_not_sent_again(case, make_bot, fake_x):
    bot, tweet, _ = case
    reply_id = crashed_send(bot, kind="reply", key="view:V1", tweet=tweet)
    on_x = fake_x.add_tweet(TEXT, fake_x.users[fake_x.brand["id"]], reply_to=tweet)  # X had received it
    restarted = make_bot()
    assert restarted.services.outbox.reconcile() == 1
    row = restarted.store.db["replies"].get(reply_id)
    assert (row["status"], row["x_id"]) == ("sent", on_x)
    assert fake_x.posted == [], "nothing sent a second time"
    assert restarted.store.db["cases"].get(1)["first_response_at"] is not None and replied_events(restarted) == 1
    again = restarted.services.outbox.reply(1, tweet, TEXT, key="view:V1", agent="U0AGENT", agent_name="agent")
    assert again.status == "duplicate" and fake_x.posted == [], "the agent's resubmission sends nothing"


def test_a_reply_that_never_reached_x_is_sent_once_at_start_up(case, make_bot, fake_x):
    bot, tweet, _ = case
    reply_id = crashed_send(bot, kind="reply", key="view:V2", tweet=tweet)
    restarted = make_bot()
    assert restarted.services.outbox.reconcile() == 1
    assert restarted.services.outbox.reconcile() == 0
    assert [p["text"] for p in fake_x.posted] == [TEXT]
    assert restarted.store.db["replies"].get(reply_id)["status"] == "sent" and replied_events(restarted) == 1


def test_resubmitting_the_form_after_a_crash_checks_x_first(case, make_bot, fake_x, fake_slack):
    """The agent's own resubmission settles it too: a stale `sending` is checked, not trusted."""
    bot, tweet, _ = case
    crashed_send(bot, kind="reply", key="view:V3", tweet=tweet)
    restarted = make_bot()
    sent = restarted.services.outbox.reply(1, tweet, TEXT, key="view:V3", agent="U0AGENT", agent_name="agent")
    assert sent.status == "sent" and len(fake_x.posted) == 1
    again = restarted.services.outbox.reply(1, tweet, TEXT, key="view:V3", agent="U0AGENT", agent_name="agent")
    assert again.status == "duplicate" and len(fake_x.posted) == 1


def test_a_poll_that_sees_the_unconfirmed_reply_on_x_records_it_once(case, make_bot, fake_x):
    bot, tweet, _ = case
    reply_id = crashed_send(bot, kind="reply", key="view:V4", tweet=tweet)
    on_x = fake_x.add_tweet(TEXT + " (edited on the way)", fake_x.users[fake_x.brand["id"]], reply_to=tweet)
    restarted = make_bot()
    restarted.ingestor.run()  # the brand's own timeline shows the reply
    rows = list(restarted.store.db.query("SELECT id, status, x_id FROM replies"))
    assert rows == [{"id": reply_id, "status": "sent", "x_id": on_x}], "counted once, as Perch's send"
    assert restarted.services.outbox.reconcile() == 0 and fake_x.posted == []


def test_an_x_com_reply_by_an_agent_still_counts_while_nothing_is_pending(case, fake_x):
    bot, tweet, _ = case
    fake_x.add_tweet("@bag_lady we're on it", fake_x.users[fake_x.brand["id"]], reply_to=tweet)
    bot.ingestor.run()
    (row,) = bot.store.db.query("SELECT source, status FROM replies")
    assert row == {"source": "x.com", "status": "sent"}


def test_a_dm_that_reached_x_is_found_in_the_conversation(case, make_bot, fake_x):
    bot, _, customer = case
    reply_id = crashed_send(bot, kind="dm", key="view:V5:dm", participant=customer)
    event_id = fake_x.add_dm(TEXT, fake_x.users[fake_x.brand["id"]], to=customer)
    restarted = make_bot()
    assert restarted.services.outbox.reconcile() == 1
    assert restarted.store.db["replies"].get(reply_id)["x_id"] == event_id and fake_x.dms == []


def test_a_dm_that_never_reached_x_is_sent_once(case, make_bot, fake_x):
    bot, _, customer = case
    crashed_send(bot, kind="dm", key="view:V6:dm", participant=customer)
    restarted = make_bot()
    restarted.services.outbox.reconcile()
    restarted.services.outbox.reconcile()
    assert [dm["text"] for dm in fake_x.dms] == [TEXT]


def test_reconcile_is_scheduled_at_start_up(serve, fake_x, fake_slack):
    served = serve()
    job = served.runtime.scheduler.get_job("outbox")
    assert job is not None and job.next_run_time is not None


def test_a_fresh_send_in_flight_is_not_taken_for_a_crash(case, fake_x, fake_slack):
    """Two requests for one submission within seconds: the second waits for the first, sends nothing."""
    bot, tweet, _ = case
    begin_send(bot.store.db, "view:V7", 1, "reply", TEXT, agent="U0AGENT", in_reply_to=tweet)
    second = bot.services.outbox.reply(1, tweet, TEXT, key="view:V7", agent="U0AGENT", agent_name="agent")
    assert second.status == "in_flight" and fake_x.posted == []
    assert bot.services.outbox.reconcile() == 0, "not stale yet"
