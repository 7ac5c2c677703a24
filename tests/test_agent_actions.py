"""Agents work the queue from the card, through signed Slack payloads, against the fake X and Slack."""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import urlencode

import pytest

from fakes.slack_requests import slash_command_body, view_submission_body
from fakes.x_api import too_many_requests
from tests.engines import write_lock_held
from tests.helpers import QUEUE, cycle, minutes_ago, wait_until


@pytest.fixture
def queue(serve, fake_x, fake_slack):
    """One customer tweet, carded; returns (served bot, card message, tweet id)."""
    tweet = fake_x.add_tweet(
        "@Delta my bag did not arrive at JFK, file ref JFK12345", "bag_lady", created_at=minutes_ago(10)
    )
    served = serve()
    cycle(served.runtime)
    return served, fake_slack.top_level()[0], tweet


def card_text(fake_slack) -> str:
    return json.dumps(fake_slack.top_level()[0].blocks, ensure_ascii=False)


def events(served, kind: str | None = None) -> list[dict]:
    rows = served.runtime.store.db.query("SELECT kind, actor, detail FROM events ORDER BY id")
    return [r for r in rows if kind is None or r["kind"] == kind]


def open_modal(served, fake_slack, action_id: str, user: str, card) -> dict:
    count = len(fake_slack.views)
    assert served.click(action_id, user, card.ts).status_code == 200
    wait_until(lambda: len(fake_slack.views) > count)
    return fake_slack.views[-1]


def submit(served, view: dict, values: dict[str, str], user: str, **kwargs):
    return served.send(view_submission_body(view, values, user=user), **kwargs)


# -- claim ----------------------------------------------------------------------------------------


def test_five_simultaneous_claims_have_one_winner(queue, fake_slack):
    served, card, _ = queue
    users = [f"U0AGENT{n}" for n in range(5)]
    barrier = threading.Barrier(5)

    def click(user):
        barrier.wait()
        served.click("claim", user, card.ts)

    threads = [threading.Thread(target=click, args=(u,)) for u in users]
    [t.start() for t in threads]
    [t.join() for t in threads]
    wait_until(lambda: len(fake_slack.ephemerals) == 4)
    claimed = events(served, "claimed")
    assert len(claimed) == 1
    winner = claimed[0]["actor"]
    assert {m.ephemeral_to for m in fake_slack.ephemerals} == set(users) - {winner}
    assert all(m.text == f"Already claimed by <@{winner}>." for m in fake_slack.ephemerals)
    wait_until(lambda: f"<@{winner}> has it" in card_text(fake_slack))
    row = served.runtime.store.db["cases"].get(1)
    assert row["assignee"] == winner and row["status"] == "claimed" and row["claimed_at"]
    actions = fake_slack.top_level()[0].blocks[-1]["elements"]
    assert [e["action_id"] for e in actions] == ["reply", "move_to_dm", "escalate", "resolve", "unclaim", "reassign"]


