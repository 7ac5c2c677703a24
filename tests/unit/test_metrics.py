"""The report's figures from hand-written event logs (docs/metrics.md), on a fresh database each."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

from bot.blocks.reports import report_blocks
from bot.domain.report_args import parse_report_args
from storage.metrics import Breakdown, build_report
from tests.helpers import NOW, add_case


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


def test_cases_answered_before_their_card_are_left_out_of_the_after_posting_figure(fixed_log):
    """Answered on x.com a minute before Perch carded it: not an instant answer, and the report says so."""
    add_case(
        fixed_log.db, 6, "2026-03-10 14:00", posted="2026-03-10 14:30", response="2026-03-10 14:20", status="replied"
    )
    day = parse_report_args("2026-03-10", NOW, "UTC")
    report = build_report(fixed_log.db, day.start, day.end, now=NOW)
    assert report.first_response_after_posting.count == 3 and report.first_response_after_posting.p50 == 840
    assert report.answered_before_card == 1
    text = json.dumps(report_blocks(report, "2026-03-10", Breakdown.LOCATION), ensure_ascii=False)
    assert "1 case answered before their card, left out" in text
    assert "• *JFK* — 1 escalation ·" in text and "1 escalations" not in text


def test_report_text_escapes_what_slack_parses(fixed_log):
    day = parse_report_args("2026-03-10", NOW, "UTC")
    blocks = report_blocks(build_report(fixed_log.db, day.start, day.end, now=NOW), "2026-03-10", Breakdown.AGENT)
    texts = [f["text"] for b in blocks for f in b.get("fields", [])] + [
        b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b
    ]
    assert any("first response &gt; 60m" in t for t in texts)
    assert "• someone — 1 case · 100% answered · 0 replies · 0 resolved" in " ".join(texts)
    assert not any(">" in re.sub(r"<[^<>]*>", "", t) for t in texts), "no bare > outside <…> tokens"


def test_response_rate_overdue_cases_and_the_previous_period(fixed_log):
    """Cases 1, 2 and 4 were answered, case 3 never (open, 10 days old): 3 of 4; the day before had none."""
    from storage.metrics import report_with_previous

    day = parse_report_args("2026-03-10", NOW, "UTC")
    report, previous = report_with_previous(fixed_log.db, day.start, day.end, now=NOW, resolve_hours=24)
    assert (report.answered, report.response_rate) == (3, 0.75)
    assert report.answered_by_hour == {10: 2, 23: 1}
    agents = {row["agent"]: row for row in report.by_agent}
    assert (agents["U1"]["answered"], agents["U1"]["cases"], agents["U2"]["answered"]) == (2, 2, 1)
    assert report.unanswered_overdue == 1 and [c.case_id for c in report.overdue] == [3]
    assert previous.volume_in == 0 and previous.response_rate is None
    text = json.dumps(report_blocks(report, "2026-03-10", Breakdown.HOUR, previous), ensure_ascii=False)
    assert "*In*\\n4 ▲ from 0" in text and "*Answered* (response rate)\\n3 · 75%" in text
    assert "*Unanswered past the resolve target* (24h): 1 case" in text and "case #3" in text
    assert "10:00 ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇ 2 · 100% answered" in text and "11:00" in text and "0% answered" in text
    later = build_report(fixed_log.db, day.start, day.end, now=NOW, resolve_hours=24 * 30)
    assert later.unanswered_overdue == 0, "not yet past a 30-day resolve target"


def test_by_reason_counts_picked_reasons_then_surge_topics_then_suggestions(fixed_log):
    db = fixed_log.db
    db["incidents"].insert({"id": 1, "term": "cancel", "label": "cancelled flights", "opened_at": "2026-03-10T10:00Z"})
    db.execute("UPDATE cases SET reason = 'Late flight' WHERE id IN (1, 2)")
    db.execute("UPDATE cases SET incident_id = 1, suggested_reason = 'Cancelled flight' WHERE id = 3")
    db.execute("UPDATE cases SET suggested_reason = 'Lost luggage' WHERE id = 4")
    db.conn.commit()
    day = parse_report_args("2026-03-10", NOW, "UTC")
    rows = build_report(db, day.start, day.end, now=NOW).by_reason
    assert [(r["reason"], r["cases"], r["picked"]) for r in rows] == [
        ("Late flight", 2, 2),
        ("Lost luggage", 1, 0),
        ("Surge: cancelled flights", 1, 0),
    ]
    late = rows[0]["resolve"]
    assert (late.count, late.p50) == (1, 3600), "case 1 resolved after 1h; case 2 is still open"


def test_by_queue_and_one_queue_narrowed(fixed_log):
    """Cases 2 and 3 went to the Spanish queue's channel, 1 and 4 to the default queue (docs/metrics.md)."""
    db = fixed_log.db
    db.execute("UPDATE cases SET queue_channel = 'C0ES' WHERE id IN (2, 3)")
    db.conn.commit()
    day = parse_report_args("2026-03-10 <#C0ES|care-es> by queue", NOW, "UTC")
    assert (day.queue, day.breakdown, day.label) == ("C0ES", Breakdown.QUEUE, "10 Mar 2026 · #care-es")
    rows = build_report(db, day.start, day.end, now=NOW).by_queue
    assert [(r["queue"], r["cases"], r["answered"]) for r in rows] == [("", 2, 2), ("C0ES", 2, 1)]
    default, spanish = rows
    assert (default["first_response"].p50, default["resolve"].p50, default["resolve"].count) == (600, 3600, 2)
    assert (spanish["first_response"].p50, spanish["first_response"].count, spanish["resolve"].count) == (7200, 1, 0)
    narrowed = build_report(db, day.start, day.end, now=NOW, queue="C0ES")
    assert (narrowed.volume_in, narrowed.answered, narrowed.sla_breaches) == (2, 1, 2)
    rest = build_report(db, day.start, day.end, now=NOW, queue="")
    assert (rest.volume_in, rest.time_to_first_response.p50) == (2, 600)
    shown = json.dumps(report_blocks(narrowed, day.label, Breakdown.QUEUE), ensure_ascii=False)
    assert "*By queue*" in shown and "<#C0ES> — 2 cases · 50% answered" in shown


