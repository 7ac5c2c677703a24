"""The satisfaction survey end to end: one DM on resolve for cases in DM, its answer in the thread."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from fakes.slack_api import Message
from storage.cases import change
from storage.lifecycle import EventKind
from tests.conftest import Served
from tests.helpers import Clock, add_case, cycle, minutes_ago, wait_until
from tests.test_agent_actions import events

QUESTION = "How did we do? Reply 1 (poor) to 5 (great)."
DM_SPACING = 70.0  # seconds: beyond X's DM read spacing (15 per 15 minutes)


@dataclass
class DMCase:
    served: Served
    card: Message
    customer: str
    clock: Clock

    def poll_again(self) -> None:
        self.clock.advance(DM_SPACING)
        cycle(self.served.runtime)

    def resolve(self, action: str = "resolve", **kwargs) -> None:
        db = self.served.runtime.store.db
        before = len(events(self.served, "resolved"))
        assert self.served.click(action, "U0AGENT", self.card.ts, **kwargs).status_code == 200
        wait_until(lambda: db["cases"].get(1)["status"] == "resolved" and len(events(self.served, "resolved")) > before)


@pytest.fixture
def dm_case(serve, fake_x, fake_slack):
    """A case a customer's DM opened, carded, with surveys on."""
    fake_x.add_dm("My refund never arrived", "refund_rita")
    clock = Clock(time.time())
    served = serve(clock, CSAT_SURVEY="true", CSAT_QUESTION=QUESTION)
    cycle(served.runtime)
    [card] = fake_slack.top_level()
    return DMCase(served, card, fake_x.add_user("refund_rita")["id"], clock)


def surveys_sent(fake_x) -> list[dict]:
    return [d for d in fake_x.dms if d["text"] == QUESTION]


def csat_messages(fake_slack, ts: str) -> list[Message]:
    return [m for m in fake_slack.thread(ts) if (m.metadata or {}).get("event_type") == "perch_csat"]


def test_resolving_a_dm_case_asks_once_even_when_retried_reopened_and_resolved_again(dm_case, fake_x, fake_slack):
    served, card = dm_case.served, dm_case.card
    dm_case.resolve()
    wait_until(lambda: events(served, "csat_sent"))
    served.click("resolve", "U0AGENT", card.ts)  # a stale second click on the resolved card
    assert [d["participant_id"] for d in surveys_sent(fake_x)] == [dm_case.customer]
    wait_until(lambda: any(QUESTION in json.dumps(m.blocks) for m in fake_slack.thread(card.ts)))
    served.click("reopen", "U0AGENT", card.ts)
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["status"] != "resolved")
    dm_case.resolve()
    assert len(surveys_sent(fake_x)) == 1, "never twice for one case"
    assert len(events(served, "csat_sent")) == 1
    db = served.runtime.store.db
    assert db.execute("SELECT idempotency_key, status FROM replies WHERE kind = 'dm'").fetchall() == [
        ("csat:1", "sent")
    ]
    # the question answers nothing: no first response for the case, no "sent a DM" step
    assert db["cases"].get(1)["first_response_at"] is None
    assert events(served, "dm_sent") == []


def test_the_answer_is_the_first_dm_that_begins_with_a_score(dm_case, fake_x, fake_slack):
    served, card, customer = dm_case.served, dm_case.card, dm_case.customer
    dm_case.resolve()
    wait_until(lambda: events(served, "csat_sent"))
    for text in ("10", "five", "1-5"):  # not scores: ordinary DMs (the first reopens the case)
        fake_x.add_dm(text, fake_x.users[customer])
    dm_case.poll_again()
    db = served.runtime.store.db
    assert db["cases"].get(1)["reopened_count"] == 1 and len(events(served, "dm_received")) == 3
    assert csat_messages(fake_slack, card.ts) == []
    dm_case.resolve()
    fake_x.add_dm("4/5 - quick, but *next time* <!channel> call me", fake_x.users[customer])
    dm_case.poll_again()
    [answer] = csat_messages(fake_slack, card.ts)
    assert answer.metadata["event_payload"] == {"case_id": 1, "score": 4}
    shown = json.dumps(answer.blocks, ensure_ascii=False)
    assert "⭐ 4/5 “quick, but" in shown and "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert "next time" not in answer.text, "the comment stays out of the notification"
    assert db["cases"].get(1)["status"] == "resolved" and db["cases"].get(1)["reopened_count"] == 1
    assert [json.loads(e["detail"])["score"] for e in events(served, "csat_answered")] == [4]
    assert len(fake_slack.top_level()) == 1, "no new case"
    fake_x.add_dm("5", fake_x.users[customer])  # answered already: an ordinary DM, as today
    dm_case.poll_again()
    assert len(csat_messages(fake_slack, card.ts)) == 1 and db["cases"].get(1)["reopened_count"] == 2


def test_a_refused_survey_is_recorded_and_said_in_the_thread(dm_case, fake_x, fake_slack):
    served, card = dm_case.served, dm_case.card
    fake_x.closed_dms.add(dm_case.customer)
    dm_case.resolve()
    wait_until(lambda: any("survey was not sent" in json.dumps(m.blocks) for m in fake_slack.thread(card.ts)))
    note = next(m for m in fake_slack.thread(card.ts) if "survey was not sent" in json.dumps(m.blocks))
    assert "not following you" in json.dumps(note.blocks)
    assert surveys_sent(fake_x) == [] and len(events(served, "csat_not_sent")) == 1
    db = served.runtime.store.db
    assert db.execute("SELECT status FROM replies WHERE idempotency_key = 'csat:1'").fetchone()[0] == "failed"