def test_unclaim_only_by_the_assignee_or_a_manager(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta seat broken", "seat_guy", created_at=minutes_ago(5))
    fake_slack.usergroups.update(S0SUPPORT={"U0A", "U0B", "U0BOSS"}, S0MANAGERS={"U0BOSS"})
    served = serve(SUPPORT_USERGROUP="S0SUPPORT", MANAGER_USERGROUP="S0MANAGERS")
    cycle(served.runtime)
    card = fake_slack.top_level()[0]
    served.click("claim", "U0A", card.ts)
    wait_until(lambda: events(served, "claimed"))
    served.click("unclaim", "U0B", card.ts)
    wait_until(lambda: fake_slack.ephemerals_to("U0B"))
    assert fake_slack.ephemerals_to("U0B") == ["Only <@U0A> or a manager can unclaim this case."]
    served.click("reassign", "U0B", card.ts, selected_user="U0B")
    wait_until(lambda: len(fake_slack.ephemerals_to("U0B")) == 2)
    assert "manager user group" in fake_slack.ephemerals_to("U0B")[1]
    served.click("reassign", "U0BOSS", card.ts, selected_user="U0B")
    wait_until(lambda: events(served, "reassigned"))
    assert served.runtime.store.db["cases"].get(1)["assignee"] == "U0B"
    wait_until(lambda: "reassigned to <@U0B> by <@U0BOSS>" in card_text(fake_slack))
    served.click("unclaim", "U0B", card.ts)
    wait_until(lambda: events(served, "unclaimed"))
    case = served.runtime.store.db["cases"].get(1)
    assert case["assignee"] is None and case["status"] == "new"


def test_non_member_is_refused_with_a_reason(serve, fake_x, fake_slack):
    fake_x.add_tweet("@Delta hello", "someone", created_at=minutes_ago(2))
    fake_slack.usergroups["S0SUPPORT"] = {"U0MEMBER"}
    served = serve(SUPPORT_USERGROUP="S0SUPPORT")
    cycle(served.runtime)
    card = fake_slack.top_level()[0]
    for action_id in ("claim", "reply", "move_to_dm", "resolve"):
        served.click(action_id, "U0OUTSIDER", card.ts)
    wait_until(lambda: len(fake_slack.ephemerals_to("U0OUTSIDER")) == 4)
    assert all(
        "Only members of the support user group (S0SUPPORT)" in text for text in fake_slack.ephemerals_to("U0OUTSIDER")
    )
    assert events(served, "claimed") == [] and fake_slack.views == []
    served.click("claim", "U0MEMBER", card.ts)
    wait_until(lambda: events(served, "claimed"))
    assert len(fake_slack.requests_to(r"usergroups\.users\.list$")) == 1, "membership is cached"


# -- reply ----------------------------------------------------------------------------------------


def test_reply_modal_shows_the_thread_and_is_prefilled(queue, fake_x, fake_slack):
    served, card, tweet = queue
    fake_x.add_tweet("@Delta <!channel> still waiting &amp; annoyed", "bag_lady", reply_to=tweet)
    cycle(served.runtime)
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    assert view["callback_id"] == "reply"
    blocks = json.dumps(view["blocks"], ensure_ascii=False)
    assert "Thread so far" in blocks and "still waiting &amp; annoyed" in blocks and "<!channel>" not in blocks
    text_input = next(b for b in view["blocks"] if b["type"] == "input")
    assert text_input["element"]["initial_value"] == "@bag_lady "
    assert fake_slack.block_errors == []


def test_reply_too_long_or_empty_is_refused_inline(queue, fake_x, fake_slack):
    served, card, _ = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    too_long = submit(served, view, {"reply_text_0": "@bag_lady " + "😀" * 140}, "U0AGENT")
    assert too_long.json()["response_action"] == "errors"
    assert "Too long for X: 290/280" in too_long.json()["errors"]["reply_text_0"]
    empty = submit(served, view, {"reply_text_0": "   "}, "U0AGENT")
    assert "empty" in empty.json()["errors"]["reply_text_0"]
    assert fake_x.requests_to(r"^/2/tweets$") == []
    url_heavy = "@bag_lady see https://www.delta.com/" + "x" * 250 + " for the form"
    assert submit(served, view, {"reply_text_0": url_heavy}, "U0AGENT").text == "", "a URL counts 23"


def test_valid_reply_posts_once_even_when_retried(queue, fake_x, fake_slack):
    served, card, tweet = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    values = {"reply_text_0": "@bag_lady So sorry! Our JFK baggage team is on it, DM us the file ref."}
    first = submit(served, view, values, "U0AGENT")
    assert first.status_code == 200 and first.text == ""
    again = submit(served, view, values, "U0AGENT", retry_num=1)
    double = submit(served, view, values, "U0AGENT")
    assert again.text == "" and double.text == ""
    posts = fake_x.requests_to(r"^/2/tweets$")
    assert len(posts) == 1
    assert json.loads(posts[0].body) == {"text": values["reply_text_0"], "reply": {"in_reply_to_tweet_id": tweet}}
    db = served.runtime.store.db
    case = db["cases"].get(1)
    assert case["status"] == "replied" and case["assignee"] == "U0AGENT" and case["first_response_at"]
    assert [e["kind"] for e in events(served) if e["kind"] in ("claimed", "replied")] == ["claimed", "replied"]
    assert json.loads(events(served, "claimed")[0]["detail"]) == {"implicit": True}
    wait_until(lambda: fake_slack.thread(card.ts))
    note = fake_slack.thread(card.ts)[0]
    assert note.text.startswith("↩️ *u0agent* replied: “@bag_lady So sorry!")
    assert note.metadata["event_type"] == "perch_reply"
    wait_until(lambda: "first response" in card_text(fake_slack))


def test_reply_goes_under_the_customers_latest_tweet(queue, fake_x, fake_slack):
    served, card, tweet = queue
    later = fake_x.add_tweet("@Delta hello??", "bag_lady", reply_to=tweet)
    cycle(served.runtime)
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    submit(served, view, {"reply_text_0": "@bag_lady Here now, sorry!"}, "U0AGENT")
    assert json.loads(fake_x.requests_to(r"^/2/tweets$")[0].body)["reply"]["in_reply_to_tweet_id"] == later


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            {
                "status": 403,
                "body": {
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                    "title": "Forbidden",
                    "status": 403,
                    "type": "about:blank",
                },
            },
            "X refused it: You are not allowed to create a Tweet with duplicate content.",
        ),
        (too_many_requests(reset_in=600), "X's rate limit for this is used up until"),
        (
            {
                "status": 402,
                "body": {
                    "title": "Payment Required",
                    "detail": "credits depleted",
                    "type": "https://api.x.com/2/problems/credits-depleted",
                },
            },
            "X's credits are used up (402 credits depleted): top up in the X developer console",
        ),
        ({"status": 413, "body": {"title": "Payload Too Large"}}, "X found the request too large (413)"),
        (
            {"status": 422, "body": {"title": "Unprocessable Entity", "detail": "bad media"}},
            "X could not process it (422): bad media",
        ),
        ({"status": 200, "body": "<html>proxy login</html>"}, "the answer was not from X's API"),
    ],
)
def test_x_refusal_is_shown_and_nothing_is_recorded_as_sent(queue, fake_x, fake_slack, script, message):
    served, card, _ = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    fake_x.script(r"^/2/tweets$", **script)
    answer = submit(served, view, {"reply_text_0": "@bag_lady Sorry about that"}, "U0AGENT")
    assert message in answer.json()["errors"]["reply_text_0"]
    db = served.runtime.store.db
    assert db["cases"].get(1)["first_response_at"] is None
    assert events(served, "replied") == []
    assert db.execute("SELECT status FROM replies").fetchall() == [("failed",)]
    assert fake_x.posted == []


