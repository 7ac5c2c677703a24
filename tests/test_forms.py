"""Text from Slack's forms comes in by one door (`bot/forms.py`): a lone surrogate (`\\ud800` in the
submitted JSON, half of an emoji) is refused on its field before anything is checked, kept or sent,
and a two-step Move to DM checks both steps before the first goes out."""

from __future__ import annotations

import json

import pytest

from bot import forms
from fakes.slack_requests import block_action_body, view_submission_body
from tests.helpers import pushed_view, wait_until
from tests.test_agent_actions import events, open_modal, queue, submit  # noqa: F401  (the fixture)
from tests.test_dms import moved  # noqa: F401  (the fixture)
from tests.test_escalation import JFK_CHANNEL, escalate, escalation_setup  # noqa: F401  (the fixture)
from tests.test_personal_data import PHONE_REPLY
from tests.test_review import held  # noqa: F401  (the fixture)

BROKEN = "Sorry about that \ud83d, we are on it"  # the high half of an emoji, alone
SAID = "Character 18 is a broken piece of an emoji or symbol (U+D83D)"


def test_move_to_dm_with_a_broken_dm_sends_neither_step(queue, fake_x, fake_slack):  # noqa: F811
    served, card, _ = queue
    view = open_modal(served, fake_slack, "move_to_dm", "U0AGENT", card)
    public = next(b for b in view["blocks"] if b["block_id"] == "public")["element"]["initial_value"]
    answer = submit(served, view, {"public": public, "private": BROKEN}, "U0AGENT")
    assert answer.status_code == 200 and list(answer.json()["errors"]) == ["private"]
    assert answer.json()["errors"]["private"].startswith(SAID)
    assert fake_x.posted == [] and fake_x.dms == [], "the handoff waits for a DM that can go out"
    assert served.runtime.store.db["cases"].get(1)["status"] == "new"
    assert fake_slack.top_level("D0AGENT") == [], "no generic error"

    fixed = submit(served, view, {"public": public, "private": "Sorry about that 🙏, we are on it"}, "U0AGENT")
    assert fixed.text == ""
    wait_until(lambda: events(served, "moved_to_dm"))
    assert len(fake_x.posted) == 1 and [d["text"] for d in fake_x.dms] == ["Sorry about that 🙏, we are on it"]


def test_a_broken_reply_is_refused_on_its_field(queue, fake_x, fake_slack):  # noqa: F811
    served, card, _ = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    answer = submit(served, view, {"reply_text_0": "@bag_lady " + BROKEN}, "U0AGENT")
    assert answer.status_code == 200
    assert answer.json()["errors"]["reply_text_0"].startswith("Character 28 is a broken piece")
    assert fake_x.posted == [] and served.runtime.store.db["replies"].count == 0


def test_a_broken_reason_to_publish_personal_data_is_refused_on_its_field(queue, fake_x, fake_slack):  # noqa: F811
    served, card, _ = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    check = pushed_view(submit(served, view, {"reply_text_0": PHONE_REPLY}, "U0AGENT"), view)
    picked = {"personal_data_choice": ("choice", "public")}
    body = view_submission_body(check, {"personal_data_reason": BROKEN}, user="U0AGENT", picked=picked)
    answer = served.send(body)
    assert answer.status_code == 200 and answer.json()["errors"]["personal_data_reason"].startswith(SAID)
    assert fake_x.posted == [] and not events(served, "personal_data_sent")


def test_a_broken_dm_is_refused_on_its_field(moved, fake_x, fake_slack):  # noqa: F811
    served, card = moved.served, moved.card
    view = open_modal(served, fake_slack, "reply_dm", "U0AGENT", card)
    answer = submit(served, view, {"dm_text_0": BROKEN}, "U0AGENT")
    assert answer.status_code == 200 and answer.json()["errors"]["dm_text_0"].startswith(SAID)
    assert len(fake_x.dms) == 1, "only the DM of the move"


def test_a_broken_escalation_note_is_refused_and_nobody_is_pinged(escalation_setup, fake_slack):  # noqa: F811
    served, card, _ = escalation_setup
    answer, _ = escalate(served, fake_slack, card, note=BROKEN)
    assert answer.status_code == 200 and answer.json()["errors"]["note"].startswith(SAID)
    assert fake_slack.top_level(JFK_CHANNEL) == []
    assert served.runtime.store.db["escalations"].count == 0


def test_a_broken_escalation_outcome_is_refused_and_it_stays_open(escalation_setup, fake_slack):  # noqa: F811
    served, card, _ = escalation_setup
    escalate(served, fake_slack, card)
    (message,) = fake_slack.top_level(JFK_CHANNEL)
    views = len(fake_slack.views)
    served.send(
        block_action_body("escalation_resolve", "1", user="U0STAFF2", channel=JFK_CHANNEL, message_ts=message.ts)
    )
    wait_until(lambda: len(fake_slack.views) > views)
    answer = served.send(view_submission_body(fake_slack.views[-1], {"outcome": BROKEN}, user="U0STAFF2"))
    assert answer.status_code == 200 and answer.json()["errors"]["outcome"].startswith(SAID)
    assert served.runtime.store.db["escalations"].get(1)["resolved_at"] is None


