"""Personal data stays out of public: a reply or a status update that shows some is stopped on the form
(sent as a DM instead, or publicly with a recorded reason), and a customer's post that shows their own
is flagged on the card, raised in priority and answered from the saved reply that asks them to delete it."""

from __future__ import annotations

import json

from fakes.slack_requests import view_submission_body
from tests.helpers import cycle, minutes_ago, pushed_view, wait_until
from tests.test_agent_actions import card_text, events, open_modal, submit
from tests.test_surge import open_view, surge  # noqa: F401  (the fixture)

PHONE_REPLY = "@bag_lady So sorry! Call our baggage desk manager Dana directly on 212-555-0134 today."
CHOICE = "personal_data_choice"


def test_a_reply_with_a_phone_number_is_not_sent_and_goes_as_one_dm_instead(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta my bag did not arrive at JFK", "bag_lady", created_at=minutes_ago(10))
    served = serve()
    cycle(served.runtime)
    card = fake_slack.top_level()[0]
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)

    stopped = submit(served, view, {"reply_text_0": PHONE_REPLY}, "U0AGENT")
    check = pushed_view(stopped, view)
    found = json.dumps(check["blocks"], ensure_ascii=False)
    assert "a phone number" in found and "212-555-0134" in found and "characters 68–79" in found
    assert fake_x.posted == [] and fake_x.dms == [], "nothing goes out before the agent decides"
    options = next(b for b in check["blocks"] if b["block_id"] == CHOICE)["element"]["options"]
    assert [o["value"] for o in options] == ["dm", "public"]
    assert "@bag_lady" in options[0]["text"]["text"]

    as_dm = view_submission_body(check, {}, user="U0AGENT", picked={CHOICE: ("choice", "dm")})
    answers = [served.send(as_dm), served.send(as_dm, retry_num=1)]  # Slack retries the submission
    assert all(a.json() == {"response_action": "clear"} for a in answers)
    assert [d["text"] for d in fake_x.dms] == [PHONE_REPLY.removeprefix("@bag_lady ")], "one DM, same words"
    assert fake_x.posted == []
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["status"] == "in_dm")
    wait_until(lambda: events(served, "moved_to_dm"))
    moved = events(served, "moved_to_dm")
    assert len(moved) == 1 and json.loads(moved[0]["detail"])["kinds"] == ["phone number"]


