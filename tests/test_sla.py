"""SLA reminders: once when a target is about to be missed, a lead ping when missed, never after the case
moves on, never twice (also across a restart); the card shows ⚠."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from bot.jobs.health import HealthMonitor
from bot.jobs.sla import SlaReminders
from fakes.slack_requests import slash_command_body, view_submission_body
from fakes.x_api import too_many_requests
from storage.db import from_iso
from tests.helpers import QUEUE, Clock, cycle, minutes_ago, wait_until


def test_reminders_follow_the_clock_and_stop_when_the_case_moves_on(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta my flight is cancelled, need rebooking", "stranded", created_at=minutes_ago(1))
    served = serve(SUPPORT_LEAD_USERGROUP="S0LEADS")
    cycle(served.runtime)
    db = served.runtime.store.db
    card = fake_slack.top_level(QUEUE)[0]
    posted = from_iso(db["cases"].get(1)["posted_at"])
    clock = {"now": posted}

    def sla() -> SlaReminders:
        return SlaReminders(
            served.runtime.store,
            claim_minutes=5,
            first_response_minutes=60,
            resolve_minutes=1440,
            lead_group="S0LEADS",
            now=lambda: clock["now"],
        )

    def thread() -> list[str]:
        served.runtime.poster.run()
        return [m.text for m in fake_slack.thread(card.ts)]

    clock["now"] = posted + timedelta(minutes=3, seconds=59)
    assert sla().run() == 0
    clock["now"] = posted + timedelta(minutes=4)
    assert sla().run() == 1 and sla().run() == 0, "once, also from a new instance (a restart)"
    assert thread()[-1].startswith("⏳ Not claimed yet after 4m: the target is 5m.")
    clock["now"] = posted + timedelta(minutes=5, seconds=1)
    assert sla().run() == 1
    assert thread()[-1].startswith("⚠️ <!subteam^S0LEADS> Not claimed after 5m")
    assert "⚠️ *Missed:* claim target" in json.dumps(fake_slack.top_level(QUEUE)[0].blocks, ensure_ascii=False)
    served.click("claim", "U0AGENT", card.ts)
    wait_until(lambda: db["cases"].get(1)["assignee"] == "U0AGENT")
    view_count = len(fake_slack.views)
    served.click("reply", "U0AGENT", card.ts)
    wait_until(lambda: len(fake_slack.views) > view_count)
    served.send(
        view_submission_body(fake_slack.views[-1], {"reply_text_0": "@stranded Rebooked you on DL12"}, user="U0AGENT")
    )
    clock["now"] = posted + timedelta(hours=5)
    assert sla().run() == 0, "claimed and answered: those clocks stopped; resolve is not near its 24h yet"
    clock["now"] = posted + timedelta(hours=20)
    assert sla().run() == 1
    assert thread()[-1].startswith("⏳ Not resolved yet after 20h")
    served.click("resolve", "U0AGENT", card.ts)
    wait_until(lambda: db["cases"].get(1)["status"] == "resolved")
    clock["now"] = posted + timedelta(hours=30)
    assert sla().run() == 0, "resolved: no more reminders"
    assert db.execute("SELECT target, stage FROM sla_reminders ORDER BY target, stage").fetchall() == [
        ("claim", 1),
        ("claim", 2),
        ("resolve", 1),
    ]


def test_status_shows_polls_queue_and_rate_limits(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta hello", "hello_there", created_at=minutes_ago(3))
    served = serve()
    cycle(served.runtime)
    text = served.send(slash_command_body("status", user="U0AGENT", channel=QUEUE)).json()["text"]
    assert text.startswith("*Perch 0.1.0*")
    assert "`mentions`: last good poll 0s ago · 1 poll in 15 min of the 10,000 X allows · newest tweet 3m old" in text
    assert "Queue: 1 unclaimed, oldest 3m" in text and "X `users/mentions`:" in text and "calls left" in text
    fake_x.script(r"/mentions$", status=503, body={"title": "Service Unavailable"})
    served.runtime.ingestor.run()
    text = served.send(slash_command_body("status", user="U0AGENT", channel=QUEUE)).json()["text"]
    assert "⚠ X answered 503 on users/mentions" in text


def test_health_alarms_are_raised_once_and_cleared(make_bot, fake_x, fake_slack):
    clock = Clock(time.time())
    fake_x.add_tweet("@Delta hi", "greeter", created_at=minutes_ago(1))
    bot = make_bot(clock)
    now = {"t": datetime.now(UTC)}
    health = HealthMonitor(
        bot.store, bot.slack, QUEUE, bot.ingestor, no_poll_minutes=15, no_mentions_hours=24, now=lambda: now["t"]
    )
    fake_x.script(r"/users/me$", status=401, body={"title": "Unauthorized", "detail": "Unauthorized"})
    bot.ingestor.run()
    assert set(health.run()) == {"x_auth"}
    assert set(health.run()) == {"x_auth"}
    alarms = [m for m in fake_slack.top_level(QUEUE) if "Perch:" in m.text]
    assert len(alarms) == 1 and "refuses Perch's credentials" in alarms[0].text
    clock.advance(61)
    bot.ingestor.run()  # credentials work again
    assert health.run() == {}
    assert "✅ *Resolved*" in fake_slack.top_level(QUEUE)[0].blocks[0]["text"]["text"]
    fake_x.script(r"/mentions$", **too_many_requests(reset_in=600))
    clock.advance(61)
    bot.ingestor.run()
    assert [name for name in health.run()] == ["x_rate_limit:mentions"]
    now["t"] += timedelta(minutes=20)
    assert "no_poll" in health.run()
    now["t"] += timedelta(hours=25)
    assert {"no_poll", "no_mentions"} <= set(health.run())
    alarms = [m for m in fake_slack.top_level(QUEUE) if m.text.startswith(("🚨 Perch:", "✅ Resolved:"))]
    assert len(alarms) == 4, "auth (resolved), rate limit, no poll, no mentions: each posted once"
    assert fake_slack.pings() == []


CREDITS_DEPLETED = {
    "status": 402,
    "body": {
        "title": "Payment Required",
        "detail": "credits depleted",
        "type": "https://api.x.com/2/problems/credits-depleted",
    },
}


def test_credits_running_out_raise_one_alarm_probe_once_a_minute_and_clear(make_bot, fake_x, fake_slack):
    clock = Clock(time.time())
    fake_x.add_tweet("@Delta hi", "greeter", created_at=minutes_ago(1))
    bot = make_bot(clock)
    now = {"t": datetime.now(UTC)}
    health = HealthMonitor(
        bot.store, bot.slack, QUEUE, bot.ingestor, no_poll_minutes=15, no_mentions_hours=24, now=lambda: now["t"]
    )
    bot.ingestor.run()  # a good poll first
    fake_x.script(r"/mentions$", **CREDITS_DEPLETED, times=100)
    clock.advance(61)
    bot.ingestor.run()
    assert bot.ingestor.states["mentions"].last_error_kind == "credits"
    now["t"] += timedelta(minutes=20)  # long enough for "no successful poll"
    assert set(health.run()) == {"x_credits"}, "the reason, not a generic outage"
    assert set(health.run()) == {"x_credits"}
    (alarm,) = [m for m in fake_slack.top_level(QUEUE) if "Perch:" in m.text]
    assert "credits for Perch's app are used up" in alarm.text and "Top up in the X developer console" in alarm.text
    calls = len(fake_x.requests_to(r"/mentions$"))
    clock.advance(30)
    bot.ingestor.run()
    assert len(fake_x.requests_to(r"/mentions$")) == calls, "no hammering: the next probe is a minute later"
    clock.advance(31)
    bot.ingestor.run()
    assert len(fake_x.requests_to(r"/mentions$")) == calls + 1
    fake_x.faults.clear()  # topped up
    clock.advance(61)
    bot.ingestor.run()
    now["t"] = datetime.fromtimestamp(clock.now, UTC)
    assert health.run() == {}
    (resolved,) = [m for m in fake_slack.top_level(QUEUE) if "credits" in m.text]
    assert "✅ *Resolved*" in resolved.blocks[0]["text"]["text"]