def test_deleted_tweet_refusal_then_a_fixed_resubmission_goes_out(queue, fake_x, fake_slack):
    served, card, tweet = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    fake_x.deleted.add(tweet)
    answer = submit(served, view, {"reply_text_0": "@bag_lady hi"}, "U0AGENT")
    assert "deleted or not visible" in answer.json()["errors"]["reply_text_0"]
    fake_x.deleted.clear()
    assert submit(served, view, {"reply_text_0": "@bag_lady hi again"}, "U0AGENT").text == ""
    assert [p["text"] for p in fake_x.posted] == ["@bag_lady hi again"]


def test_unconfirmed_send_is_checked_on_x_before_sending_again(queue, fake_x, fake_slack):
    served, card, tweet = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    fake_x.script(r"^/2/tweets$", mode="apply_then", status=503, body={"title": "Service Unavailable"})
    answer = submit(served, view, {"reply_text_0": "@bag_lady On it!"}, "U0AGENT")
    assert "Submitting again is safe" in answer.json()["errors"]["reply_text_0"]
    assert len(fake_x.posted) == 1  # X did take it
    assert submit(served, view, {"reply_text_0": "@bag_lady On it!"}, "U0AGENT").text == ""
    assert len(fake_x.posted) == 1, "found on X, not sent twice"
    assert fake_x.requests_to(r"/users/\d+/tweets$")
    db = served.runtime.store.db
    assert db.execute("SELECT status, x_id IS NOT NULL FROM replies").fetchall() == [("sent", 1)]


def test_unconfirmed_send_that_did_not_go_out_is_sent_on_resubmit(queue, fake_x, fake_slack):
    served, card, _ = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    fake_x.script(r"^/2/tweets$", status=500, body={"title": "Internal Error"})
    submit(served, view, {"reply_text_0": "@bag_lady On it!"}, "U0AGENT")
    assert fake_x.posted == []
    assert submit(served, view, {"reply_text_0": "@bag_lady On it!"}, "U0AGENT").text == ""
    assert len(fake_x.posted) == 1


