"""Hostile requests and faults, end to end: malformed signed bodies are refused with a 400 before Bolt
sees them, garbage or forged form data and button values are refused in words, Slack's retries are
answered once, and a send X never confirmed is never settled silently."""

from __future__ import annotations

import json
import logging
import random
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

import pytest

from bot.forms import UNREADABLE
from bot.opened_views import bound
from bot.slack.ids import View
from fakes.slack_requests import block_action_body, slash_command_body, view_submission_body
from handlers.shared import DISAGREES
from tests.helpers import QUEUE, Clock, cycle, minutes_ago, wait_until
from tests.test_agent_actions import events, open_modal, queue, submit  # noqa: F401  (the fixture)

# -- #5: malformed signed requests never reach Bolt ------------------------------------------------


def _payload(body: str) -> dict:
    return json.loads(parse_qs(body)["payload"][0])


def _form(payload: object) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _malformed(card_ts: str) -> dict[str, str]:
    click = _payload(block_action_body("claim", "1", user="U0AGENT", channel=QUEUE, message_ts=card_ts))
    view = {"id": "V1", "type": "modal", "callback_id": View.REPLY, "private_metadata": '{"case_id": 1}'}
    submission = {"type": "view_submission", "user": {"id": "U0AGENT"}, "view": view}
    untyped = {**submission, "view": {k: v for k, v in view.items() if k != "type"}}
    listed = {**submission, "view": {**view, "state": {"values": [{"reply_text_0": "hi"}]}}}
    return {
        "empty payload": "payload=",
        "100,000 deep": "payload=" + '{"type":"block_actions","x":' + _deep(100_000) + "}",
        "100 deep": _form({**click, "x": json.loads(_deep(100))}),
        "two payloads": _form({"type": "shortcut"}) + "&" + _form(click),
        "view without type": _form(untyped),
        "actions=[{}]": _form({**click, "actions": [{}]}),
        "no actions": _form({**click, "actions": []}),
        "state.values a list": _form(listed),
        "user a string": _form({**click, "user": "U0AGENT"}),
        "JSON cut short": '{"type": "block_actions", "actions": [',
    }


@pytest.mark.parametrize("name", list(_malformed("1.1")))
def test_a_malformed_signed_request_is_refused_with_a_400(queue, fake_slack, caplog, name):  # noqa: F811
    served, card, _ = queue
    with caplog.at_level(logging.WARNING):
        answer = served.send(_malformed(card.ts)[name])
    assert answer.status_code == 400, answer.text
    assert "Traceback" not in caplog.text and "Refused a request" in caplog.text
    assert served.runtime.store.db["cases"].get(1)["assignee"] is None, "nothing was handled"


# -- #4: garbage form metadata, and values naming another case -------------------------------------

GARBAGE = {
    "not json": "not json{",
    "a list": "[]",
    "1e400": '{"case_id":1e400}',
    "a string id": '{"case_id":"abc"}',
    "5,000 digits": '{"case_id":' + "9" * 5000 + "}",
    "4,000 digits": '{"case_id":' + "9" * 4000 + "}",
    "50,000 deep": _deep(50_000),
}
FORMS = list(View)  # all 12 forms


def _forged_view(callback_id: str, metadata: str) -> dict:
    box = {"type": "plain_text_input", "action_id": "text"}
    block = {"type": "input", "block_id": "field", "label": {"type": "plain_text", "text": "?"}, "element": box}
    return {
        "id": "VFORGED",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "blocks": [block],
    }


@pytest.mark.parametrize("callback_id", FORMS)
def test_garbage_metadata_is_refused_in_words_on_every_form(queue, fake_x, fake_slack, caplog, callback_id):  # noqa: F811
    served, _, _ = queue
    with caplog.at_level(logging.ERROR):
        for name, metadata in GARBAGE.items():
            answer = served.send(
                view_submission_body(_forged_view(callback_id, metadata), {"field": "hi"}, user="U0AGENT")
            )
            assert answer.status_code == 200, (name, answer.text)
            assert answer.json() == {"response_action": "errors", "errors": {"field": UNREADABLE}}, name
    assert caplog.text == "", "nothing failed"
    assert fake_x.posted == [] and served.runtime.store.db["replies"].count == 0