def test_send_anyway_needs_a_reason_and_records_it(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta my bag did not arrive at JFK", "bag_lady", created_at=minutes_ago(10))
    served = serve()
    cycle(served.runtime)
    view = open_modal(served, fake_slack, "reply", "U0AGENT", fake_slack.top_level()[0])
    check = pushed_view(submit(served, view, {"reply_text_0": PHONE_REPLY}, "U0AGENT"), view)

    no_reason = served.send(view_submission_body(check, {}, user="U0AGENT", picked={CHOICE: ("choice", "public")}))
    assert no_reason.json()["response_action"] == "errors"
    assert "Say why it must be public" in no_reason.json()["errors"]["personal_data_reason"]
    assert fake_x.posted == []

    anyway = view_submission_body(
        check,
        {"personal_data_reason": "It is our desk's public number"},
        user="U0AGENT",
        picked={CHOICE: ("choice", "public")},
    )
    assert served.send(anyway).json() == {"response_action": "clear"}
    assert served.send(anyway, retry_num=1).json() == {"response_action": "clear"}
    assert [p["text"] for p in fake_x.posted] == [PHONE_REPLY], "once, however often Slack retries"
    wait_until(lambda: events(served, "personal_data_sent"))  # recorded right after the acknowledgement
    recorded = events(served, "personal_data_sent")
    assert len(recorded) == 1
    assert json.loads(recorded[0]["detail"]) == {"kinds": ["phone number"], "reason": "It is our desk's public number"}


def test_flight_numbers_handles_and_links_are_not_personal_data(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta is B6 1170 from JFK late?", "bag_lady", created_at=minutes_ago(10))
    served = serve()
    cycle(served.runtime)
    view = open_modal(served, fake_slack, "reply", "U0AGENT", fake_slack.top_level()[0])
    text = "@bag_lady B6 1170 leaves at 14:35 from gate 12 (JFK T5): https://www.jetblue.com/flight-tracker/B61170"
    assert submit(served, view, {"reply_text_0": text}, "U0AGENT").text == ""
    assert [p["text"] for p in fake_x.posted] == [text]


def test_a_customer_post_with_their_card_number_is_flagged_raised_and_answered_from_the_saved_reply(
    serve, fake_x, fake_slack
):
    number = "4111 1111 1111 1111"
    fake_x.add_tweet(f"@Delta charged twice?? my card {number} exp 09/28", "careless", created_at=minutes_ago(3))
    served = serve()
    cycle(served.runtime)
    card = fake_slack.top_level()[0]
    shown = card_text(fake_slack)
    assert "🔒 *Their post shows personal data* (payment card number)" in shown
    assert "High priority" in shown and "personal data in public" in shown
    assert shown.count(number) == 1, "the post shows it once; the card never repeats it"
    assert served.runtime.store.db["cases"].get(1)["priority"] == "high"

    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    box = next(b for b in view["blocks"] if b.get("block_id", "").startswith("reply_text"))["element"]["initial_value"]
    assert box.startswith("@careless For your safety, please delete that post")
    assert "personal-data" in json.dumps(view["blocks"])


def test_the_team_rewords_the_personal_data_reply(serve, fake_x, fake_slack):
    from storage.replies import add_saved_reply, remove_saved_reply

    fake_x.add_tweet("@Delta call me on +44 7911 123456 about my refund", "caller", created_at=minutes_ago(3))
    served = serve()
    db = served.runtime.store.db
    assert remove_saved_reply(db, "personal-data")
    add_saved_reply(db, "personal-data", "Please take that post down and DM us.", "U0LEAD")
    cycle(served.runtime)
    assert "(phone number)" in card_text(fake_slack)
    view = open_modal(served, fake_slack, "reply", "U0AGENT", fake_slack.top_level()[0])
    box = next(b for b in view["blocks"] if b.get("block_id", "").startswith("reply_text"))["element"]["initial_value"]
    assert box == "@caller Please take that post down and DM us."


def test_a_status_update_with_an_email_address_is_saved_only_with_a_reason(surge, fake_x, fake_slack):  # noqa: F811
    served, card, _ = surge
    served.click("incident_status", "U0AGENT", card.ts, value="1")
    status = open_view(fake_slack, "incident_status")
    text = "Storm cancellations: we are rebooking everyone. Questions to our duty manager j.smith@gmail.com"
    check = pushed_view(served.send(view_submission_body(status, {"status_text": text}, user="U0AGENT")), status)
    options = next(b for b in check["blocks"] if b["block_id"] == CHOICE)["element"]["options"]
    assert [o["value"] for o in options] == ["public"], "a status update has no one to DM"
    db = served.runtime.store.db
    assert db["incidents"].get(1)["status_text"] is None

    reason = {"personal_data_reason": "Shared mailbox, approved by comms"}
    anyway = view_submission_body(check, reason, user="U0AGENT", picked={CHOICE: ("choice", "public")})
    assert served.send(anyway).json() == {"response_action": "clear"}
    wait_until(lambda: db["incidents"].get(1)["status_text"] is not None)  # saved right after the ack
    row = db["incidents"].get(1)
    assert row["status_text"] == text and row["status_personal_data_reason"] == "Shared mailbox, approved by comms"


def test_a_follow_up_that_shows_a_booking_reference_flags_the_case(serve, fake_x, fake_slack):
    first = fake_x.add_tweet("@Delta my flight got cancelled, what now?", "rebooker", created_at=minutes_ago(5))
    served = serve(PII_PATTERNS=r"booking reference=\b(?!N\d)(?=[A-Z]*\d)(?=\d*[A-Z])[A-Z0-9]{6}\b")
    cycle(served.runtime)
    assert "🔒" not in card_text(fake_slack)
    fake_x.add_tweet("@Delta it's G8CVWJ, on B6 1170", "rebooker", created_at=minutes_ago(1), reply_to=first)
    served.runtime.ingestor.states.clear()  # the next poll now, not when X's pacing allows
    cycle(served.runtime)
    wait_until(lambda: "(booking reference)" in card_text(fake_slack))
    case = served.runtime.store.db["cases"].get(1)
    assert case["priority"] == "high" and case["personal_data"] == "booking reference"
