"""The customer's history: a returning customer is marked on the card, History lists their other cases
and the team's notes (a note is added from the modal, escaped, kept after resolve, never sent to X), and
`/perch customer @handle` opens the same for anyone the team has met, by X user id (a new @handle is the
same person)."""

from __future__ import annotations

import json
import time

from fakes.slack_requests import slash_command_body, view_submission_body
from tests.helpers import QUEUE, Clock, cycle, minutes_ago, wait_until
from tests.test_agent_actions import events

HOSTILE = "<!channel> VIP <@U0BOSS> <https://evil.example|bank.com> & *shouts*"


def perch(served, text: str, user: str = "U0AGENT"):
    return served.send(slash_command_body(text, user=user, channel=QUEUE))


def cards(fake_slack) -> dict[int, object]:
    return {m.metadata["event_payload"]["case_id"]: m for m in fake_slack.top_level(QUEUE)}


def shown(message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def modal_text(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def open_history(served, fake_slack, user: str, case_id: int) -> dict:
    """Click History on case `case_id`'s card; the modal Slack was asked to open."""
    count = len(fake_slack.views)
    assert served.click("history", user, cards(fake_slack)[case_id].ts, value=str(case_id)).status_code == 200
    wait_until(lambda: len(fake_slack.views) > count)
    return fake_slack.views[-1]


def note_box(view: dict) -> str:
    (box,) = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    return box


def three_cases(fake_x, served, *, also: str | None = None) -> None:
    """Three cases of one customer (three conversations), read in one poll with `also`'s (the newest):
    the first resolved with a reason by U0FIRST, each answered 12 minutes after it opened. (A first poll
    reads only the last hour; the 90 days' edge is in tests/unit/test_history.py.)"""
    for text, minutes in (
        ("@Delta my bag did not arrive at JFK, file ref JFK12345", 50),
        ("@Delta seat 12C is broken again", 30),
        ("@Delta and now the wifi is down on DL123", 10),
    ):
        fake_x.add_tweet(text, "bag_lady", created_at=minutes_ago(minutes))
    if also:
        fake_x.add_tweet("@Delta hello from someone else", also, created_at=minutes_ago(5))
    cycle(served.runtime)
    db = served.runtime.store.db
    db.execute("UPDATE cases SET status = 'resolved', reason = 'Lost luggage', assignee = 'U0FIRST' WHERE id = 1")
    db.execute("UPDATE cases SET first_response_at = strftime('%Y-%m-%dT%H:%M:%fZ', tweet_created_at, '+12 minutes')")


def test_a_returning_customer_is_marked_and_history_lists_their_other_cases_newest_first(serve, fake_x, fake_slack):
    served = serve()
    three_cases(fake_x, served, also="other_person")
    by_case = cards(fake_slack)
    assert "case in 90 days" not in shown(by_case[1]) and "case in 90 days" not in shown(by_case[4])
    assert "↩ 2nd case in 90 days" in shown(by_case[2])
    assert "↩ 3rd case in 90 days" in shown(by_case[3])
    assert by_case[3].blocks[0]["accessory"]["action_id"] == "history"

    view = open_history(served, fake_slack, "U0AGENT", 3)
    assert view["callback_id"] == "history" and view["title"]["text"] == "Customer history"
    listed = [b.get("block_id", "") for b in view["blocks"] if b.get("block_id", "").startswith("case_")]
    assert listed == ["case_2", "case_1"], "the card's own case is not listed, and nobody else's"
    first = next(b for b in view["blocks"] if b.get("block_id") == "case_1")["text"]["text"]
    assert "“my bag did not arrive at JFK, file ref JFK12345”" in first
    assert "🏷 Lost luggage" in first and "✅ resolved" in first and "<@U0FIRST>" in first
    assert "first response 12m" in first and "CSAT —" in first
    assert "*Notes about them*: none yet." in modal_text(view)


def test_a_note_is_escaped_kept_listed_and_never_sent_to_x(serve, fake_x, fake_slack):
    served = serve()
    three_cases(fake_x, served)
    view = open_history(served, fake_slack, "U0AGENT", 3)
    x_calls = len(fake_x.requests)

    empty = served.send(view_submission_body(view, {note_box(view): "   "}, user="U0AGENT")).json()
    assert empty["errors"] == {"customer_note_0": "Write the note first (the box is empty)."}
    too_long = served.send(view_submission_body(view, {note_box(view): "x" * 1001}, user="U0AGENT")).json()
    assert "up to 1,000 characters; this one has 1,001" in too_long["errors"]["customer_note_0"]

    answer = served.send(view_submission_body(view, {note_box(view): HOSTILE}, user="U0AGENT")).json()
    assert answer["response_action"] == "update"
    updated = answer["view"]
    text = modal_text(updated)
    assert "&lt;!channel&gt; VIP &lt;@U0BOSS&gt; &lt;https://evil.example|bank.com&gt; &amp; *shouts*" in text
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "Your note is kept" in text and "*Notes about them* (1), newest first" in text
    assert note_box(updated) == "customer_note_1", "a new box: the updated modal shows it empty"
    (note,) = served.runtime.store.db["customer_notes"].rows
    bag_lady = fake_x.add_user("bag_lady")["id"]  # known already: her X user id
    assert (note["author_id"], note["text"], note["created_by"], note["case_id"]) == (bag_lady, HOSTILE, "U0AGENT", 3)
    assert note["created_at"]
    assert len(fake_x.requests) == x_calls, "a note never goes to X"
    assert fake_slack.pings() == []


def test_the_note_is_kept_when_the_case_is_resolved(serve, fake_x, fake_slack):
    served = serve()
    three_cases(fake_x, served)
    card = cards(fake_slack)[3]
    view = open_history(served, fake_slack, "U0AGENT", 3)
    served.send(view_submission_body(view, {note_box(view): "Prefers DMs; flies weekly."}, user="U0AGENT"))
    served.click("resolve", "U0AGENT", card.ts, value="3")
    wait_until(lambda: events(served, "resolved"))
    wait_until(lambda: "✅ *Resolved*" in shown(cards(fake_slack)[3]))
    resolved = cards(fake_slack)[3]
    assert resolved.blocks[0]["accessory"]["action_id"] == "history", "History on a resolved card too"
    again = open_history(served, fake_slack, "U0OTHER", 3)
    assert "Prefers DMs; flies weekly." in modal_text(again) and "<@U0AGENT>" in modal_text(again)


def test_perch_customer_opens_the_history_of_anyone_the_team_has_met(serve, fake_x, fake_slack):
    served = serve()
    three_cases(fake_x, served)
    assert perch(served, "customer @BAG_LADY").text == "", "acknowledged; the modal follows"
    wait_until(lambda: fake_slack.views)
    view = fake_slack.views[-1]
    assert view["callback_id"] == "history"
    assert [b.get("block_id", "") for b in view["blocks"] if b.get("block_id", "").startswith("case_")] == [
        "case_3",
        "case_2",
        "case_1",
    ], "from the command, every case"
    answer = served.send(view_submission_body(view, {note_box(view): "Called about JFK."}, user="U0AGENT")).json()
    assert "Called about JFK." in modal_text(answer["view"])
    assert served.runtime.store.db["customer_notes"].get(1)["case_id"] is None


def test_an_unknown_or_hostile_handle_gets_a_clear_answer(serve, fake_x, fake_slack):
    served = serve()
    three_cases(fake_x, served)
    unknown = perch(served, "customer @nobody_here").json()["text"]
    assert unknown.startswith("Perch has met nobody called @nobody_here")
    hostile = perch(served, "customer <!channel>").json()["text"]
    assert hostile.startswith("`&lt;!channel&gt;` is not an X handle.") and "<!channel>" not in hostile
    assert "Usage: `/perch customer @handle`" in perch(served, "customer").json()["text"]
    assert fake_slack.views == []


def test_a_changed_handle_is_the_same_customer(serve, fake_x, fake_slack):
    clock = Clock(time.time())
    served = serve(clock)
    user = fake_x.add_user("old_name")
    fake_x.add_tweet("@Delta my refund never came", user, created_at=minutes_ago(20))
    cycle(served.runtime)
    user["username"] = "new_name"
    fake_x.add_tweet("@Delta still no refund, 20 minutes on", user, created_at=minutes_ago(5))
    clock.advance(60)
    cycle(served.runtime)
    handles = [r["author_handle"] for r in served.runtime.store.db.query("SELECT author_handle FROM tweets ORDER BY 1")]
    assert handles == ["new_name", "old_name"]
    assert "↩ 2nd case in 90 days" in shown(cards(fake_slack)[2])

    perch(served, "customer @old_name")
    perch(served, "customer new_name")
    wait_until(lambda: len(fake_slack.views) == 2)
    old, new = fake_slack.views
    assert json.loads(old["private_metadata"])["customer"] == json.loads(new["private_metadata"])["customer"]
    assert modal_text(old) == modal_text(new)
    assert "@new_name" in modal_text(new) and "also wrote as @old_name" in modal_text(new)
    assert "“my refund never came” as @old_name" in modal_text(new)


def test_someone_outside_the_support_group_is_refused(serve, fake_x, fake_slack):
    fake_slack.usergroups["S0SUPPORT"] = {"U0AGENT"}
    served = serve(SUPPORT_USERGROUP="S0SUPPORT")
    three_cases(fake_x, served)
    served.click("history", "U0STRANGER", cards(fake_slack)[3].ts, value="3")
    wait_until(lambda: fake_slack.ephemerals_to("U0STRANGER"))
    assert "Only members of the support user group" in fake_slack.ephemerals_to("U0STRANGER")[0]
    refused = perch(served, "customer @bag_lady", user="U0STRANGER").json()["text"]
    assert refused.startswith("Only members of the support user group")
    assert fake_slack.views == []