def test_a_form_with_no_field_to_show_it_on_closes_and_says_why_directly(queue, fake_slack):  # noqa: F811
    served, _, _ = queue
    bare = {"id": "VBARE", "type": "modal", "callback_id": View.RESOLVE, "private_metadata": "not json{"}
    answer = served.send(view_submission_body(bare, {}, user="U0AGENT"))
    assert answer.status_code == 200 and answer.text == ""
    wait_until(lambda: fake_slack.top_level("D0AGENT"))
    assert fake_slack.top_level("D0AGENT")[0].text == UNREADABLE


@pytest.fixture
def two_cards(serve, fake_x, fake_slack):
    """Two customers' cards; returns (served, the first card, the second card)."""
    fake_x.add_tweet("@Delta my bag did not arrive", "bag_lady", created_at=minutes_ago(10))
    fake_x.add_tweet("@Delta my seat is broken", "seat_guy", created_at=minutes_ago(9))
    served = serve()
    cycle(served.runtime)
    first, second = fake_slack.top_level()
    return served, first, second


@pytest.mark.parametrize("action_id", ["claim", "resolve", "escalate", "reply"])
def test_a_button_naming_another_case_is_refused_in_words(two_cards, fake_slack, action_id):
    served, first, second = two_cards
    db = served.runtime.store.db
    views, history = len(fake_slack.views), db["events"].count
    assert served.click(action_id, "U0AGENT", first.ts, value="2").status_code == 200
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    assert fake_slack.ephemerals_to("U0AGENT") == [DISAGREES]
    assert [db["cases"].get(n)["status"] for n in (1, 2)] == ["new", "new"] and db["events"].count == history
    assert len(fake_slack.views) == views, "no form opened for either case"


def test_a_click_on_a_card_acts_on_that_card(two_cards, fake_slack):
    served, _, second = two_cards
    served.click("claim", "U0AGENT", second.ts, value="2")
    wait_until(lambda: served.runtime.store.db["cases"].get(2)["assignee"] == "U0AGENT")
    assert served.runtime.store.db["cases"].get(1)["assignee"] is None


# -- #9: told once, or told at all -----------------------------------------------------------------


def test_a_retried_click_is_answered_once(queue, fake_slack):  # noqa: F811
    served, card, _ = queue
    served.click("claim", "U0AGENT", card.ts)
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["assignee"] == "U0AGENT")
    again = block_action_body("claim", "1", user="U0AGENT", channel=QUEUE, message_ts=card.ts)
    assert served.send(again).status_code == 200
    assert served.send(again, retry_num=1).status_code == 200
    assert served.send(again, retry_num=2).status_code == 200
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    third = block_action_body("claim", "1", user="U0OTHER", channel=QUEUE, message_ts=card.ts)
    served.send(third)  # a later click: once its answer is there, the retries' would have been too
    wait_until(lambda: fake_slack.ephemerals_to("U0OTHER"))
    assert fake_slack.ephemerals_to("U0AGENT") == ["You already have this case."]
    assert len(events(served, "claimed")) == 1


def test_a_retried_submission_gets_the_first_answer_without_a_second_handling(queue, fake_x, fake_slack):  # noqa: F811
    served, card, _ = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    too_long = {"reply_text_0": "@bag_lady " + "x" * 300}
    first = submit(served, view, too_long, "U0AGENT")
    retried = submit(served, view, too_long, "U0AGENT", retry_num=1)
    assert first.json()["response_action"] == "errors" and retried.json() == first.json()


def test_a_click_with_no_channel_is_told_directly(queue, fake_slack):  # noqa: F811
    served, card, _ = queue
    payload = _payload(block_action_body("claim", "7", user="U0AGENT", channel=QUEUE, message_ts=card.ts))
    del payload["channel"], payload["container"]["channel_id"]
    assert served.send(_form(payload)).status_code == 200
    wait_until(lambda: fake_slack.top_level("D0AGENT"))
    assert fake_slack.top_level("D0AGENT")[0].text == "Perch has no case for this card any more."


# -- #2: a send X never confirmed is settled, not dropped ------------------------------------------

RESET = 2_000_000_000  # X's x-rate-limit-reset, epoch seconds (the X client's clock is driven by hand)


