"""Reports: figures from a fixed event log computed by hand, arguments, permission, CSV, and a replay of
real customer-support conversations checked against the file itself."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.blocks.reports import report_blocks
from bot.domain.report_args import ReportArgsError, parse_report_args
from bot.jobs.digest import Digest
from fakes.data import SUPPORT_CONVERSATIONS
from fakes.slack_requests import signed_post, slash_command_body
from storage.db import Store, to_iso
from storage.metrics import build_report
from tests.conftest import QUEUE, SIGNING_SECRET, cycle, wait_until

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def at(text: str) -> str:
    return to_iso(datetime.fromisoformat(text).replace(tzinfo=UTC))


def add_case(
    db,
    case_id: int,
    tweeted: str,
    *,
    posted=None,
    claimed=None,
    response=None,
    resolved=None,
    status="new",
    assignee=None,
    resolved_by=None,
    reopened=0,
) -> None:
    tweet_id = str(1_000 + case_id)
    db["tweets"].insert(
        {
            "id": tweet_id,
            "author_id": f"9{case_id}",
            "author_handle": f"cust{case_id}",
            "author_name": "C",
            "text": "@Brand help",
            "created_at": at(tweeted),
            "conversation_id": tweet_id,
            "source": "mentions",
            "case_id": case_id,
        }
    )
    db["cases"].insert(
        {
            "id": case_id,
            "tweet_id": tweet_id,
            "author_id": f"9{case_id}",
            "conversation_id": tweet_id,
            "status": status,
            "assignee": assignee,
            "tweet_created_at": at(tweeted),
            "opened_at": at(tweeted),
            "posted_at": posted and at(posted),
            "claimed_at": claimed and at(claimed),
            "first_response_at": response and at(response),
            "resolved_at": resolved and at(resolved),
            "resolved_by": resolved_by,
            "reopened_count": reopened,
            "slack_ts": f"{case_id}.1",
            "slack_channel": QUEUE,
        }
    )


@pytest.fixture
def fixed_log(tmp_path):
    store = Store(str(tmp_path / "report.db"))
    db = store.db
    add_case(
        db,
        1,
        "2026-03-10 10:00",
        posted="2026-03-10 10:01",
        claimed="2026-03-10 10:03",
        response="2026-03-10 10:15",
        resolved="2026-03-10 11:00",
        status="resolved",
        assignee="U1",
        resolved_by="U1",
    )
    add_case(
        db,
        2,
        "2026-03-10 10:30",
        posted="2026-03-10 10:31",
        claimed="2026-03-10 10:41",
        response="2026-03-10 12:30",
        status="replied",
        assignee="U2",
    )  # answered on x.com after 2h
    add_case(db, 3, "2026-03-10 11:00", posted="2026-03-10 11:02")  # never answered
    add_case(
        db,
        4,
        "2026-03-10 23:30",
        posted="2026-03-10 23:31",
        claimed="2026-03-10 23:35",
        response="2026-03-10 23:40",
        resolved="2026-03-11 01:00",
        status="resolved",
        assignee="U1",
        resolved_by="U1",
        reopened=1,
    )  # resolved, reopened, resolved again at 01:00
    add_case(db, 5, "2026-03-11 00:10", posted="2026-03-11 00:11")  # 3/10 in New York
    db["replies"].insert_all(
        [
            {
                "case_id": 1,
                "idempotency_key": "a",
                "kind": "reply",
                "source": "perch",
                "status": "sent",
                "text": "x",
                "sent_by": "U1",
                "sent_at": at("2026-03-10 10:15"),
            },
            {
                "case_id": 2,
                "idempotency_key": "b",
                "kind": "reply",
                "source": "x.com",
                "status": "sent",
                "text": "y",
                "sent_at": at("2026-03-10 12:30"),
            },
        ]
    )
    db["escalations"].insert(
        {
            "case_id": 1,
            "location": "JFK",
            "urgency": "normal",
            "note": "",
            "requested_by": "U1",
            "requested_at": at("2026-03-10 10:20"),
            "slack_channel": "C0JFK",
            "slack_ts": "9.9",
            "acknowledged_at": at("2026-03-10 10:25"),
            "resolved_at": at("2026-03-10 10:50"),
            "reminders_sent": 0,
            "message_version": 0,
            "message_synced": 0,
        }
    )
    return store


def test_figures_match_the_hand_computed_ones(fixed_log):
    day = parse_report_args("2026-03-10", NOW, "UTC")
    report = build_report(fixed_log.db, day.start, day.end, now=NOW)
    assert (report.volume_in, report.handled, report.open, report.reopened) == (4, 3, 2, 1)
    assert (report.time_to_card.p50, report.time_to_card.p90, report.time_to_card.count) == (60, 120, 4)
    assert (report.time_to_claim.p50, report.time_to_claim.p90, report.time_to_claim.count) == (240, 600, 3)
    assert (report.time_to_first_response.p50, report.time_to_first_response.p90) == (900, 7200)
    assert report.first_response_after_posting.p50 == 840
    assert (report.time_to_resolve.p50, report.time_to_resolve.p90, report.time_to_resolve.count) == (3600, 5400, 2)
    assert report.sla_breaches == 2  # case 2 (answered after 2h) and case 3 (never answered)
    assert report.by_hour == {10: 2, 11: 1, 23: 1}
    agents = {row["agent"]: row for row in report.by_agent}
    assert agents["U1"]["cases"] == 2 and agents["U1"]["resolved"] == 2 and agents["U1"]["replies"] == 1
    assert agents["U1"]["first_response"].p50 == 600 and agents["U2"]["replies"] == 0
    (jfk,) = report.by_location
    assert (jfk["escalations"], jfk["acknowledge"].p50, jfk["resolve"].p50, jfk["waiting"]) == (1, 300, 1800, 0)


def test_time_zone_moves_the_day_boundary(fixed_log):
    day = parse_report_args("2026-03-10", NOW, "America/New_York")
    report = build_report(fixed_log.db, day.start, day.end, now=NOW, timezone="America/New_York")
    assert report.volume_in == 5
    assert report.by_hour == {6: 2, 7: 1, 19: 1, 20: 1}


def test_empty_period_and_filters(fixed_log):
    empty = parse_report_args("2026-03-01", NOW, "UTC")
    report = build_report(fixed_log.db, empty.start, empty.end, now=NOW)
    assert report.volume_in == 0 and report.time_to_first_response.p50 is None and report.by_agent == []
    day = parse_report_args("2026-03-10..2026-03-11 <@U2|bo>", NOW, "UTC")
    assert day.agent == "U2"
    assert build_report(fixed_log.db, day.start, day.end, now=NOW, agent="U2").volume_in == 1
    assert build_report(fixed_log.db, day.start, day.end, now=NOW, location="JFK").volume_in == 1


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("", lambda r: r.label == "the last 7 days" and r.breakdown == "agent" and not r.public),
        ("today by hour public", lambda r: r.label == "today" and r.breakdown == "hour" and r.public),
        ("yesterday", lambda r: r.end - r.start == timedelta(days=1) and r.label.startswith("yesterday")),
        ("30d csv by location JFK", lambda r: r.csv and r.breakdown == "location" and r.location == "JFK"),
        ("2026-02-01..2026-02-28", lambda r: (r.end - r.start).days == 28),
    ],
)
def test_arguments(text, check):
    assert check(parse_report_args(text, NOW, "UTC"))


@pytest.mark.parametrize("text", ["2026-02-30", "2026-03-10..2026-03-01", "999d", "by nothing", "<script>"])
def test_bad_arguments_answer_with_usage(text):
    with pytest.raises(ReportArgsError, match="Usage|range|period|days"):
        parse_report_args(text, NOW, "UTC")


def test_report_command_permission_summary_and_csv(serve, fake_x, fake_slack):
    fake_slack.usergroups["S0MANAGERS"] = {"U0BOSS"}
    served = serve(MANAGER_USERGROUP="S0MANAGERS")
    fake_x.add_tweet('@Delta =HYPERLINK("http://evil") my bag', "=cmd", created_at=NOW.now(UTC) - timedelta(hours=2))
    cycle(served.runtime)
    response_url = f"{fake_slack.url}/response_url/1"
    refused = served.send(slash_command_body("report", user="U0AGENT", channel=QUEUE, response_url=response_url))
    assert "Only members of the manager user group" in refused.json()["text"]
    bad = served.send(slash_command_body("report last week", user="U0BOSS", channel=QUEUE, response_url=response_url))
    assert bad.json()["text"].startswith("I don't understand `last`")
    unknown = served.send(slash_command_body("report LAX", user="U0BOSS", channel=QUEUE, response_url=response_url))
    assert "There is no location `LAX`" in unknown.json()["text"]
    ok = served.send(slash_command_body("report today csv", user="U0BOSS", channel=QUEUE, response_url=response_url))
    assert ok.status_code == 200
    wait_until(lambda: fake_slack.responses and len(fake_slack.files) == 2)
    summary = fake_slack.responses[-1]
    assert summary["response_type"] == "ephemeral"
    text = json.dumps(summary["blocks"], ensure_ascii=False)
    assert "Perch report · today" in text and "*In*\\n1" in text and "*Still open*\\n1" in text
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
    shift = datetime.now(UTC) - timedelta(hours=1) - latest
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
    served = serve(BACKFILL_HOURS="1000")  # the conversations span 34 days
    cycle(served.runtime, times=2)
    assert served.runtime.store.db["cases"].count == len(conversations)
    report = build_report(
        served.runtime.store.db, datetime.now(UTC) - timedelta(days=60), datetime.now(UTC), now=datetime.now(UTC)
    )
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
    assert Digest(fixed_log, client, "C0GONE", timezone="UTC", sla_minutes=60).run() is False


def test_home_tab_shows_my_cases_the_queue_and_today(serve, fake_x, fake_slack):
    served = serve()
    for n in range(3):
        fake_x.add_tweet(
            f"@Delta help {n} <!channel>", f"cust{n}", created_at=datetime.now(UTC) - timedelta(minutes=30 - n)
        )
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
    assert "Case #1" in text and "*2* unclaimed" in text and "3 in" in text
    assert "<!channel>" not in text and fake_slack.block_errors == []


def test_cases_answered_before_their_card_are_left_out_of_the_after_posting_figure(fixed_log):
    """Answered on x.com a minute before Perch carded it: not an instant answer, and the report says so."""
    add_case(
        fixed_log.db, 6, "2026-03-10 14:00", posted="2026-03-10 14:30", response="2026-03-10 14:20", status="replied"
    )
    day = parse_report_args("2026-03-10", NOW, "UTC")
    report = build_report(fixed_log.db, day.start, day.end, now=NOW)
    assert report.first_response_after_posting.count == 3 and report.first_response_after_posting.p50 == 840
    assert report.answered_before_card == 1
    text = json.dumps(report_blocks(report, "2026-03-10", "location"), ensure_ascii=False)
    assert "1 case answered before their card, left out" in text
    assert "• *JFK* — 1 escalation ·" in text and "1 escalations" not in text


def test_report_text_escapes_what_slack_parses(fixed_log):
    day = parse_report_args("2026-03-10", NOW, "UTC")
    blocks = report_blocks(build_report(fixed_log.db, day.start, day.end, now=NOW), "2026-03-10", "agent")
    texts = [f["text"] for b in blocks for f in b.get("fields", [])] + [
        b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b
    ]
    assert any("first response &gt; 60m" in t for t in texts)
    assert "• someone — 1 case · 0 replies · 0 resolved" in " ".join(texts)
    assert not any(">" in re.sub(r"<[^<>]*>", "", t) for t in texts), "no bare > outside <…> tokens"