def test_saved_replies_are_managed_and_inserted(queue, fake_x, fake_slack):
    served, card, _ = queue
    add = served.send(
        slash_command_body(
            "replies add Bag delay | Sorry! Our baggage team will DM you within the hour &amp; track it.",
            user="U0AGENT",
            channel=QUEUE,
        )
    )
    assert "Saved *Bag delay*" in add.json()["text"]
    duplicate = served.send(slash_command_body("replies add bag DELAY | again", user="U0AGENT", channel=QUEUE))
    assert "already" in duplicate.json()["text"]
    bad = served.send(slash_command_body("replies add | no name", user="U0AGENT", channel=QUEUE))
    assert bad.json()["text"].startswith("Usage")
    listed = served.send(slash_command_body("replies list", user="U0AGENT", channel=QUEUE)).json()["text"]
    assert "*Bag delay*: Sorry! Our baggage team will DM you within the hour &amp; track it." in listed
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    pick_saved_reply(served, view, typed="@bag_lady ")
    wait_until(lambda: any(b.get("block_id") == "reply_text_1" for b in fake_slack.views[-1]["blocks"]))
    box = next(b for b in fake_slack.views[-1]["blocks"] if b.get("block_id") == "reply_text_1")
    assert box["element"]["initial_value"] == (
        "@bag_lady Sorry! Our baggage team will DM you within the hour & track it."
    )
    removed = served.send(slash_command_body("replies remove bag delay", user="U0AGENT", channel=QUEUE))
    assert "Removed" in removed.json()["text"]


# -- move to DM -----------------------------------------------------------------------------------


def test_move_to_dm_sends_handoff_and_dm(queue, fake_x, fake_slack):
    served, card, tweet = queue
    view = open_modal(served, fake_slack, "move_to_dm", "U0AGENT", card)
    public = next(b for b in view["blocks"] if b["block_id"] == "public")["element"]["initial_value"]
    assert public.startswith("@bag_lady ") and f"recipient_id={fake_x.brand['id']}" in public
    answer = submit(served, view, {"public": public, "private": "Hi! Could you send your bag tag number?"}, "U0AGENT")
    assert answer.text == ""
    assert [p["reply"]["in_reply_to_tweet_id"] for p in fake_x.posted] == [tweet]
    customer = fake_x.tweets[tweet].author_id
    wait_until(lambda: fake_x.dms)
    assert fake_x.dms[0]["participant_id"] == customer and fake_x.dms[0]["text"].startswith("Hi! Could you")
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["status"] == "in_dm")
    wait_until(lambda: len(fake_slack.thread(card.ts)) == 2)
    assert events(served, "moved_to_dm")


def test_dm_refused_still_sends_the_public_handoff_and_tells_the_agent(queue, fake_x, fake_slack):
    served, card, tweet = queue
    fake_x.closed_dms.add(fake_x.tweets[tweet].author_id)
    view = open_modal(served, fake_slack, "move_to_dm", "U0AGENT", card)
    public = next(b for b in view["blocks"] if b["block_id"] == "public")["element"]["initial_value"]
    assert submit(served, view, {"public": public, "private": "Hello there"}, "U0AGENT").text == ""
    assert len(fake_x.posted) == 1 and fake_x.dms == []
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    told = fake_slack.ephemerals_to("U0AGENT")[0]
    assert "public reply to @bag_lady went out, but the DM did not" in told and "not following you" in told
    assert served.runtime.store.db["cases"].get(1)["status"] == "in_dm"


# -- resolve, reopen, replies from x.com ---------------------------------------------------------


def test_resolve_collapses_and_a_new_tweet_reopens_and_pings(queue, fake_x, fake_slack):
    served, card, tweet = queue
    served.click("claim", "U0AGENT", card.ts)
    wait_until(lambda: events(served, "claimed"))
    served.click("resolve", "U0AGENT", card.ts)
    wait_until(lambda: fake_slack.top_level()[0].blocks[-1]["elements"][0]["action_id"] == "reopen")
    blocks = fake_slack.top_level()[0].blocks
    assert len(blocks) == 3 and "✅ *Resolved*" in blocks[0]["text"]["text"]
    assert "resolved by <@U0AGENT>" in blocks[1]["elements"][0]["text"] and "no reply sent" in card_text(fake_slack)
    served.click("resolve", "U0OTHER", card.ts)
    wait_until(lambda: fake_slack.ephemerals_to("U0OTHER"))
    assert fake_slack.ephemerals_to("U0OTHER") == ["Already resolved by <@U0AGENT>."]
    fake_x.add_tweet("@Delta it's still not here!!", "bag_lady", reply_to=tweet)
    cycle(served.runtime)
    case = served.runtime.store.db["cases"].get(1)
    assert case["status"] == "claimed" and case["reopened_count"] == 1
    thread = fake_slack.thread(card.ts)
    assert len(thread) == 1 and "<@U0AGENT> the customer wrote again" in thread[0].blocks[0]["text"]["text"]
    assert fake_slack.pings() == ["@U0AGENT"], "the one deliberate ping: the last assignee"
    assert "reopened 1×" in card_text(fake_slack) and "reopen" not in [
        e["action_id"] for e in fake_slack.top_level()[0].blocks[-1]["elements"]
    ]
    assert len(fake_slack.top_level()) == 1