def _rate_limited() -> dict:
    headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(RESET)}
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
    return {"status": 429, "body": body, "headers": headers}


def _unconfirmed(served, fake_x, fake_slack, card) -> None:
    """The agent's reply met a 500: the form said X did not confirm it; the minute job is now due."""
    fake_x.script(r"^/2/tweets$", 500)
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    answer = submit(served, view, {"reply_text_0": "@bag_lady Your bag is on the next flight."}, "U0AGENT")
    assert "X did not confirm it" in json.dumps(answer.json())
    _due(served)


def _due(served) -> None:
    """The minute job's next run, as far as the send is concerned (its last attempt is long past)."""
    served.runtime.store.db.execute("UPDATE replies SET attempted_at = '2000-01-01T00:00:00Z'")


def test_an_unconfirmed_reply_that_meets_a_rate_limit_goes_after_the_reset(queue, fake_x, fake_slack):  # noqa: F811
    served, card, _ = queue
    clock = Clock(RESET - 60)
    served.runtime.x.clock = clock
    _unconfirmed(served, fake_x, fake_slack, card)
    fake_x.script(r"^/2/tweets$", **_rate_limited())
    outbox = served.runtime.services.outbox
    assert outbox.reconcile() == 0
    _due(served)
    assert outbox.reconcile() == 0, "before the reset: X is not asked again"
    assert len(fake_x.requests_to(r"^/2/tweets$")) == 2 and fake_x.posted == []
    assert served.runtime.store.db["replies"].get(1)["status"] == "unknown", "not settled: it still goes"
    clock.advance(120)
    _due(served)
    assert outbox.reconcile() == 1
    assert [p["text"] for p in fake_x.posted] == ["@bag_lady Your bag is on the next flight."]
    assert served.runtime.store.db["replies"].get(1)["status"] == "sent" and len(events(served, "replied")) == 1


def test_an_unconfirmed_reply_that_x_then_refuses_is_said_in_the_thread(queue, fake_x, fake_slack):  # noqa: F811
    served, card, _ = queue
    _unconfirmed(served, fake_x, fake_slack, card)
    refusal = {"title": "Forbidden", "detail": "You are not allowed to create a Tweet with duplicate content."}
    fake_x.script(r"^/2/tweets$", 403, {**refusal, "type": "about:blank", "status": 403})
    assert served.runtime.services.outbox.reconcile() == 1
    served.runtime.poster.run()
    notes = [m.text for m in fake_slack.thread(card.ts)]
    assert any("did not go out" in n and "<@U0AGENT>, answer the customer again" in n for n in notes), notes
    assert fake_x.posted == [] and served.runtime.store.db["replies"].get(1)["status"] == "failed"


# -- the whole class: random Unicode and random JSON shapes at every form, action and command -------

PIECES = ["a", "Z", "7", " ", "\x00", "\x1b", "\u202e", "\u2066", "\u200b", "\ud800", "\udfff", "\ud83d", "😀"]
PIECES += ["\u0645\u0631\u062d\u0628\u0627", "<!channel>", "<@U024BE7LH>", "&amp;", "|", '"', "{", "]", "\n"]
ACTIONS = [
    "claim", "unclaim", "reassign", "reply", "move_to_dm", "reply_dm", "escalate", "resolve", "reopen",
    "escalation_ack", "escalation_resolve", "saved_reply_pick", "incident_status", "incident_bulk_reply",
    "incident_bulk_stop", "draft_approve", "draft_edit", "draft_send_back",
]  # fmt: skip
SUB_COMMANDS = ["", "help", "status", "replies", "replies add", "replies remove", "locations", "locations add"]
SUB_COMMANDS += ["locations edit", "locations remove", "reasons", "reasons add", "reasons remove", "nonsense"]


def random_text(rng, *, surrogates: bool = True) -> str:
    pieces = PIECES if surrogates else [p for p in PIECES if not "\ud800" <= p[:1] <= "\udfff"]
    return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 12)))


def random_shape(rng, depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 2**70, 1e308, 0.5])
    if kind in (2, 3, 4):
        return random_text(rng)
    if kind in (5, 6):
        return {random_text(rng): random_shape(rng, depth + 1) for _ in range(rng.randrange(4))}
    return [random_shape(rng, depth + 1) for _ in range(rng.randrange(4))]