def test_a_broken_note_sending_a_draft_back_is_refused(held, fake_slack):  # noqa: F811
    served, _, draft = held
    views = len(fake_slack.views)
    served.click("draft_send_back", "U0LEAD", draft.ts, value="1")
    wait_until(lambda: len(fake_slack.views) > views)
    answer = served.send(view_submission_body(fake_slack.views[-1], {"draft_note": BROKEN}, user="U0LEAD"))
    assert answer.status_code == 200 and answer.json()["errors"]["draft_note"].startswith(SAID)
    assert served.runtime.store.db["drafts"].get(1)["status"] == "pending"


# -- every form's parser: each of its text inputs ---------------------------------------------------


def _view(meta: dict, values: dict) -> dict:
    return {"id": "V1", "private_metadata": json.dumps(meta), "state": {"values": values}}


def _text(value: str) -> dict:
    return {"text": {"type": "plain_text_input", "value": value}}


def _picked(action: str, value: str) -> dict:
    return {action: {"type": "static_select", "selected_option": {"value": value}}}


PARSERS = [
    (forms.reply_form, {"case_id": 1}, {"reply_text_3": _text(BROKEN)}, "reply_text_3"),
    (forms.reply_dm_form, {"case_id": 1}, {"dm_text_0": _text(BROKEN)}, "dm_text_0"),
    (forms.move_to_dm_form, {"case_id": 1}, {"public": _text(BROKEN), "private": _text("ok")}, "public"),
    (forms.move_to_dm_form, {"case_id": 1, "public": False}, {"private": _text(BROKEN)}, "private"),
    (forms.personal_data_form, {"case_id": 1, "text": BROKEN}, {}, "personal_data_choice"),
    (forms.personal_data_form, {"incident_id": 1, "text": "ok"}, {"personal_data_reason": _text(BROKEN)}, None),
    (forms.escalate_form, {"case_id": 1}, {"location": _picked("location", BROKEN)}, "location"),
    (forms.escalate_form, {"case_id": 1}, {"note": _text(BROKEN)}, "note"),
    (forms.outcome_form, {"escalation_id": 1}, {"outcome": _text(BROKEN)}, "outcome"),
    (forms.status_form, {"incident_id": 1}, {"status_text": _text(BROKEN)}, "status_text"),
    (forms.resolve_form, {"case_id": 1}, {"reason": _picked("reason", BROKEN)}, "reason"),
    (forms.draft_edit_form, {"draft_id": 1}, {"draft_text": _text(BROKEN)}, "draft_text"),
    (forms.send_back_form, {"draft_id": 1}, {"draft_note": _text(BROKEN)}, "draft_note"),
]


@pytest.mark.parametrize(("parse", "meta", "values", "field"), PARSERS)
def test_every_form_refuses_broken_text_on_its_field(parse, meta, values, field):
    refused = parse(_view(meta, values))
    assert isinstance(refused, forms.FormErrors)
    assert list(refused.errors) == [field or "personal_data_reason"]
    assert next(iter(refused.errors.values())).startswith("Character")


def test_a_sound_form_is_read_by_its_field_ids():
    form = forms.move_to_dm_form(_view({"case_id": 7}, {"public": _text("@bag_lady DM us"), "private": _text(" Hi ")}))
    assert form == forms.MoveToDmForm(case_id=7, public="@bag_lady DM us", private=" Hi ", key="V1")
    bulk = forms.bulk_reply_form(
        _view(
            {"incident_id": 2, "status_at": "2026-03-20T12:00:00Z"},
            {"confirm": {"confirmed": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}}},
        )
    )
    assert bulk == forms.BulkReplyForm(incident_id=2, confirmed=True, status_at="2026-03-20T12:00:00Z")


def test_metadata_is_read_only_as_long_and_as_deep_as_perch_writes_it():
    """Brackets and quotes inside Perch's own metadata text are text; metadata longer than Slack keeps
    (3,000 characters) or nested deeper than Perch ever writes is refused before it is parsed at all."""
    text = 'Use code [A1] {"x": "y"} \\ and "quotes" [[[[[[[[[['
    read = forms.personal_data_form(_view({"case_id": 1, "text": text}, {}))
    assert not isinstance(read, forms.FormErrors) and read.text == text
    too_long = {"id": "V1", "private_metadata": json.dumps({"case_id": 1, "pad": "x" * 3000}), "state": {}}
    too_deep = {"id": "V1", "private_metadata": '{"case_id": 1, "x": ' + "[" * 9 + "]" * 9 + "}", "state": {}}
    for view in (too_long, too_deep):
        refused = forms.resolve_form(view)
        assert isinstance(refused, forms.FormErrors) and list(refused.errors.values()) == [forms.UNREADABLE]
