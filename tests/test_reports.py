"""Reports: figures from a fixed event log computed by hand, arguments, permission, CSV, and a replay of
real customer-support conversations checked against the file itself. Every period is a fixed one (the
X side driven by a `Clock` at `NOW`), so no test depends on the hour it runs at."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.jobs.digest import Digest
from fakes.data import SUPPORT_CONVERSATIONS
from fakes.slack_requests import signed_post, slash_command_body
from storage.metrics import build_report
from tests.helpers import NOW, QUEUE, SIGNING_SECRET, Clock, cycle, wait_until


def test_report_command_permission_summary_and_csv(serve, fake_x, fake_slack):
    """A day given by its date (not `today`, which would depend on the hour the test runs at: `today` is
    parsed with a fixed clock in tests/unit/test_domain.py)."""
    fake_slack.usergroups["S0MANAGERS"] = {"U0BOSS"}
    served = serve(Clock(NOW.timestamp()), MANAGER_USERGROUP="S0MANAGERS")
    fake_x.add_tweet('@Delta =HYPERLINK("http://evil") my bag', "=cmd", created_at=NOW - timedelta(hours=2))
    cycle(served.runtime)
    response_url = f"{fake_slack.url}/response_url/1"
    refused = served.send(slash_command_body("report", user="U0AGENT", channel=QUEUE, response_url=response_url))
    assert "Only members of the manager user group" in refused.json()["text"]
    bad = served.send(slash_command_body("report last week", user="U0BOSS", channel=QUEUE, response_url=response_url))
    assert bad.json()["text"].startswith("I don't understand `last`")
    unknown = served.send(slash_command_body("report LAX", user="U0BOSS", channel=QUEUE, response_url=response_url))
    assert "There is no location `LAX`" in unknown.json()["text"]
    day = slash_command_body("report 2026-03-20 csv", user="U0BOSS", channel=QUEUE, response_url=response_url)
    ok = served.send(day)
    assert ok.status_code == 200
    wait_until(lambda: fake_slack.responses and len(fake_slack.files) == 2)
    summary = fake_slack.responses[-1]
    assert summary["response_type"] == "ephemeral"
    text = json.dumps(summary["blocks"], ensure_ascii=False)
    assert "Perch report · 20 Mar 2026" in text and "*In*\\n1" in text and "*Still open*\\n1" in text
    chart, upload = fake_slack.files
    assert chart["filename"] == "perch-report.png" and chart["content"].startswith(b"\x89PNG")
    assert upload["channel"] == "D0BOSS" and upload["filename"] == "perch-report.csv"
    rows = list(csv.DictReader(io.StringIO(upload["content"].decode())))
    assert len(rows) == 1 and rows[0]["author"] == "'=cmd", "formula-looking cells stay text"
    assert rows[0]["tweet_link"].startswith("https://twitter.com/") and rows[0]["status"] == "new"
    assert rows[0]["minutes_to_card"] != "" and rows[0]["minutes_to_first_response"] == ""


# -- replay of real conversations ----------------------------------------------------------------


def load_conversations(brand: str) -> list[tuple[dict, list[dict]]]:
    """(opening customer tweet, the brand's direct replies to it) from twcs_head5000.csv."""
    with SUPPORT_CONVERSATIONS.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    replies: dict[str, list[dict]] = {}
    for row in rows:
        parent = row["in_response_to_tweet_id"].split(".")[0]
        if row["author_id"] == brand and parent:
            replies.setdefault(parent, []).append(row)
    return [
        (row, replies.get(row["tweet_id"], []))
        for row in rows
        if row["inbound"] == "True" and not row["in_response_to_tweet_id"] and f"@{brand}" in row["text"]
    ]


def twcs_time(text: str) -> datetime:
    return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")


def test_replayed_conversations_give_the_medians_of_the_file(serve, fake_x, fake_slack):
    brand = "ChipotleTweets"
    conversations = load_conversations(brand)
    assert len(conversations) > 100
    fake_x.brand.update(username=brand, name="Chipotle")
    fake_x.users[fake_x.brand["id"]].update(username=brand, name="Chipotle")
    latest = max(twcs_time(r["created_at"]) for c in conversations for r in [c[0], *c[1]])
    shift = NOW - timedelta(hours=1) - latest
    expected = []
    for opener, answers in conversations:
        created = twcs_time(opener["created_at"]) + shift
        tweet_id = fake_x.add_tweet(opener["text"], f"c{opener['author_id']}", created_at=created)
        for answer in answers:
            fake_x.add_tweet(
                answer["text"],
                fake_x.users[fake_x.brand["id"]],
                reply_to=tweet_id,
                created_at=twcs_time(answer["created_at"]) + shift,
            )
        if answers:
            expected.append(
                min((twcs_time(a["created_at"]) - twcs_time(opener["created_at"])).total_seconds() for a in answers)
            )
    served = serve(Clock(NOW.timestamp()), BACKFILL_HOURS="1000")  # the conversations span 34 days
    cycle(served.runtime, times=2)
    assert served.runtime.store.db["cases"].count == len(conversations)
    report = build_report(served.runtime.store.db, NOW - timedelta(days=60), NOW, now=NOW)
    expected.sort()
    median = expected[max(1, math.ceil(len(expected) / 2)) - 1]
    assert report.time_to_first_response.count == len(expected)
    assert report.time_to_first_response.p50 == pytest.approx(median, abs=1)
    assert report.time_to_first_response.p90 == pytest.approx(expected[math.ceil(0.9 * len(expected)) - 1], abs=1)
    assert report.sla_breaches >= sum(1 for seconds in expected if seconds > 3600)


def test_daily_digest_posts_yesterday_to_the_report_channel(fixed_log, fake_slack):

    fake_slack.channels.add("C0REPORTS")
    client = WebClient(token="xoxb-test", base_url=fake_slack.url + "/api/")
    digest = Digest(
        fixed_log,
        client,
        "C0REPORTS",
        timezone="UTC",
        sla_minutes=60,
        now=lambda: datetime(2026, 3, 11, 9, 0, tzinfo=UTC),
    )
    assert digest.run() is True
    (message,) = fake_slack.top_level("C0REPORTS")
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "Perch report · yesterday (Tue 10 Mar)" in text and "*In*\\n4" in text
    assert "p50 15m · p90 2h 0m (n=3)" in text
    assert fake_slack.files[0]["filename"] == "perch-daily.png" and fake_slack.files[0]["channel"] == "C0REPORTS"
    assert "By queue" not in text, "a team without routes has one queue: no split"
    assert Digest(fixed_log, client, "C0GONE", timezone="UTC", sla_minutes=60).run() is False


def test_the_daily_digest_splits_by_queue_when_the_team_routes_cases(fixed_log, fake_slack):
    fixed_log.db.execute("UPDATE cases SET queue_channel = 'C0ES' WHERE id IN (2, 3)")
    fixed_log.db.conn.commit()
    fake_slack.channels.add("C0REPORTS")
    client = WebClient(token="xoxb-test", base_url=fake_slack.url + "/api/")
    yesterday = lambda: datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # noqa: E731
    assert Digest(fixed_log, client, "C0REPORTS", timezone="UTC", sla_minutes=60, now=yesterday).run() is True
    (message,) = fake_slack.top_level("C0REPORTS")
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "*By queue*" in text and "*the default queue* — 2 cases · 100% answered" in text
    assert "<#C0ES> — 2 cases · 50% answered · p50 first response 2h 0m" in text


def test_home_tab_shows_my_cases_the_queue_and_today(serve, fake_x, fake_slack):
    """The tab as a listener draws it, with the real clock: its figures for today are checked at fixed
    clocks, either side of midnight, in tests/unit/test_metrics.py."""
    served = serve(Clock(NOW.timestamp()))
    for n in range(3):
        fake_x.add_tweet(f"@Delta help {n} <!channel>", f"cust{n}", created_at=NOW - timedelta(minutes=30 - n))
    cycle(served.runtime)
    card = fake_slack.top_level(QUEUE)[0]
    served.click("claim", "U0AGENT", card.ts)
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["assignee"] == "U0AGENT")
    event = {
        "type": "event_callback",
        "team_id": "T0PERCH",
        "api_app_id": "A0PERCH",
        "event_id": "Ev1",
        "event_time": 1,
        "event": {"type": "app_home_opened", "user": "U0AGENT", "channel": "D0AGENT", "tab": "home", "event_ts": "1.1"},
    }
    answer = signed_post(served.url, SIGNING_SECRET, json.dumps(event), content_type="application/json")
    assert answer.status_code == 200
    wait_until(lambda: "U0AGENT" in fake_slack.homes)
    text = json.dumps(fake_slack.homes["U0AGENT"]["blocks"], ensure_ascii=False)
    assert "Case #1" in text and "*2* unclaimed" in text and "*Today* (UTC)" in text
    assert "<!channel>" not in text and fake_slack.block_errors == []