def test_resolve_without_survey_never_asks_this_case(dm_case, fake_x, fake_slack):
    served, card = dm_case.served, dm_case.card
    dm_case.resolve("resolve_no_survey")
    assert len(events(served, "csat_skipped")) == 1
    served.click("reopen", "U0AGENT", card.ts)
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["status"] != "resolved")
    dm_case.resolve()
    dm_case.poll_again()
    assert surveys_sent(fake_x) == [] and events(served, "csat_sent") == []


def test_a_public_only_case_gets_no_survey_and_no_button(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta my bag did not arrive", "bag_owner", created_at=minutes_ago(5))
    served = serve(CSAT_SURVEY="true")
    cycle(served.runtime)
    [card] = fake_slack.top_level()
    assert "resolve_no_survey" not in json.dumps(card.blocks)
    served.click("resolve", "U0AGENT", card.ts)
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["status"] == "resolved")
    cycle(served.runtime)
    assert fake_x.dms == [] and served.runtime.store.db["csat_surveys"].count == 0


def test_the_cool_down_spares_a_customer_asked_lately(serve, fake_x, fake_slack):
    tweet = fake_x.add_tweet("@Delta my bag did not arrive at JFK", "bag_lady", created_at=minutes_ago(10))
    fake_x.add_tweet("@Delta and my seat was broken", "bag_lady", created_at=minutes_ago(9))
    served = serve(CSAT_SURVEY="true", CSAT_QUESTION=QUESTION)
    cycle(served.runtime)
    customer, db = fake_x.tweets[tweet].author_id, served.runtime.store.db
    cards = sorted(fake_slack.top_level(), key=lambda card: card.metadata["event_payload"]["case_id"])
    for case_id, card in enumerate(cards, start=1):
        assert change(db, case_id, EventKind.MOVED_TO_DM, "U0AGENT").ok  # as Move to DM records it
        served.click("resolve", "U0AGENT", card.ts, value=str(case_id))
        wait_until(lambda case_id=case_id: db["cases"].get(case_id)["status"] == "resolved")
        wait_until(lambda: surveys_sent(fake_x))
    assert [d["participant_id"] for d in surveys_sent(fake_x)] == [customer], "asked once in 30 days"
    assert db.execute("SELECT case_id FROM csat_surveys").fetchall() == [(1,)]


def test_surveys_a_crash_cut_off_are_sent_once_by_the_catch_up(dm_case, fake_x):
    """The process died after the resolve, before the survey was claimed (case 1), or after the claim,
    before the question reached the outbox (case 2): the minute job sends each once; a case resolved
    without survey (case 3) is left alone, and a second run sends nothing more."""
    from bot.jobs.csat import SurveyCatchUp, survey_policy
    from storage.cases import resolve
    from storage.csat import claim_survey, skip_survey

    runtime = dm_case.served.runtime
    db = runtime.store.db
    for case_id in (2, 3):
        add_case(db, case_id, "2026-12-01 10:00")
        db.execute(
            "UPDATE cases SET author_id = ?, dm_event_id = ? WHERE id = ?", [f"7{case_id}", f"dm{case_id}", case_id]
        )
    now = datetime.now(UTC)
    resolve(db, 1, "U0AGENT")  # a crash: no survey claimed
    resolve(db, 2, "U0AGENT")
    claim_survey(db, 2, "U0AGENT", timedelta(days=30), now)  # a crash: claimed, never sent
    skip_survey(db, 3, "U0AGENT")
    resolve(db, 3, "U0AGENT")
    policy = survey_policy(True, QUESTION, 30)
    assert policy is not None
    catch_up = SurveyCatchUp(runtime.store, runtime.services.outbox, policy)
    assert catch_up.run() == 2
    assert sorted(d["participant_id"] for d in surveys_sent(fake_x)) == sorted([dm_case.customer, "72"])
    assert catch_up.run() == 0 and len(surveys_sent(fake_x)) == 2


def test_an_unconfirmed_survey_that_x_then_refuses_is_said_as_a_survey(dm_case, fake_x, fake_slack):
    """The question met a 500, and the minute job's try met closed DMs: the thread says the survey was
    not sent — not that someone must answer the customer again, as for an agent's own reply."""
    served, card = dm_case.served, dm_case.card
    fake_x.script(r"^/2/dm_conversations/with/[^/]+/messages$", 500)
    dm_case.resolve()
    db = served.runtime.store.db
    status = "SELECT status FROM replies WHERE idempotency_key = 'csat:1'"
    wait_until(lambda: (db.execute(status).fetchone() or ["sending"])[0] == "unknown")  # X did not confirm it
    db.execute("UPDATE replies SET attempted_at = '2000-01-01T00:00:00Z'")  # the minute job is due
    fake_x.closed_dms.add(dm_case.customer)
    assert served.runtime.services.outbox.reconcile() == 1
    served.runtime.poster.run()
    notes = [json.dumps(m.blocks, ensure_ascii=False) + m.text for m in fake_slack.thread(card.ts)]
    assert any("satisfaction survey was not sent" in n and "not asked" in n for n in notes), notes
    assert not any("answer the customer again" in n for n in notes)
    assert surveys_sent(fake_x) == []