def test_reopen_button(queue, fake_slack):
    served, card, _ = queue
    served.click("resolve", "U0AGENT", card.ts)
    wait_until(lambda: events(served, "resolved"))
    served.click("reopen", "U0AGENT", card.ts)
    wait_until(lambda: events(served, "reopened"))
    wait_until(lambda: "Reopen" not in card_text(fake_slack))
    assert served.runtime.store.db["cases"].get(1)["status"] == "claimed"


def test_a_reply_sent_on_x_com_counts_as_the_first_response(queue, fake_x, fake_slack):
    served, card, tweet = queue
    brand = fake_x.users[fake_x.brand["id"]]
    answered = minutes_ago(4)
    reply = fake_x.add_tweet("@bag_lady We're on it, check your DMs", brand, reply_to=tweet, created_at=answered)
    cycle(served.runtime)
    db = served.runtime.store.db
    case = db["cases"].get(1)
    assert case["first_response_at"].startswith(answered.strftime("%Y-%m-%dT%H:%M:%S"))
    assert case["status"] == "replied"
    replied = events(served, "replied")
    assert len(replied) == 1 and replied[0]["actor"] == "x.com"
    note = fake_slack.thread(card.ts)[0]
    assert "Replied on x.com as @Delta" in note.blocks[0]["text"]["text"] and reply in note.blocks[0]["text"]["text"]
    cycle(served.runtime, times=2)
    assert len(events(served, "replied")) == 1, "seen again in the overlap window, counted once"


def test_a_reply_sent_through_perch_is_not_counted_again_from_the_timeline(queue, fake_x, fake_slack):
    served, card, _ = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    submit(served, view, {"reply_text_0": "@bag_lady Hello from Perch"}, "U0AGENT")
    wait_until(lambda: fake_slack.thread(card.ts))  # sent, and its reply note is in the thread
    assert [p["text"] for p in fake_x.posted] == ["@bag_lady Hello from Perch"]
    cycle(served.runtime, times=2)  # the brand's timeline shows the reply: a second note would come from here
    assert len(events(served, "replied")) == 1
    assert served.runtime.store.db["replies"].count == 1
    assert len(fake_slack.thread(card.ts)) == 1


def test_what_agents_type_never_pings_either(queue, fake_x, fake_slack):
    served, card, _ = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    assert (
        submit(served, view, {"reply_text_0": "@bag_lady <!channel> <@U0BOSS> &amp; <https://x.io|y>"}, "U0AGENT").text
        == ""
    )
    wait_until(lambda: fake_slack.thread(card.ts))
    assert fake_slack.pings() == []
    assert fake_x.posted[0]["text"] == "@bag_lady <!channel> <@U0BOSS> &amp; <https://x.io|y>", "sent as typed"


def test_a_saved_reply_that_overflows_the_box_is_cut_to_fit_and_the_agent_is_told(queue, fake_x, fake_slack):
    served, card, _ = queue
    served.send(slash_command_body("replies add Long | " + "We are so sorry. " * 15, user="U0AGENT", channel=QUEUE))
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    typed = "@bag_lady " + "x" * 2900  # the agent pasted a draft: the box holds 3,000
    pick_saved_reply(served, view, typed=typed)
    wait_until(lambda: any(b.get("block_id") == "reply_text_1" for b in fake_slack.views[-1]["blocks"]))
    box = next(b for b in fake_slack.views[-1]["blocks"] if b.get("block_id") == "reply_text_1")
    assert len(box["element"]["initial_value"]) == 3000 and box["element"]["initial_value"].startswith(typed)
    assert "did not fit" in json.dumps(fake_slack.views[-1]["blocks"])
    assert fake_slack.block_errors == []