def test_the_weekly_digest_follows_the_daily_one_on_its_day(fixed_log, fake_slack):
    """2026-03-11 is a Wednesday: with REPORT_WEEKLY_DAY=Wednesday the week 4–10 March comes too, beside
    the week before it; on other days only the daily digest."""
    fake_slack.channels.add("C0REPORTS")
    client = WebClient(token="xoxb-test", base_url=fake_slack.url + "/api/")
    wednesday = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    weekly = Digest(fixed_log, client, "C0REPORTS", timezone="UTC", sla_minutes=60, weekly_day=2, now=lambda: wednesday)
    assert weekly.run() is True
    daily, week = fake_slack.top_level("C0REPORTS")
    assert "yesterday (Tue 10 Mar)" in json.dumps(daily.blocks)
    text = json.dumps(week.blocks, ensure_ascii=False)
    assert "Perch report · last 7 days (04 Mar–10 Mar)" in text and "*In*\\n4 ▲ from 0" in text
    assert [f["filename"] for f in fake_slack.files] == ["perch-daily.png", "perch-weekly.png"]
    thursday = wednesday + timedelta(days=1)
    Digest(fixed_log, client, "C0REPORTS", timezone="UTC", sla_minutes=60, weekly_day=2, now=lambda: thursday).run()
    assert len(fake_slack.top_level("C0REPORTS")) == 3, "only the daily one on Thursday"