def _fuzzed_form(rng, user: str) -> str:
    metadata = rng.choice([json.dumps(random_shape(rng)), random_text(rng), '{"case_id": "1"}'])
    view = _forged_view(rng.choice(FORMS), metadata)
    payload = _payload(view_submission_body(view, {"field": random_text(rng)}, user=user))
    if rng.random() < 0.3:  # the form's values in a shape Slack never sends
        payload["view"]["state"] = {"values": random_shape(rng)}
    return _form(payload)


def _fuzzed_click(rng, user: str, card_ts: str) -> str:
    """On the card, a value naming another case (refused); elsewhere random text or a random shape."""
    on_card = rng.random() < 0.3
    ts = card_ts if on_card else random_text(rng)
    value = str(rng.randrange(2, 10**6)) if on_card else "x" + random_text(rng)  # "x": never names case 1
    payload = _payload(block_action_body(rng.choice(ACTIONS), value, user=user, channel=QUEUE, message_ts=ts))
    if not on_card and rng.random() < 0.3:  # a value or selection in a shape Slack never sends
        payload["actions"][0][rng.choice(["value", "selected_user", "selected_option"])] = random_shape(rng)
    return _form(payload)


def _told(fake_slack, user: str) -> bool:
    return bool(fake_slack.ephemerals_to(user) or fake_slack.top_level("D" + user[1:]))


def test_random_requests_never_fail_and_always_answer_in_words(queue, fake_x, fake_slack, caplog):  # noqa: F811
    served, card, _ = queue
    rng = random.Random(28)
    waiting: list[str] = []
    with caplog.at_level(logging.ERROR):
        for n in range(300):
            user, kind = f"U0FUZZ{n:03d}", n % 3
            if kind == 0:
                answer = served.send(_fuzzed_form(rng, user))
                assert answer.status_code == 400 or all(answer.json()["errors"].values()), answer.text
            elif kind == 1:
                answer = served.send(_fuzzed_click(rng, user, card.ts))
                assert answer.status_code in (200, 400), answer.text
                waiting += [user] if answer.status_code == 200 else []
            else:
                text = (rng.choice(SUB_COMMANDS) + " " + random_text(rng, surrogates=False)).strip()
                answer = served.send(slash_command_body(text, user=user, channel=QUEUE))
                assert answer.status_code == 200 and answer.json()["text"].strip(), text
        wait_until(lambda: all(_told(fake_slack, user) for user in waiting))
    assert len(waiting) > 50, "most random clicks pass the screen and are refused in words"
    assert "Traceback" not in caplog.text and "request failed" not in caplog.text, caplog.text
    assert fake_x.posted == [] and fake_x.dms == []


def test_a_listener_failing_before_its_ack_answers_200_and_says_so(queue, fake_slack, monkeypatch, caplog):  # noqa: F811
    served, _, _ = queue

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("storage.cases.resolve", broken)
    view = bound(served.runtime.store, _forged_view(View.RESOLVE, '{"case_id": 1}'), datetime.now(UTC))
    with caplog.at_level(logging.ERROR):
        answer = served.send(view_submission_body(view, {}, user="U0AGENT"))
    assert answer.status_code == 200 and answer.text == "", "not a 500: the form closes"
    wait_until(lambda: fake_slack.top_level("D0AGENT"))
    assert fake_slack.top_level("D0AGENT")[0].text.startswith("Something went wrong on Perch's side")
    assert "failed before it was acknowledged: RuntimeError" in caplog.text


@pytest.mark.parametrize("picked", ["abc", "9" * 30, "-1"])
def test_a_saved_reply_that_is_no_number_is_said_not_added(queue, fake_slack, picked):  # noqa: F811
    served, card, _ = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    payload = _payload(block_action_body("saved_reply_pick", "", user="U0AGENT", channel=QUEUE, message_ts=card.ts))
    payload["actions"][0]["selected_option"] = {"value": picked}
    payload["view"] = view
    payload.pop("channel"), payload["container"].pop("channel_id")
    assert served.send(_form(payload)).status_code == 200
    wait_until(lambda: fake_slack.top_level("D0AGENT"))
    assert fake_slack.top_level("D0AGENT")[0].text.startswith("The saved reply was not added")
