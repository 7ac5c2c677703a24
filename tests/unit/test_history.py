"""The customer's history, without a server: the returning-customer count and the History reads on a fresh
database, the modal inside Block Kit's limits with hostile text and a long past, and the note's form."""

from __future__ import annotations

import json

from bot.blocks.cards import case_card
from bot.blocks.history import case_line, first_words, history_modal, note_text, ordinal, returning_line
from bot.forms import UNREADABLE, FormErrors, NoteForm, note_form
from fakes.block_kit import check_message, check_view
from storage.cases import get_card
from storage.customers import (
    NOTE_MAX,
    CustomerHistory,
    CustomerNote,
    PastCase,
    add_note,
    customer_by_handle,
    customer_history,
)
from storage.engine import SQLITE, engine_of
from tests.helpers import add_case, at

HOSTILE = "<!channel> <@U0BOSS> <https://evil.example|bank.com> & *bold*"


def past(case_id: int, **changes) -> PastCase:
    fields = dict(
        case_id=case_id,
        opened_at=at("2026-03-10 10:00"),
        text="@Delta @DeltaAssist my bag did not arrive",
        by_dm=False,
        handle="bag_lady",
        status="resolved",
        reason="Lost luggage",
        handled_by="U0AGENT",
        first_response_at=at("2026-03-10 10:12"),
        csat_score=None,
    )
    return PastCase(**{**fields, **changes})


def note(note_id: int, text: str = "Prefers DMs") -> CustomerNote:
    return CustomerNote(note_id, text, "U0AGENT", at("2026-03-11 09:00"), 3)


def history(cases: list[PastCase], notes: list[CustomerNote], case_count: int = 0, note_count: int = 0):
    return CustomerHistory(
        "1000", "bag_lady", "Bag Lady", cases, case_count or len(cases), notes, note_count or len(notes)
    )


def one_customer(db, *tweeted: str) -> None:
    """Cases 1, 2, … of one customer (X user id 77), opened at `tweeted`."""
    for case_id, when in enumerate(tweeted, start=1):
        add_case(db, case_id, when)
    db.execute("UPDATE cases SET author_id = '77'")
    db.execute("UPDATE tweets SET author_id = '77'")


# -- the card's marker ------------------------------------------------------------------------------


def test_ordinals_and_the_marker_from_the_second_case():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 112)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "112th",
    ]
    assert returning_line(1) == "" and returning_line(3) == "↩ 3rd case in 90 days"


def test_the_count_is_the_customers_cases_in_the_90_days_up_to_each_one(fresh_db):
    one_customer(fresh_db, "2025-11-25 10:00", "2026-02-01 10:00", "2026-03-01 10:00", "2026-03-01 10:00")
    add_case(fresh_db, 5, "2026-03-02 10:00")  # someone else
    counts = [get_card(fresh_db, case_id).customer_cases for case_id in (1, 2, 3, 4, 5)]
    assert counts == [1, 2, 2, 3, 1], "November 25 is over 90 days before March 1; a tie is counted in id order"
    card = case_card(get_card(fresh_db, 4))
    assert check_message(card) is None
    assert "↩ 3rd case in 90 days" in json.dumps(card, ensure_ascii=False)
    assert card["blocks"][0]["accessory"]["action_id"] == "history"


# -- storage ----------------------------------------------------------------------------------------


def test_history_lists_the_other_cases_newest_first_with_totals_and_notes(fresh_db):
    one_customer(fresh_db, "2026-01-01 10:00", "2026-02-01 10:00", "2026-03-01 10:00", "2026-03-05 10:00")
    add_note(fresh_db, "77", "first", "U0A")
    add_note(fresh_db, "77", "second", "U0B", case_id=4)
    add_note(fresh_db, "78", "someone else's", "U0A")
    found = customer_history(fresh_db, "77", except_case=3, cases=2, notes=5)
    assert [c.case_id for c in found.cases] == [4, 2] and found.case_count == 3
    assert [(n.text, n.created_by, n.case_id) for n in found.notes] == [("second", "U0B", 4), ("first", "U0A", None)]
    assert found.note_count == 2 and found.handle == "cust4", "the newest case names the customer"
    assert all(c.csat_score is None for c in found.cases)


def test_a_case_shows_its_customers_survey_score(fresh_db):
    one_customer(fresh_db, "2026-03-01 10:00", "2026-03-05 10:00")
    fresh_db["csat_surveys"].insert(
        {"case_id": 1, "customer_id": "77", "reply_key": "csat:1", "requested_at": at("2026-03-01 12:00"), "score": 4}
    )
    by_case = {case.case_id: case for case in customer_history(fresh_db, "77").cases}
    assert (by_case[1].csat_score, by_case[2].csat_score) == (4, None)
    assert "CSAT 4/5" in case_line(by_case[1], "cust1") and "CSAT —" in case_line(by_case[2], "cust1")


