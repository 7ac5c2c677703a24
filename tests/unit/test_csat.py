"""Satisfaction: the answer's parsing, the figures hand-computed from a small log, the card's button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks.cards import case_card
from bot.blocks.report_csv import report_csv
from bot.blocks.reports import report_blocks
from storage.case_rows import case_rows
from storage.cases import CardData
from storage.csat import Csat, parse_score
from storage.metrics import Breakdown, build_report, report_with_previous
from tests.helpers import add_case, at


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("5", (5, "")),
        ("4/5", (4, "")),
        ("5 - thanks!", (5, "thanks!")),
        (" 3 / 5: slow but fine", (3, "slow but fine")),
        ("1. never again", (1, "never again")),
        ("2\nthe hotel was far", (2, "the hotel was far")),
    ],
)
def test_a_dm_that_begins_with_a_score_from_1_to_5_is_an_answer(text, parsed):
    assert parse_score(text) == parsed


@pytest.mark.parametrize("text", ["10", "five", "1-5", "1 - 5", "4.5", "5/10", "0", "6", "", "thanks, 5", "⭐⭐⭐"])
def test_anything_else_is_no_answer(text):
    assert parse_score(text) is None


def _survey(db, case_id: int, sent: bool, score: int | None, comment: str = "") -> None:
    """A survey of case `case_id` whose question went out (or was refused), answered with `score`."""
    key = f"csat:{case_id}"
    db["replies"].insert(
        {
            "case_id": case_id,
            "idempotency_key": key,
            "kind": "dm",
            "source": "perch",
            "status": "sent" if sent else "failed",
            "text": "How did we do?",
            "sent_by": "bot",
            "sent_at": at("2026-03-10 12:00") if sent else None,
        }
    )
    db["csat_surveys"].insert(
        {
            "case_id": case_id,
            "customer_id": f"9{case_id}",
            "reply_key": key,
            "requested_at": at("2026-03-10 12:00"),
            "score": score,
            "comment": comment or None,
        }
    )


@pytest.fixture
def surveyed(fresh_db):
    """Six cases of 2026-03-10: U1 has 1-3 (answered 5, 4, not answered), U2 has 4-5 (answered 2 and
    "=5" with a comment), case 6 had its question refused; one case the day before answered 1."""
    db = fresh_db
    for case_id, agent in [(1, "U1"), (2, "U1"), (3, "U1"), (4, "U2"), (5, "U2"), (6, "U2")]:
        add_case(db, case_id, f"2026-03-10 0{case_id}:00", status="resolved", assignee=agent, resolved_by=agent)
    add_case(db, 7, "2026-03-09 10:00", status="resolved", assignee="U1", resolved_by="U1")
    db.execute("UPDATE cases SET reason = 'Refund' WHERE id IN (1, 4)")
    for case_id, sent, score, comment in [
        (1, True, 5, "great"),
        (2, True, 4, ""),
        (3, True, None, ""),
        (4, True, 2, ""),
        (5, True, 5, "=SUM(A1) thanks"),
        (6, False, None, ""),
        (7, True, 1, ""),
    ]:
        _survey(db, case_id, sent, score, comment)
    return db


DAY = (datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))
NOW = datetime(2026, 3, 12, tzinfo=UTC)


def test_the_figures_are_the_hand_computed_ones(surveyed):
    report, before = report_with_previous(surveyed, *DAY, now=NOW)
    # 5 sent (case 6 refused); answers 5, 4, 2, 5 → 3 of 4 are 4-5, sum 16.
    assert report.csat == Csat(sent=5, answers=4, satisfied=3, score_sum=16)
    assert (report.csat.share_satisfied, report.csat.average, report.csat.answer_rate) == (0.75, 4.0, 0.8)
    assert before.csat == Csat(sent=1, answers=1, satisfied=0, score_sum=1)  # the day before: case 7
    agents = {row["agent"]: row["csat"] for row in report.by_agent}
    assert agents["U1"] == Csat(sent=3, answers=2, satisfied=2, score_sum=9)
    assert agents["U2"] == Csat(sent=2, answers=2, satisfied=1, score_sum=7)
    reasons = {row["reason"]: row["csat"] for row in build_report(surveyed, *DAY, now=NOW).by_reason}
    assert reasons["Refund"] == Csat(sent=2, answers=2, satisfied=1, score_sum=7)  # cases 1 (5) and 4 (2)
    shown = str(report_blocks(report, "10 March", Breakdown.AGENT, before))
    assert "*CSAT* 75% ▲ 75 pts from 0%" in shown and "average 4.0 of 5" in shown
    assert "4 answers of 5 surveys sent (80%) ▼ 20 pts from 100%" in shown
    assert "CSAT 100% of 2 answers" in shown and "CSAT 50% of 2 answers" in shown


def test_the_csv_has_each_cases_score_and_comment(surveyed):
    lines = report_csv(case_rows(surveyed, *DAY)).splitlines()
    assert lines[0].endswith(",csat_score,csat_comment")
    assert lines[1].endswith(",5,great") and lines[3].endswith(",,")
    assert lines[5].endswith(",5,'=SUM(A1) thanks"), "a comment stays text in a spreadsheet"


def _card(**state) -> CardData:
    base = {
        "case_id": 1,
        "status": "claimed",
        "tweet_id": "",
        "text": "",
        "author_handle": "rita",
        "author_name": "Rita",
        "author_followers": 1,
        "created_at": "2026-03-10T10:00:00.000Z",
        "post_attempted_at": None,
        "author_id": "77",
        "assignee": "U1",
        "dm_event_id": "555",
        "in_dm": True,
    }
    return CardData(**{**base, **state})


def _buttons(card: CardData, cooldown: timedelta | None) -> list[str]:
    blocks = case_card(card, NOW, csat_cooldown=cooldown)["blocks"]
    return [e["action_id"] for e in blocks[-1]["elements"]]


def test_resolve_without_survey_sits_beside_resolve_only_where_a_survey_would_go():
    month = timedelta(days=30)
    assert _buttons(_card(), month)[:3] == ["reply_dm", "escalate", "resolve"]
    assert _buttons(_card(), month)[3] == "resolve_no_survey"
    assert "resolve_no_survey" not in _buttons(_card(), None), "surveys off"
    assert "resolve_no_survey" not in _buttons(_card(in_dm=False, dm_event_id=None, tweet_id="1"), month)
    assert "resolve_no_survey" not in _buttons(_card(surveyed=True), month), "never twice per case"
    asked = (NOW - timedelta(days=3)).isoformat()
    assert "resolve_no_survey" not in _buttons(_card(customer_asked_at=asked), month), "within the cool-down"
    assert "resolve_no_survey" in _buttons(_card(customer_asked_at=asked), timedelta(days=2))