def test_workload_from_overlapping_claims_reassignments_and_a_reopen(fresh_db):
    """U1 holds A 10:00–11:00, B 10:30–10:45 (then reassigned to U2, who resolves it at 12:00), C
    10:40–10:50 (unclaimed), D 13:00–13:30 and, reopened to them, 14:00–14:30: three at once at peak,
    one for 100 of their 120 minutes (median 1), 2 resolved in 2 hours; one case given away."""
    from storage.events import record_event
    from tests.helpers import at

    db = fresh_db
    add_case(db, 1, "2026-03-10 09:55", status="resolved", assignee="U1", resolved_by="U1", resolved="2026-03-10 11:00")
    add_case(db, 2, "2026-03-10 09:56", status="resolved", assignee="U2", resolved_by="U2", resolved="2026-03-10 12:00")
    add_case(db, 3, "2026-03-10 09:57")
    add_case(db, 4, "2026-03-10 12:55", status="resolved", assignee="U1", resolved_by="U1", resolved="2026-03-10 14:30")
    log = [
        (1, "claimed", "U1", {}, "10:00"),
        (1, "resolved", "U1", {}, "11:00"),
        (2, "claimed", "U1", {}, "10:30"),
        (2, "reassigned", "U0BOSS", {"from": "U1", "to": "U2"}, "10:45"),
        (2, "resolved", "U2", {}, "12:00"),
        (3, "claimed", "U1", {"implicit": True}, "10:40"),
        (3, "unclaimed", "U1", {"from": "U1"}, "10:50"),
        (4, "claimed", "U1", {}, "13:00"),
        (4, "resolved", "U1", {}, "13:30"),
        (4, "reopened", "bot", {"assignee": "U1"}, "14:00"),
        (4, "resolved", "U1", {}, "14:30"),
    ]
    for case_id, kind, actor, detail, when in log:
        record_event(db, case_id, kind, actor, detail, at=at(f"2026-03-10 {when}"))
    day = parse_report_args("2026-03-10", NOW, "UTC")
    agents = {row["agent"]: row for row in build_report(db, day.start, day.end, now=NOW).by_agent}
    u1, u2 = agents["U1"], agents["U2"]
    assert (u1["peak"], u1["median_concurrent"], u1["agent_hours"], u1["per_agent_hour"]) == (3, 1.0, 2.0, 1.0)
    assert u1["reassigned_away"] == 1 and u2["reassigned_away"] == 0
    assert (u2["peak"], u2["agent_hours"], u2["per_agent_hour"]) == (1, 1.25, 0.8)
    text = json.dumps(
        report_blocks(build_report(db, day.start, day.end, now=NOW), "day", Breakdown.AGENT), ensure_ascii=False
    )
    assert "up to 3 at once (median 1) · 1.0 resolved per hour held · 1 reassigned away" in text