def test_a_handle_names_its_newest_owner_whatever_its_case(fresh_db):
    one_customer(fresh_db, "2026-03-01 10:00")
    add_case(fresh_db, 2, "2026-03-09 10:00")
    fresh_db.execute("UPDATE tweets SET author_handle = 'Reused'")  # 77 left it; 92 took it later
    assert customer_by_handle(fresh_db, "reused") == "92"
    assert customer_by_handle(fresh_db, "nobody") is None
    fresh_db["dm_events"].insert(
        {
            "id": "5",
            "sender_id": "55",
            "customer_id": "55",
            "direction": "in",
            "sender_handle": "Whisper",
            "created_at": at("2026-03-10 10:00"),
        }
    )
    assert customer_by_handle(fresh_db, "WHISPER") == "55", "met by DM only"
    if engine_of(fresh_db) != SQLITE:
        return  # the plan below is SQLite's (EXPLAIN QUERY PLAN); PostgreSQL's planner scans a table this small
    plan = " ".join(
        row[3]
        for row in fresh_db.execute(
            "EXPLAIN QUERY PLAN SELECT author_id FROM cases WHERE author_id = '77' ORDER BY tweet_created_at DESC"
        )
    )
    assert "cases_by_customer" in plan and "SCAN cases" not in plan


# -- the modal --------------------------------------------------------------------------------------


def test_a_long_past_is_cut_and_said_within_block_kits_limits():
    cases = [past(n, text=HOSTILE * 40) for n in range(300, 280, -1)]
    notes = [note(n, "&" * NOTE_MAX) for n in range(20, 0, -1)]
    view = history_modal(history(cases, notes, case_count=250, note_count=45), case_id=301)
    assert check_view(view) is None
    assert len(view["blocks"]) <= 100
    text = json.dumps(view, ensure_ascii=False)
    assert "230 more earlier cases, not shown" in text and "25 more notes, older, not shown" in text
    assert "*Their other cases* (250), newest first" in text
    assert all(len(b["text"]["text"]) <= 3000 for b in view["blocks"] if b["type"] == "section")
    (box,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert box["element"]["max_length"] == NOTE_MAX and "1,000 characters" in box["hint"]["text"]
    assert box["block_id"] == "customer_note_45"


def test_hostile_text_pings_and_links_nobody():
    hostile_case = past(1, text=HOSTILE, handle="bag_lady", reason="<!here>", status="<b>")
    view = history_modal(
        CustomerHistory("1000", "<@U1>", "<!channel> Name", [hostile_case], 1, [note(1, HOSTILE)], 1), case_id=2
    )
    assert check_view(view) is None
    text = json.dumps(view["blocks"], ensure_ascii=False)
    for raw in ("<!channel>", "<@U0BOSS>", "<https://evil", "<!here>", "<@U1>", "<b>"):
        assert raw not in text, raw
    assert "&lt;!channel&gt; &lt;@U0BOSS&gt; &lt;https://evil.example|bank.com&gt; &amp; *bold*" in note_text(
        note(1, HOSTILE)
    )


def test_a_case_line_says_what_each_case_was():
    line = case_line(past(12), "bag_lady")
    assert line.startswith("*Case #12* · <!date^")
    assert "“my bag did not arrive” · 🏷 Lost luggage · ✅ resolved · <@U0AGENT> · first response 12m · CSAT —" in line
    other = case_line(past(13, by_dm=True, first_response_at=None, handled_by=None, handle="old_name"), "bag_lady")
    assert "✉️ by DM: “my bag did not arrive” as @old_name" in other and "nobody had it · no reply" in other
    assert first_words("one two three four five six seven eight nine ten eleven twelve thirteen").endswith("twelve…")
    assert first_words("@Delta &lt;3 you") == "&lt;3 you", "X's encoding undone once, escaped once"


def test_a_first_timer_and_the_command_say_so():
    empty = json.dumps(history_modal(history([], []), case_id=5)["blocks"], ensure_ascii=False)
    assert "none; this is the first time they wrote" in empty and "*Notes about them*: none yet." in empty
    from_command = history_modal(history([past(1)], []))
    assert json.loads(from_command["private_metadata"]) == {"customer": "1000", "case_id": 0}
    assert "*Their cases* (1)" in json.dumps(from_command["blocks"], ensure_ascii=False)


# -- the form ---------------------------------------------------------------------------------------


def submitted(text: str, meta: object = None) -> dict:
    metadata = json.dumps({"customer": "1000", "case_id": 3} if meta is None else meta)
    block = "customer_note_2"
    return {
        "id": "V1",
        "private_metadata": metadata,
        "blocks": [{"type": "input", "block_id": block}],
        "state": {"values": {block: {"text": {"type": "plain_text_input", "value": text}}}},
    }


def test_the_note_form_keeps_sound_notes_and_refuses_the_rest_on_the_box():
    assert note_form(submitted("  VIP flyer  ")) == NoteForm("1000", 3, "VIP flyer", "customer_note_2")
    assert note_form(submitted("")) == FormErrors({"customer_note_2": "Write the note first (the box is empty)."})
    long = note_form(submitted("x" * (NOTE_MAX + 1)))
    assert isinstance(long, FormErrors) and "this one has 1,001" in long.errors["customer_note_2"]
    broken = note_form(submitted("half an emoji \ud83d"))
    assert isinstance(broken, FormErrors) and "broken piece" in broken.errors["customer_note_2"]
    for forged in ({"customer": "../etc"}, {"customer": 1000}, {"case_id": 3}, {"customer": "1" * 40}):
        assert note_form(submitted("ok", forged)) == FormErrors({"customer_note_2": UNREADABLE}), forged