def test_a_saved_reply_slack_refuses_to_show_is_told_not_swallowed(queue, fake_x, fake_slack):
    served, card, _ = queue
    served.send(slash_command_body("replies add Short | Sorry about that.", user="U0AGENT", channel=QUEUE))
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    fake_slack.script(r"views\.update$", status=200, body={"ok": False, "error": "not_found"})
    pick_saved_reply(served, view, typed="@bag_lady ")
    wait_until(lambda: fake_slack.top_level("D0AGENT"))
    (told,) = fake_slack.top_level("D0AGENT")
    assert "could not add the saved reply" in told.text and "not_found" in told.text


def pick_saved_reply(served, view: dict, *, typed: str, option: int = 0):
    """The agent, with `typed` in the Reply box, picks a saved reply from the modal's menu."""
    select = next(b for b in view["blocks"] if b["type"] == "actions")["elements"][0]
    payload = {
        "type": "block_actions",
        "user": {"id": "U0AGENT", "username": "agent"},
        "view": {**view, "state": {"values": {"reply_text_0": {"text": {"value": typed}}}}},
        "actions": [
            {
                "action_id": "saved_reply_pick",
                "block_id": "saved",
                "type": "static_select",
                "selected_option": select["options"][option],
            }
        ],
        "trigger_id": "1.1",
        "team": {"id": "T"},
    }
    return served.send(urlencode({"payload": json.dumps(payload)}))


@pytest.mark.parametrize("value", ["²", "9" * 5000, "-1", "1e3"])
def test_an_odd_case_value_falls_back_to_the_card_clicked(queue, fake_slack, caplog, value):
    """Not a case id Perch wrote: the click is about the card it came from, and nothing crashes."""
    served, card, _ = queue
    with caplog.at_level(logging.ERROR):
        assert served.click("claim", "U0AGENT", card.ts, value=value).status_code == 200
        wait_until(lambda: served.runtime.store.db["cases"].get(1)["assignee"] == "U0AGENT")
    assert "Traceback" not in caplog.text and "failed after it was acknowledged" not in caplog.text


def test_reassign_without_a_person_is_refused(queue, fake_slack):
    served, card, _ = queue
    served.click("claim", "U0AGENT", card.ts)
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["assignee"] == "U0AGENT")
    served.click("reassign", "U0AGENT", card.ts, selected_user="")
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    assert fake_slack.ephemerals_to("U0AGENT")[-1] == "Pick the person to hand this case to."
    assert served.runtime.store.db["cases"].get(1)["assignee"] == "U0AGENT"


def test_a_forged_form_behind_the_saved_reply_menu_is_told_to_the_person(queue, fake_slack):
    """A forged `private_metadata` behind the saved-reply menu: the person is told, not left guessing
    (tests/test_hostile_requests.py covers a listener that fails outright)."""
    served, card, _ = queue
    served.send(slash_command_body("replies add Short | Sorry about that.", user="U0AGENT", channel=QUEUE))
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)
    pick_saved_reply(served, {**view, "private_metadata": "{not json"}, typed="@bag_lady ")
    wait_until(lambda: fake_slack.top_level("D0AGENT"))
    assert "Perch cannot read this form's own data" in fake_slack.top_level("D0AGENT")[0].text


def test_a_locked_database_is_said_at_once_and_nothing_half_done(queue, fake_x, fake_slack):
    served, card, _ = queue
    view = open_modal(served, fake_slack, "reply", "U0AGENT", card)  # opened before the lock
    with write_lock_held(served.runtime.settings.database):  # another process holds the write lock
        answer = served.send(slash_command_body("replies add Late | Sorry.", user="U0AGENT", channel=QUEUE))
        assert answer.status_code == 200 and "database is busy" in answer.json()["text"]
        answer = submit(served, view, {"reply_text_0": "@bag_lady Sorry about that"}, "U0AGENT")
        assert "database is busy" in answer.json()["errors"]["reply_text_0"]
        opened = len(fake_slack.views)
        served.click("reply", "U0AGENT", card.ts)  # a form it could not bind to the case is not opened
        wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
        assert "database is busy" in fake_slack.ephemerals_to("U0AGENT")[-1] and len(fake_slack.views) == opened
    assert fake_x.posted == [], "nothing went to X"


def test_nothing_was_applied_while_the_database_was_locked(queue, fake_x, fake_slack):
    served, card, _ = queue
    db = served.runtime.store.db
    with write_lock_held(served.runtime.settings.database):
        served.send(slash_command_body("replies add Late | Sorry for the wait.", user="U0AGENT", channel=QUEUE))
    assert [r["name"] for r in db["saved_replies"].rows] == ["personal-data"], "only the one Perch starts with"
    assert db["replies"].count == 0