def test_a_period_longer_than_two_days_has_a_daily_trend_and_the_chart_draws_it(fixed_log):
    import struct

    from bot.blocks.chart import report_chart

    week = parse_report_args("2026-03-09..2026-03-12", NOW, "UTC")
    report = build_report(fixed_log.db, week.start, week.end, now=NOW)
    assert [(d.day, d.volume, d.first_response_p50) for d in report.daily] == [
        ("2026-03-10", 4, 900),
        ("2026-03-11", 1, None),
    ]
    day = parse_report_args("2026-03-10", NOW, "UTC")
    assert build_report(fixed_log.db, day.start, day.end, now=NOW).daily == [], "a day: no trend"
    width = struct.unpack(">I", report_chart(report, "week")[16:20])[0]
    assert width == 1600, "three panels (1,100 pixels wide with two)"


def test_the_home_tab_counts_today_from_local_midnight_at_any_hour(fresh_db):
    """Three tweets at 11:30-11:32 UTC on 20 March: at noon they are today's; twelve minutes past midnight
    they are yesterday's (and still in the queue), in UTC; in New York (UTC-4) it is still the 20th."""
    from bot.blocks.home import home_view
    from storage.home import home_data

    for case_id in (1, 2, 3):
        add_case(fresh_db, case_id, f"2026-03-20 11:3{case_id - 1}", assignee="U0AGENT" if case_id == 1 else None)
    fresh_db.execute("UPDATE cases SET status = 'claimed' WHERE id = 1")

    def today(now: datetime, zone: str = "UTC") -> str:
        data = home_data(fresh_db, "U0AGENT", timezone=zone, sla_minutes=60, now=now)
        text = json.dumps(home_view(data, timezone=zone, sla_minutes=60, now=now)["blocks"], ensure_ascii=False)
        assert "Case #1" in text and "*2* unclaimed" in text
        return text.split("*Today* ")[1].split(" · ")[0]

    assert today(NOW) == "(UTC)\\n3 in"
    after_midnight = datetime(2026, 3, 21, 0, 12, tzinfo=UTC)
    assert today(after_midnight) == "(UTC)\\n0 in"
    assert today(after_midnight, "America/New_York") == "(America/New_York)\\n3 in"


def test_hours_of_arrival_in_a_zone_a_quarter_hour_off_the_hour(fresh_db):
    """Kathmandu is UTC+5:45: 10:14 UTC is 15:59 there, 10:15 is 16:00 (cases are counted per UTC
    quarter hour, then converted: exact for every offset)."""
    for case_id, when in enumerate(["2026-03-10 10:14", "2026-03-10 10:15", "2026-03-10 10:29"], start=1):
        add_case(fresh_db, case_id, when, response=when)
    day = parse_report_args("2026-03-10", NOW, "UTC")
    report = build_report(fresh_db, day.start, day.end, now=NOW, timezone="Asia/Kathmandu")
    assert report.by_hour == {15: 1, 16: 2} and report.answered_by_hour == {15: 1, 16: 2}


