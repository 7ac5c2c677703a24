"""A second pair of eyes: a new agent's reply waits in the card's thread for a lead, who approves it
(sent once, however many clicks), edits it, or sends it back; the leads are reminded once; an agent past
their daily reply limit is reviewed too."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks.reports import report_blocks
from fakes.slack_requests import view_submission_body
from storage.db import to_iso
from storage.metrics import Breakdown, build_report
from tests.helpers import NOW, cycle, minutes_ago, wait_until
from tests.test_agent_actions import events, open_modal, submit

REVIEWED = {"REVIEW_USERGROUP": "S0NEWBIES", "SUPPORT_LEAD_USERGROUP": "S0LEADS"}
DRAFT = "@bag_lady So sorry! Your bag is on the next flight and will be delivered tonight."


@pytest.fixture
def held(serve, fake_x, fake_slack):
    """A new agent's reply, held for review; returns (served, card, the draft's thread message)."""
    fake_slack.usergroups.update(S0NEWBIES={"U0NEW"}, S0LEADS={"U0LEAD", "U0LEAD2"})
    fake_x.add_tweet("@Delta my bag did not arrive at JFK", "bag_lady", created_at=minutes_ago(10))
    served = serve(**REVIEWED)
    cycle(served.runtime)
    card = fake_slack.top_level()[0]
    view = open_modal(served, fake_slack, "reply", "U0NEW", card)
    assert "waits for a lead's review before it goes to X" in json.dumps(view["blocks"])
    assert submit(served, view, {"reply_text_0": DRAFT}, "U0NEW").text == ""
    assert submit(served, view, {"reply_text_0": DRAFT}, "U0NEW").text == "", "a retried submission"
    wait_until(lambda: _drafts(fake_slack, card))
    return served, card, _drafts(fake_slack, card)[0]


def _drafts(fake_slack, card) -> list:
    return [m for m in fake_slack.thread(card.ts) if (m.metadata or {}).get("event_type") == "perch_draft"]


def _shown(message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def _notes(fake_slack, card) -> list[str]:
    return [m.text for m in fake_slack.thread(card.ts) if (m.metadata or {}).get("event_type") == "perch_note"]


def test_a_new_agents_reply_waits_for_a_lead_and_nothing_goes_to_x(held, fake_x, fake_slack):
    served, card, draft = held
    assert fake_x.posted == []
    assert len(_drafts(fake_slack, card)) == 1, "one draft per form"
    shown = json.dumps(draft.blocks, ensure_ascii=False)
    assert "<!subteam^S0LEADS>" in shown and "<@U0NEW>" in shown and "new agent" in shown
    assert "Your bag is on the next flight" in shown
    assert [e["action_id"] for e in draft.blocks[-1]["elements"]] == ["draft_approve", "draft_edit", "draft_send_back"]
    assert draft.metadata["event_payload"] == {"case_id": 1, "draft_id": 1}
    wait_until(lambda: "A draft waits for a lead" in json.dumps(fake_slack.top_level()[0].blocks))
    assert served.runtime.store.db["cases"].get(1)["first_response_at"] is None


def test_only_a_lead_other_than_the_author_may_decide(held, fake_x, fake_slack):
    served, card, draft = held
    served.click("draft_approve", "U0OTHER", draft.ts, value="1")
    served.click("draft_approve", "U0NEW", draft.ts, value="1")
    wait_until(lambda: fake_slack.ephemerals_to("U0OTHER") and fake_slack.ephemerals_to("U0NEW"))
    assert "support lead user group (S0LEADS)" in fake_slack.ephemerals_to("U0OTHER")[0]
    assert "support lead user group (S0LEADS)" in fake_slack.ephemerals_to("U0NEW")[0]
    assert fake_x.posted == [] and events(served, "draft_approved") == []


def test_approve_sends_exactly_once_when_two_leads_click_and_slack_retries(held, fake_x, fake_slack):
    served, card, draft = held
    barrier = threading.Barrier(3)

    def click(user: str) -> None:
        barrier.wait()
        served.click("draft_approve", user, draft.ts, value="1")

    clicks = [threading.Thread(target=click, args=(u,)) for u in ("U0LEAD", "U0LEAD2", "U0LEAD")]
    [t.start() for t in clicks]
    [t.join() for t in clicks]
    wait_until(lambda: len(fake_x.posted) == 1 and events(served, "replied"))
    wait_until(lambda: len(fake_slack.ephemerals) == 2)  # the two clicks that lost are told
    assert all(text.startswith("Already decided: ✅ Approved by") for text in (m.text for m in fake_slack.ephemerals))
    assert [p["text"] for p in fake_x.posted] == [DRAFT]
    approved = events(served, "draft_approved")
    assert len(approved) == 1
    replied = events(served, "replied")
    assert len(replied) == 1 and replied[0]["actor"] == "U0NEW", "the author's reply, counted when it went out"
    assert served.runtime.store.db["cases"].get(1)["first_response_at"] is not None
    lead = approved[0]["actor"]
    wait_until(lambda: f"✅ Approved by <@{lead}> · sent" in _shown(_drafts(fake_slack, card)[0]))
    assert "draft_approve" not in _shown(_drafts(fake_slack, card)[0]), "no buttons once decided"
    wait_until(lambda: any(f"<@U0NEW>, <@{lead}> approved your draft" in n for n in _notes(fake_slack, card)))

    now = datetime.now(UTC)
    report = build_report(served.runtime.store.db, now - timedelta(days=1), now + timedelta(minutes=1), now=now)
    review = report.review
    assert review is not None and (review.held, review.approved, review.waiting) == (1, 1, 0)
    assert report.review.time_to_approve.count == 1 and report.time_to_first_response.count == 1
    shown = json.dumps(report_blocks(report, "today", Breakdown.AGENT), ensure_ascii=False)
    assert "Review: 1 draft held · 1 reviewed (1 approved, 0 sent back) · 0 waiting · time to approve: p50" in shown


def test_a_lead_edits_the_draft_and_the_edited_text_goes_out(held, fake_x, fake_slack):
    served, card, draft = held
    count = len(fake_slack.views)
    served.click("draft_edit", "U0LEAD", draft.ts, value="1")
    wait_until(lambda: len(fake_slack.views) > count)
    form = fake_slack.views[-1]
    assert form["blocks"][0]["element"]["initial_value"] == DRAFT
    with_phone = view_submission_body(form, {"draft_text": DRAFT + " Call me on 212-555-0134"}, user="U0LEAD")
    assert "a phone number" in served.send(with_phone).json()["errors"]["draft_text"]
    edited = "@bag_lady Sorry! Your bag arrives on tonight's 19:40 flight; we deliver it by 23:00."
    body = view_submission_body(form, {"draft_text": edited}, user="U0LEAD")
    assert served.send(body).text == ""
    assert served.send(body).json()["errors"]["draft_text"].startswith("Already decided")
    wait_until(lambda: fake_x.posted)  # sent right after the acknowledgement
    assert [p["text"] for p in fake_x.posted] == [edited]
    assert json.loads(events(served, "draft_approved")[0]["detail"])["edited"] is True
    wait_until(lambda: "Edited and approved by <@U0LEAD>" in _shown(_drafts(fake_slack, card)[0]))


def test_send_back_returns_the_draft_to_its_author_with_a_note(held, fake_x, fake_slack):
    served, card, draft = held
    count = len(fake_slack.views)
    served.click("draft_send_back", "U0LEAD", draft.ts, value="1")
    wait_until(lambda: len(fake_slack.views) > count)
    form = fake_slack.views[-1]
    assert served.send(view_submission_body(form, {"draft_note": "  "}, user="U0LEAD")).json()["errors"]
    note = "Don't promise tonight <!channel> — say 'within 24 hours'."
    assert served.send(view_submission_body(form, {"draft_note": note}, user="U0LEAD")).text == ""
    assert fake_x.posted == []
    wait_until(lambda: any("sent your draft back" in n for n in _notes(fake_slack, card)))
    told = next(n for n in _notes(fake_slack, card) if "sent your draft back" in n)
    assert told.startswith("↩️ <@U0NEW>, <@U0LEAD> sent your draft back") and "<!channel>" not in told
    assert served.runtime.store.db["drafts"].get(1)["status"] == "sent_back"
    wait_until(lambda: "Sent back by <@U0LEAD>" in _shown(_drafts(fake_slack, card)[0]))


def test_a_draft_waiting_too_long_pings_the_leads_once(held, fake_slack):
    served, card, _ = held
    db = served.runtime.store.db
    review = served.runtime.services.review
    assert review.run() == 0, "not waiting long enough yet"
    db.execute("UPDATE drafts SET created_at = ?", [to_iso(datetime.now(UTC) - timedelta(minutes=20))])
    db.conn.commit()
    assert review.run() == 1
    assert review.run() == 0, "once"
    served.runtime.poster.run()
    reminders = [n for n in _notes(fake_slack, card) if n.startswith("⏰")]
    assert reminders == ["⏰ <!subteam^S0LEADS>: a draft by <@U0NEW> has waited 20 minutes for review."]


def test_past_the_daily_limit_a_lead_approves_the_agents_further_replies(serve, fake_x, fake_slack):
    fake_slack.usergroups.update(S0LEADS={"U0LEAD"})
    for n, handle in enumerate(("first_one", "second_one")):
        fake_x.add_tweet(f"@Delta help {n}", handle, created_at=minutes_ago(10 - n))
    served = serve(AGENT_DAILY_REPLY_LIMIT="1", SUPPORT_LEAD_USERGROUP="S0LEADS")
    served.runtime.services.review.clock = lambda: NOW  # a fixed day, begun before both replies at any hour
    cycle(served.runtime)
    first, second = sorted(fake_slack.top_level(), key=lambda m: "second_one" in m.text)
    view = open_modal(served, fake_slack, "reply", "U0AGENT", first)
    assert submit(served, view, {"reply_text_0": "@first_one On it!"}, "U0AGENT").text == ""
    count = len(fake_slack.views)
    served.click("reply", "U0AGENT", second.ts, value="2")  # the second case's card
    wait_until(lambda: len(fake_slack.views) > count)
    assert submit(served, fake_slack.views[-1], {"reply_text_0": "@second_one On it too!"}, "U0AGENT").text == ""
    assert [p["text"] for p in fake_x.posted] == ["@first_one On it!"]
    wait_until(lambda: _drafts(fake_slack, second))
    assert "past the agent's daily reply limit" in _shown(_drafts(fake_slack, second)[0])


def test_a_new_agents_move_to_dm_waits_as_two_drafts_the_lead_approves(serve, fake_x, fake_slack):
    fake_slack.usergroups.update(S0NEWBIES={"U0NEW"}, S0LEADS={"U0LEAD"})
    fake_x.add_tweet("@Delta my bag did not arrive at JFK", "bag_lady", created_at=minutes_ago(10))
    served = serve(**REVIEWED)
    cycle(served.runtime)
    card = fake_slack.top_level()[0]
    view = open_modal(served, fake_slack, "move_to_dm", "U0NEW", card)
    public = next(b for b in view["blocks"] if b["block_id"] == "public")["element"]["initial_value"]
    leaky = submit(served, view, {"public": public + " Or call 212-555-0134", "private": "Hi!"}, "U0NEW")
    assert "a phone number: put it in the DM instead" in leaky.json()["errors"]["public"]
    assert submit(served, view, {"public": public, "private": "Hi! Your bag tag number, please?"}, "U0NEW").text == ""
    wait_until(lambda: len(_drafts(fake_slack, card)) == 2)
    assert fake_x.posted == [] and fake_x.dms == []
    for draft in _drafts(fake_slack, card):
        served.click("draft_approve", "U0LEAD", draft.ts, value=str(draft.metadata["event_payload"]["draft_id"]))
    wait_until(lambda: len(fake_x.posted) == 1 and len(fake_x.dms) == 1)
    assert fake_x.posted[0]["text"] == public and fake_x.dms[0]["text"] == "Hi! Your bag tag number, please?"
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["status"] == "in_dm")
