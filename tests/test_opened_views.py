"""A modal acts only on what Perch opened it about: its metadata, rewritten to name another real case
(or draft, or escalation), is refused in words and changes nothing (`handlers/bound_views.py`)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode

from bot.opened_views import NOT_OPENED_HERE, subject_of
from fakes.slack_requests import block_action_body, view_submission_body
from storage.views import bound_subject
from tests.helpers import QUEUE, cycle, minutes_ago, pushed_view, wait_until
from tests.test_agent_actions import open_modal, submit
from tests.test_personal_data import PHONE_REPLY


def two_cards(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta my bag did not arrive", "bag_lady", created_at=minutes_ago(10))
    fake_x.add_tweet("@Delta my seat is broken", "seat_guy", created_at=minutes_ago(9))
    served = serve()
    cycle(served.runtime)
    return served, *fake_slack.top_level()


def naming(view: dict, **ids: int) -> dict:
    """The view as a forger would send it back: its metadata rewritten to name other rows."""
    return {**view, "private_metadata": json.dumps({**json.loads(view["private_metadata"]), **ids})}


def test_a_reply_form_rewritten_to_name_another_case_is_refused_and_sends_nothing(serve, fake_x, fake_slack):
    served, first, _ = two_cards(serve, fake_x, fake_slack)
    view = open_modal(served, fake_slack, "reply", "U0AGENT", first)
    assert view["external_id"].startswith("perch-")
    assert bound_subject(served.runtime.store.db, view["external_id"]) == '{"case_id":1}'
    answer = submit(served, naming(view, case_id=2), {"reply_text_0": "@seat_guy Sorry!"}, "U0AGENT")
    assert answer.json() == {"response_action": "errors", "errors": {"reply_text_0": NOT_OPENED_HERE}}
    assert fake_x.posted == []
    assert [served.runtime.store.db["cases"].get(n)["status"] for n in (1, 2)] == ["new", "new"]
    sent = submit(served, view, {"reply_text_0": "@bag_lady Sorry! We're on it."}, "U0AGENT")
    assert sent.status_code == 200 and sent.text == ""
    wait_until(lambda: fake_x.posted)
    assert fake_x.posted[0]["reply"]["in_reply_to_tweet_id"] == served.runtime.store.db["cases"].get(1)["tweet_id"]


def test_a_form_perch_never_opened_is_refused(serve, fake_x, fake_slack):
    served, first, _ = two_cards(serve, fake_x, fake_slack)
    view = open_modal(served, fake_slack, "move_to_dm", "U0AGENT", first)
    field = next(b["block_id"] for b in view["blocks"] if b["type"] == "input")
    logged = served.runtime.store.db["events"].count
    unbound = {k: v for k, v in view.items() if k != "external_id"}
    for forged in ({**view, "external_id": "perch-made-up"}, unbound):
        answer = submit(served, forged, {}, "U0AGENT")
        assert answer.json() == {"response_action": "errors", "errors": {field: NOT_OPENED_HERE}}
    assert fake_x.posted == [] and fake_x.dms == []
    assert served.runtime.store.db["events"].count == logged


def test_the_personal_data_check_pushed_over_a_form_is_bound_too(serve, fake_x, fake_slack):
    served, first, _ = two_cards(serve, fake_x, fake_slack)
    view = open_modal(served, fake_slack, "reply", "U0AGENT", first)
    check = pushed_view(submit(served, view, {"reply_text_0": PHONE_REPLY}, "U0AGENT"), view)
    assert check["external_id"] != view["external_id"]
    assert bound_subject(served.runtime.store.db, check["external_id"]) == subject_of(check) == '{"case_id":1}'
    picked = {"personal_data_choice": ("choice", "dm")}
    answer = served.send(view_submission_body(naming(check, case_id=2), {}, user="U0AGENT", picked=picked))
    assert NOT_OPENED_HERE in json.dumps(answer.json())
    assert fake_x.posted == [] and fake_x.dms == []


def test_a_click_inside_a_rewritten_form_is_refused_directly(serve, fake_x, fake_slack):
    served, first, _ = two_cards(serve, fake_x, fake_slack)
    view = open_modal(served, fake_slack, "reply", "U0AGENT", first)
    click = block_action_body("saved_reply_pick", "", user="U0AGENT", channel=QUEUE, message_ts=first.ts)
    payload = json.loads(parse_qs(click)["payload"][0])
    payload["view"] = naming(view, case_id=2)
    updates = len(fake_slack.views)
    assert served.send(urlencode({"payload": json.dumps(payload)})).status_code == 200
    wait_until(lambda: fake_slack.top_level("D0AGENT"))
    assert fake_slack.top_level("D0AGENT")[0].text == NOT_OPENED_HERE
    assert len(fake_slack.views) == updates