def test_an_older_database_gains_the_holds_of_its_events_as_the_database_writes_them_now(tmp_path, fresh_db):
    """Migration 16 derives the holds of the events already written; from then on a trigger writes them
    as events are appended. Both give the same rows for the same log."""

    from storage.events import record_event
    from tests.helpers import at

    log = [
        (1, "claimed", "U1", {}, "10:00"),
        (1, "reassigned", "U9", {"from": "U1", "to": "U2"}, "10:20"),
        (1, "resolved", "U2", {}, "11:00"),
        (1, "reopened", "bot", {"assignee": "U2"}, "12:00"),
        (2, "claimed", "U1", {}, "10:05"),
        (2, "unclaimed", "U1", {"from": "U1"}, "10:06"),
        (2, "claimed", "U3", {}, "10:30"),
    ]

    def holds(db: sqlite_utils.Database) -> list[tuple]:
        return db.execute(
            "SELECT case_id, case_arrived, holder, began, ended FROM holds ORDER BY case_id, began"
        ).fetchall()

    def write(db: sqlite_utils.Database) -> None:
        add_case(db, 1, "2026-03-10 09:55")
        add_case(db, 2, "2026-03-10 09:58")
        for case_id, kind, actor, detail, when in log:
            record_event(db, case_id, kind, actor, detail, at=at(f"2026-03-10 {when}"))

    old, current = written_before_and_after(tmp_path, fresh_db, 16, write)
    assert holds(old) == holds(current)
    assert [(case_id, holder, ended is None) for case_id, _, holder, _, ended in holds(current)] == [
        (1, "U1", False),
        (1, "U2", False),
        (1, "U2", True),  # reopened to U2: held until now
        (2, "U1", False),
        (2, "U3", True),
    ]


def test_replies_carry_their_cases_arrival_from_the_migration_and_the_trigger_alike(tmp_path, fresh_db):
    """Migration 17 writes each reply's case arrival for the replies already there; from then on a trigger
    does as each reply is inserted. The replies per agent are counted from it, narrowed reports too."""
    from tests.helpers import at

    def write(db: sqlite_utils.Database) -> None:
        add_case(db, 1, "2026-03-10 09:55", assignee="U1", status="claimed")
        add_case(db, 2, "2026-03-10 09:58", assignee="U2", status="claimed")
        add_case(db, 3, "2026-03-09 23:58", assignee="U1", status="claimed")  # the day before
        for key, (case_id, agent) in enumerate([(1, "U1"), (1, "U2"), (2, "U1"), (3, "U1")]):
            db["replies"].insert(
                {
                    "case_id": case_id,
                    "idempotency_key": f"k{key}",
                    "kind": "reply",
                    "source": "perch",
                    "status": "sent",
                    "text": "Sorry!",
                    "sent_by": agent,
                    "sent_at": at("2026-03-10 10:30"),
                }
            )

    def arrivals(db: sqlite_utils.Database) -> list[tuple]:
        return db.execute("SELECT case_id, case_arrived FROM replies ORDER BY id").fetchall()

    old, current = written_before_and_after(tmp_path, fresh_db, 17, write)
    assert arrivals(old) == arrivals(current)
    assert [arrived for _, arrived in arrivals(current)] == [
        at(moment) for moment in ("2026-03-10 09:55", "2026-03-10 09:55", "2026-03-10 09:58", "2026-03-09 23:58")
    ]
    day = parse_report_args("2026-03-10", NOW, "UTC")
    report = build_report(current, day.start, day.end, now=NOW, breakdown=Breakdown.AGENT)
    assert {row["agent"]: row["replies"] for row in report.by_agent} == {"U1": 2, "U2": 1}
    narrowed = build_report(current, day.start, day.end, now=NOW, agent="U1", breakdown=Breakdown.AGENT)
    assert [(row["agent"], row["replies"]) for row in narrowed.by_agent] == [("U1", 1)]  # on U1's cases only


def written_before_and_after(
    tmp_path, current: sqlite_utils.Database, migration: int, write: Callable[[sqlite_utils.Database], None]
) -> tuple[sqlite_utils.Database, sqlite_utils.Database]:
    """The same writes on a database from before migration `migration` (migrated afterwards), and on
    `current` (the `fresh_db`). Only the older one is built by hand: no fixture stops at a migration."""
    from storage.migrations import MIGRATIONS

    old = sqlite_utils.Database(str(tmp_path / "old.db"))
    for earlier in MIGRATIONS[: migration - 1]:
        earlier(old)
    write(old)
    MIGRATIONS[migration - 1](old)
    write(current)
    return old, current
