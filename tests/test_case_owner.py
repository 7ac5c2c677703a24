"""One owner for a case's life: the writers people's clicks call, driven for real, feed the `holds`
trigger and the report's workload; a refused change says why and writes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.domain.report_args import parse_report_args
from storage.cases import change, claim, get_card, reassign, reopen, resolve, unclaim
from storage.lifecycle import TRANSITIONS, CaseStatus, EventKind, Outcome
from storage.metrics import build_report
from tests.helpers import NOW, add_case, at

ROOT = Path(__file__).resolve().parent.parent


def _day(when: str) -> str:
    return at(f"2026-03-10 {when}")


def test_the_real_writers_give_the_holds_and_the_workload_of_the_hand_computed_log(fresh_db):
    """The log of tests/unit/test_metrics.py's workload test, written by claim, reassign, unclaim,
    resolve and reopen themselves: U1 three at once at peak, median 1, 2 resolved in 2 hours held."""
    db = fresh_db
    for case_id, tweeted in [(1, "09:55"), (2, "09:56"), (3, "09:57"), (4, "12:55")]:
        add_case(db, case_id, f"2026-03-10 {tweeted}")
    assert claim(db, 1, "U1", at=_day("10:00")).ok
    assert claim(db, 2, "U1", at=_day("10:30")).ok
    assert claim(db, 3, "U1", implicit=True, at=_day("10:40")).ok
    assert reassign(db, 2, "U2", "U0BOSS", at=_day("10:45")).ok
    assert unclaim(db, 3, "U1", at=_day("10:50")).ok
    assert resolve(db, 1, "U1", at=_day("11:00")).ok
    assert resolve(db, 2, "U2", at=_day("12:00")).ok
    assert claim(db, 4, "U1", at=_day("13:00")).ok
    assert resolve(db, 4, "U1", at=_day("13:30")).ok
    assert reopen(db, 4, "bot", {"tweet_id": "1004"}, at=_day("14:00")).ok
    assert resolve(db, 4, "U1", at=_day("14:30")).ok

    holds = [(row[0], row[1]) for row in db.execute("SELECT case_id, holder FROM holds ORDER BY began, case_id")]
    assert holds == [(1, "U1"), (2, "U1"), (3, "U1"), (2, "U2"), (4, "U1"), (4, "U1")]
    assert db.execute("SELECT COUNT(*) FROM holds WHERE ended IS NULL").fetchone()[0] == 0

    day = parse_report_args("2026-03-10", NOW, "UTC")
    agents = {row["agent"]: row for row in build_report(db, day.start, day.end, now=NOW).by_agent}
    u1, u2 = agents["U1"], agents["U2"]
    assert (u1["peak"], u1["median_concurrent"], u1["agent_hours"], u1["per_agent_hour"]) == (3, 1.0, 2.0, 1.0)
    assert u1["reassigned_away"] == 1 and u2["reassigned_away"] == 0
    assert (u2["peak"], u2["agent_hours"], u2["per_agent_hour"]) == (1, 1.25, 0.8)


def test_each_step_moves_the_status_bumps_the_card_and_logs_one_event(fresh_db):
    db = fresh_db
    add_case(db, 1, "2026-03-10 09:55")
    steps = [
        (lambda: claim(db, 1, "U1"), CaseStatus.CLAIMED, "U1", EventKind.CLAIMED),
        (lambda: reassign(db, 1, "U2", "U1"), CaseStatus.CLAIMED, "U2", EventKind.REASSIGNED),
        (lambda: unclaim(db, 1, "U2"), CaseStatus.NEW, None, EventKind.UNCLAIMED),
        (
            lambda: change(db, 1, EventKind.REPLIED, "x.com", at=_day("10:20")),
            CaseStatus.REPLIED,
            None,
            EventKind.REPLIED,
        ),
        (lambda: change(db, 1, EventKind.MOVED_TO_DM, "U3"), CaseStatus.IN_DM, None, EventKind.MOVED_TO_DM),
        (lambda: resolve(db, 1, "U3", "refund"), CaseStatus.RESOLVED, "U3", EventKind.RESOLVED),
        (lambda: reopen(db, 1, "bot"), CaseStatus.CLAIMED, "U3", EventKind.REOPENED),
    ]
    version = get_card(db, 1).card_version
    for number, (step, status, holder, kind) in enumerate(steps, start=1):
        result = step()
        assert result.outcome is Outcome.OK, kind
        assert (result.case.status, result.case.assignee) == (status, holder), kind
        assert result.case.card_version == version + number, kind
        last = db.execute("SELECT kind, detail FROM events ORDER BY id DESC LIMIT 1").fetchone()
        assert last[0] == kind
    assert json.loads(last[1]) == {"assignee": "U3"}
    assert get_card(db, 1).reason == "refund"


@pytest.mark.parametrize(
    ("set_up", "attempt", "outcome"),
    [
        (lambda db: claim(db, 1, "U1"), lambda db: claim(db, 1, "U2"), Outcome.TAKEN),
        (lambda db: claim(db, 1, "U1"), lambda db: claim(db, 1, "U1"), Outcome.YOURS),
        (lambda db: resolve(db, 1, "U1"), lambda db: claim(db, 1, "U2"), Outcome.RESOLVED),
        (lambda db: claim(db, 1, "U1"), lambda db: unclaim(db, 1, "U2"), Outcome.NOT_YOURS),
        (lambda db: None, lambda db: unclaim(db, 1, "U2"), Outcome.UNCLAIMED),
        (lambda db: claim(db, 1, "U1"), lambda db: reassign(db, 1, "U1", "U9"), Outcome.SAME),
        (lambda db: resolve(db, 1, "U1"), lambda db: resolve(db, 1, "U2"), Outcome.RESOLVED),
        (lambda db: None, lambda db: reopen(db, 1, "bot"), Outcome.OPEN),
        (lambda db: None, lambda db: claim(db, 99, "U1"), Outcome.MISSING),
    ],
)
def test_a_refused_change_says_why_and_writes_nothing(fresh_db, set_up, attempt, outcome):
    add_case(fresh_db, 1, "2026-03-10 09:55")
    set_up(fresh_db)
    events = fresh_db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    version = fresh_db.execute("SELECT card_version FROM cases WHERE id = 1").fetchone()[0]
    result = attempt(fresh_db)
    assert result.outcome is outcome
    assert fresh_db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == events
    assert fresh_db.execute("SELECT card_version FROM cases WHERE id = 1").fetchone()[0] == version


def test_a_manager_may_unclaim_someone_elses_case(fresh_db):
    add_case(fresh_db, 1, "2026-03-10 09:55")
    claim(fresh_db, 1, "U1")
    assert unclaim(fresh_db, 1, "U0BOSS", as_manager=True).ok


def test_statuses_and_kinds_are_compared_through_the_enums_only():
    """A status or event kind retyped as a string in SQL (`status != 'resolved'`, `kind = 'reopened'`) or
    in Python (`card.status == "resolved"`) keeps working until someone renames it in
    storage/lifecycle.py, and then silently breaks a card or a report: they are spelt there only."""
    assert set(TRANSITIONS) <= set(EventKind)
    values = "|".join(sorted({*CaseStatus, *EventKind}))
    retyped = re.compile(
        r"(?<!item\.)(status|kind|outcome)\b\W{0,3}\s*(=|==|!=|<>|\bIN\b|\bin\b|NOT IN|not in)\s*\(?\s*"
        rf"""['"]({values})['"]"""
    )
    offenders = []
    # (a thread item's kind, `item.kind`, is no event: "follow_up" there names a message to post)
    for folder in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if retyped.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_only_change_writes_a_cases_status_or_holder():
    """`UPDATE cases SET … status = …` or `assignee = …` anywhere but storage.cases.change (and the
    transitions it runs) would skip the event, the card's version and the holds: one owner only."""
    writes = re.compile(r"UPDATE cases SET[^\"]*\b(status|assignee)\s*=", re.IGNORECASE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "storage").rglob("*.py"))
        if path.name not in {"cases.py", "lifecycle.py"} and writes.search(path.read_text())
    ]
    assert offenders == []
    cases_source = (ROOT / "storage/cases.py").read_text()
    assert len(writes.findall(cases_source)) == 0  # even there, the SET list comes from the transition
    assert "UPDATE cases SET {rule.set_clause()}" in cases_source
