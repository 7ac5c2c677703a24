"""`make demo`: the whole flow on this machine, no accounts needed.

Local stand-ins for the X API and Slack's Web API run on 127.0.0.1; the real bot (its scheduler, jobs,
database and HTTP endpoint) runs between them. Real customer tweets at @JetBlue from
`data/airline_tweets.csv` arrive in two waves; the transcript shows each mention, the card
that reached Slack, a button click signed the way Slack signs it, a customer moved to DM answering there
and the agent answering back from Slack, a customer who writes by DM first, that first customer back
again (their History, and a note about them), an escalation, then a storm: a burst
of alike tweets grouped into one incident card, whose status update goes to every customer once an
agent confirms it; and the database at the end.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from bot.app import build_runtime
from bot.blocks.common import card_as_text
from bot.cli import configure_logging, health
from bot.config import load_settings
from bot.domain.locations import import_csv
from bot.server import http_server, stop_http_server
from fakes.data import airline_tweets, followers_for, publish, storm_and_calm
from fakes.slack_api import FakeSlack
from fakes.slack_requests import block_action_body, signed_post, slash_command_body, view_submission_body
from fakes.x_api import FakeX

BRAND = "JetBlue"
QUEUE = "C0SUPPORT"
STATIONS, STATION_STAFF = "C0STATIONS", "S0STATIONSTAFF"
CARE_ES, SPANISH_DESK = "C0CAREES", "S0SPANISHDESK"  # a Spanish-speaking queue and its team
STATIONS_CSV = "\n".join(
    ["code,channel,staff,aliases"]
    + [
        f"{code},{STATIONS},{STATION_STAFF},{aliases}"
        for code, aliases in (
            ("JFK", "Kennedy;T5"),
            ("BOS", "Logan"),
            ("FLL", ""),
            ("MCO", ""),
            ("LGA", "LaGuardia"),
            ("EWR", "Newark"),
            ("SAV", ""),
            ("TPA", ""),
            ("DCA", ""),
            ("LAX", ""),
            ("SFO", ""),
            ("ORD", "O'Hare"),
        )
    ]
)
SECRET = "demo-signing-secret"
MENTIONS = 36


def main() -> int:
    run()
    return 0


def run() -> tuple[FakeSlack, FakeX, Any]:
    """The whole demo; returns the stand-ins (stopped, their messages kept) and the bot's runtime, so
    `tools/screenshots.py` can draw what Perch posted."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        os.environ.pop(name, None)
    configure_logging("WARNING")
    x, slack = (
        FakeX(brand_username=BRAND, brand_name="JetBlue Airways", brand_id="6449282").start(),
        FakeSlack(channels=(QUEUE, STATIONS, CARE_ES)).start(),
    )
    slack.usergroups[STATION_STAFF] = {"U0STAFF"}
    slack.usergroups.update(S0NEWBIES={"U0NEWBIE"}, S0LEADS={"U0LEAD"})  # a new agent, and the team lead
    slack.usergroups[SPANISH_DESK] = {"U0AGENTES"}
    # X allows 15 DM reads per 15 minutes (Perch paces itself to that: a DM reaches Slack within about a
    # minute). The stand-in allows one a second here, so the demo need not wait a minute per DM.
    x.endpoint_limits["dm_events"] = 900
    workdir = tempfile.mkdtemp(prefix="perch-demo-")
    port = _free_port()
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-demo",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_QUEUE_CHANNEL": QUEUE,
            "SLACK_API_URL": slack.url + "/api/",
            "X_API_URL": x.url,
            "X_API_KEY": "demo",
            "X_API_SECRET": "demo",
            "X_ACCESS_TOKEN": "demo",
            "X_ACCESS_TOKEN_SECRET": "demo",
            "DATABASE_PATH": os.path.join(workdir, "perch.db"),
            "POST_INTERVAL_SECONDS": "0.5",
            "PORT": str(port),
            "BULK_REPLY_INTERVAL_SECONDS": "0.2",
            "REVIEW_USERGROUP": "S0NEWBIES",
            "SUPPORT_LEAD_USERGROUP": "S0LEADS",
            "CSAT_SURVEY": "true",
        },
        http_mode=True,
    )
    runtime = build_runtime(settings)
    imported = import_csv(runtime.store, STATIONS_CSV)
    server = http_server(runtime.app, lambda: health(runtime), host="127.0.0.1", port=port, signing_secret=SECRET)
    server_thread = threading.Thread(target=server.run, daemon=True)
    server_thread.start()

    print(_rule("Perch demo"))
    print(f"X API stand-in   {x.url}   (brand account @{BRAND})")
    print(f"Slack stand-in   {slack.url}/api/   (queue channel {QUEUE})")
    print(f"Perch            http://127.0.0.1:{port}/slack/events   database {settings.database_path}\n")

    print(f"Locations imported from CSV: {', '.join(imported.imported)} → #stations ({STATIONS})\n")
    first, second = _feed(x)
    runtime.scheduler.start()
    try:
        _wait_for(lambda: len(slack.top_level()) >= first, "the first wave of cards")
        print(
            f"Wave 1: {first} mentions polled and carded. Now a second wave arrives, with a follow-up, "
            "a retweet and the brand's own tweet (the last two are skipped).\n"
        )
        _feed_second_wave(x, second)
        _wait_for(
            lambda: len(slack.top_level()) >= first + len(second) and slack.thread(_card_ts(slack, 0)),
            "the second wave",
        )
        _print_cards(x, slack)
        _work_a_case(slack, x, port)
        _move_to_dm(slack, x, port)
        _survey(slack, x, port)
        _history(slack, x, port)
        _spanish_queue(slack, x, port)
        _safe_replies(slack, x, port)
        _escalate_a_case(slack, port)
        _storm(slack, x, port)
    finally:
        runtime.scheduler.shutdown(wait=True)
        stop_http_server(server, server_thread)
        x.stop()
        slack.stop()
    _print_database(runtime)
    return slack, x, runtime


def _feed(x: FakeX) -> tuple[int, list]:
    """Pick real, non-retweet mentions of @JetBlue and publish the first wave over the last hour."""
    rows = [
        t
        for t in airline_tweets()
        if t.airline == "Delta"
        and not t.text.startswith("RT ")
        and t.handle != "JetBlueNews"
        and t.sentiment != "positive"
    ][:MENTIONS]
    rows.reverse()  # the file lists newest first; publish oldest first
    now = datetime.now(UTC)
    half = len(rows) // 2
    for index, row in enumerate(rows[:half]):
        author = x.add_user(row.handle, row.handle, followers_for(row.handle))
        x.add_tweet(row.text, author, created_at=now - timedelta(minutes=60 - index))
    return half, rows[half:]


def _feed_second_wave(x: FakeX, rows: list) -> None:
    now = datetime.now(UTC)
    for index, row in enumerate(rows):
        author = x.add_user(row.handle, row.handle, followers_for(row.handle))
        x.add_tweet(row.text, author, created_at=now - timedelta(minutes=len(rows) - index))
    first_id = sorted(x.tweets, key=int)[0]
    first = x.tweets[first_id]
    customer = x.users[first.author_id]
    x.add_tweet(f"@{BRAND} still waiting on this, any update?", customer, reply_to=first_id)
    x.add_tweet(f"RT @{customer['username']}: {first.text}", x.add_user("retweeter_demo"), retweet_of=first_id)
    x.add_tweet(
        f"@{customer['username']} We're sorry to hear this. Please DM us your confirmation code.",
        x.users[x.brand["id"]],
        reply_to=first_id,
    )


def _print_cards(x: FakeX, slack: FakeSlack) -> None:
    print(_rule("Cards in #support-queue (oldest first)"))
    for message in slack.top_level(QUEUE):
        payload = message.metadata["event_payload"]
        tweet = x.tweets[payload["tweet_id"]]
        print(f"mention {tweet.id} by @{x.users[tweet.author_id]['username']}: {tweet.text!r}")
        print(_indent(card_as_text(message.blocks)))
        for reply in slack.thread(message.ts):
            print(_indent("  ↳ thread: " + card_as_text(reply.blocks).replace("\n", "\n      ")))
        print()


def _work_a_case(slack: FakeSlack, x: FakeX, port: int) -> None:
    """Two agents click at once, one replies through the modal, then resolves; all signed like Slack."""
    url = f"http://127.0.0.1:{port}/slack/events"
    card = slack.top_level(QUEUE)[1]
    case_id = str(card.metadata["event_payload"]["case_id"])

    def click(action_id: str, user: str):
        return signed_post(
            url, SECRET, block_action_body(action_id, case_id, user=user, channel=QUEUE, message_ts=card.ts)
        )

    print(_rule("Two agents click Claim on the second card at the same moment"))
    threads = [threading.Thread(target=click, args=("claim", user)) for user in ("U0AGENT1", "U0AGENT2")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    _wait_for(lambda: slack.ephemerals, "the loser's answer")
    loser = slack.ephemerals[-1]
    print(f"ephemeral to {loser.ephemeral_to}: {loser.text}")
    _wait_for(lambda: "has it" in str(_card(slack, card.ts).blocks), "the card update")
    print(_indent(card_as_text(_card(slack, card.ts).blocks)) + "\n")

    print(_rule("The winner replies from the modal (validated, sent once on X)"))
    winner = "U0AGENT2" if loser.ephemeral_to == "U0AGENT1" else "U0AGENT1"
    click("reply", winner)
    _wait_for(lambda: slack.views, "the Reply modal")
    view = slack.views[-1]
    box = next(b for b in view["blocks"] if b["type"] == "input")
    too_long = signed_post(
        url, SECRET, view_submission_body(view, {box["block_id"]: "@x " + "so sorry " * 40}, user=winner)
    ).json()
    print(f"a 363-character reply → {too_long['errors'][box['block_id']]}")
    text = box["element"]["initial_value"] + "We're sorry! Please DM us your confirmation code and we'll sort it out."
    for attempt in (0, 1):  # the second is Slack retrying the same submission
        signed_post(
            url, SECRET, view_submission_body(view, {box["block_id"]: text}, user=winner), retry_num=attempt or None
        )
    print(f"X received {len(x.posted)} reply for 2 submissions: {x.posted[0]}")
    _wait_for(lambda: slack.thread(card.ts), "the thread note")
    print("thread: " + card_as_text(slack.thread(card.ts)[-1].blocks))

    print(_rule("Resolve"))
    click("resolve", winner)
    _wait_for(lambda: "Resolved" in str(_card(slack, card.ts).blocks), "the collapsed card")
    print(_indent(card_as_text(_card(slack, card.ts).blocks)))
    forged = signed_post(
        url, "wrong-secret", block_action_body("claim", case_id, user="U0EVIL", channel=QUEUE, message_ts=card.ts)
    )
    print(f"\na click with a bad signature → HTTP {forged.status_code}")
    saved = signed_post(
        url,
        SECRET,
        slash_command_body(
            "replies add Delay | Sorry for the delay! We're checking with the gate now.", user=winner, channel=QUEUE
        ),
    )
    print(f"/perch replies add … → {saved.json()['text']}\n")


def _move_to_dm(slack: FakeSlack, x: FakeX, port: int) -> None:
    """Handoff to DM; the customer's DM lands in the card's thread; the agent answers in DM from Slack."""
    url = f"http://127.0.0.1:{port}/slack/events"
    card = slack.top_level(QUEUE)[2]
    case_id = str(card.metadata["event_payload"]["case_id"])
    customer = x.tweets[card.metadata["event_payload"]["tweet_id"]].author_id

    def open_form(action_id: str) -> dict:
        count = len(slack.views)
        body = block_action_body(action_id, case_id, user="U0AGENT1", channel=QUEUE, message_ts=card.ts)
        signed_post(url, SECRET, body)
        _wait_for(lambda: len(slack.views) > count, f"the {action_id} modal")
        return slack.views[-1]

    print(_rule("Move to DM: the conversation stays in Slack"))
    view = open_form("move_to_dm")
    public = next(b for b in view["blocks"] if b["block_id"] == "public")["element"]["initial_value"]
    values = {"public": public, "private": "Hi, this is Sam from JetBlue. What is your confirmation code?"}
    signed_post(url, SECRET, view_submission_body(view, values, user="U0AGENT1"))
    _wait_for(lambda: len(x.dms) == 1, "the first DM")
    print(f"public handoff on X: {x.posted[-1]['text']!r}")
    print(f"first DM on X:       {x.dms[-1]['text']!r}")
    x.add_dm("It's KZQ7RT. I'm at the gate now, flight 1170 <!channel>", x.users[customer])
    _wait_for(lambda: any("KZQ7RT" in str(m.blocks) for m in slack.thread(card.ts)), "the customer's DM")
    print("the customer answers by DM; Perch reads it and posts it in the card's thread (never the channel):")
    for message in slack.thread(card.ts):
        print(_indent("↳ " + card_as_text(message.blocks).replace("\n", "\n    ")))
    view = open_form("reply_dm")
    box = next(b for b in view["blocks"] if b["type"] == "input")
    answer = "Thanks! You're rebooked on flight 1170, seat 14C. Boarding pass sent by e-mail."
    signed_post(url, SECRET, view_submission_body(view, {box["block_id"]: answer}, user="U0AGENT1"))
    _wait_for(lambda: len(x.dms) == 2, "the DM answer")
    print(f"the agent clicks Reply in DM → X received: {x.dms[-1]['text']!r}")
    _wait_for(lambda: "Waiting on the customer" in str(_card(slack, card.ts).blocks), "the card update")
    print(_indent(card_as_text(_card(slack, card.ts).blocks)))

    print("\nA customer who writes by DM first gets a card of their own (the DM itself stays in its thread):")
    x.add_dm("Hello, my wheelchair assistance at BOS was not booked. Can you help?", "quiet_traveller")
    _wait_for(lambda: any("dm_event_id" in m.metadata["event_payload"] for m in slack.top_level(QUEUE)), "a DM card")
    dm_card = next(m for m in slack.top_level(QUEUE) if "dm_event_id" in m.metadata["event_payload"])
    print(_indent(card_as_text(dm_card.blocks)))
    _wait_for(lambda: slack.thread(dm_card.ts), "its thread")
    print(_indent("↳ " + card_as_text(slack.thread(dm_card.ts)[0].blocks).replace("\n", "\n    ")) + "\n")


def _survey(slack: FakeSlack, x: FakeX, port: int) -> None:
    """Resolving the case in DM asks the customer for a score, once; their answer lands in the thread."""
    card = slack.top_level(QUEUE)[2]
    customer = x.tweets[card.metadata["event_payload"]["tweet_id"]].author_id
    print(_rule("Satisfaction: one question by DM on resolve"))
    sent = len(x.dms)
    body = block_action_body(
        "resolve", str(card.metadata["event_payload"]["case_id"]), user="U0AGENT1", channel=QUEUE, message_ts=card.ts
    )
    signed_post(f"http://127.0.0.1:{port}/slack/events", SECRET, body)
    _wait_for(lambda: len(x.dms) > sent, "the survey")
    print(f"the agent resolves the case → X received the DM: {x.dms[-1]['text']!r}")
    x.add_dm("5 - thanks, Sam sorted it in minutes!", x.users[customer])
    _wait_for(lambda: any("⭐" in str(m.blocks) for m in slack.thread(card.ts)), "the customer's score")
    answer = next(m for m in slack.thread(card.ts) if "⭐" in str(m.blocks))
    print("the customer answers; Perch posts the score in the card's thread (the case stays resolved):")
    print(_indent("↳ " + card_as_text(answer.blocks).replace("\n", "\n    ")) + "\n")


def _history(slack: FakeSlack, x: FakeX, port: int) -> None:
    """The customer moved to DM writes again, in a new conversation: their new card says they are back,
    and History shows their earlier case and takes a note about them (kept in Slack, never sent to X)."""
    url = f"http://127.0.0.1:{port}/slack/events"
    earlier = slack.top_level(QUEUE)[2]
    customer = x.users[x.tweets[earlier.metadata["event_payload"]["tweet_id"]].author_id]
    tweet = x.add_tweet(
        f"@{BRAND} me again: the rebooked flight 1170 is delayed now. Will I make my connection?", customer
    )

    def new_card() -> Any:
        return next((m for m in slack.top_level(QUEUE) if m.metadata["event_payload"].get("tweet_id") == tweet), None)

    _wait_for(lambda: new_card() is not None, "the returning customer's card")
    card = new_card()
    print(_rule(f"@{customer['username']} writes again: the card says so, and History shows their past"))
    print(_indent(card_as_text(card.blocks)))
    views, case_id = len(slack.views), str(card.metadata["event_payload"]["case_id"])
    signed_post(url, SECRET, block_action_body("history", case_id, user="U0AGENT2", channel=QUEUE, message_ts=card.ts))
    _wait_for(lambda: len(slack.views) > views, "the History modal")
    view = slack.views[-1]
    box = next(b for b in view["blocks"] if b["type"] == "input")["block_id"]
    note = "Had TrueBlue sign-in trouble; rebooked on 1170, tight connection. Prefers DMs."
    answer = signed_post(url, SECRET, view_submission_body(view, {box: note}, user="U0AGENT2")).json()
    print("U0AGENT2 clicks History and adds a note; the modal shows again with it:")
    print(_indent(card_as_text(answer["view"]["blocks"])) + "\n")


def _spanish_queue(slack: FakeSlack, x: FakeX, port: int) -> None:
    """A manager routes Spanish posts to the Spanish desk's channel: the next one lands there, and only
    that desk's team (and managers) may work it."""
    url = f"http://127.0.0.1:{port}/slack/events"
    print(_rule("Queues: Spanish posts go to #care-es, worked by the Spanish desk"))
    command = f"routes add <#{CARE_ES}|care-es> when lang=es,pt team=<!subteam^{SPANISH_DESK}|@spanish-desk>"
    added = signed_post(url, SECRET, slash_command_body(command, user="U0MANAGER", channel=QUEUE)).json()
    print(f"/perch {command}\n→ {added['text']}")
    x.add_tweet(f"@{BRAND} mi vuelo 1170 está retrasado y voy a perder la conexión", "viajera_ana", lang="es")
    _wait_for(lambda: slack.top_level(CARE_ES), "the Spanish card")
    card = slack.top_level(CARE_ES)[0]
    print(f"The new Spanish post's card is in #care-es ({CARE_ES}), not in the main queue:")
    print(_indent(card_as_text(card.blocks)))
    listing = signed_post(url, SECRET, slash_command_body("routes list", user="U0AGENT", channel=QUEUE)).json()
    print("/perch routes list →\n" + _indent(listing["text"]) + "\n")


def _safe_replies(slack: FakeSlack, x: FakeX, port: int) -> None:
    """A reply holding a phone number stops on its form and goes as a DM; a new agent's reply waits for
    the lead's Approve."""
    url = f"http://127.0.0.1:{port}/slack/events"
    open_cards = [
        m for m in slack.top_level(QUEUE)[3:] if "📍" not in str(m.blocks) and '"reply"' in json.dumps(m.blocks)
    ]

    def open_reply(card: Any, user: str) -> dict:
        count = len(slack.views)
        case_id = str(card.metadata["event_payload"]["case_id"])
        signed_post(url, SECRET, block_action_body("reply", case_id, user=user, channel=QUEUE, message_ts=card.ts))
        _wait_for(lambda: len(slack.views) > count, "the Reply modal")
        return slack.views[-1]

    def handle_of(card: Any) -> str:
        return x.users[x.tweets[card.metadata["event_payload"]["tweet_id"]].author_id]["username"]

    print(_rule("Personal data stays out of public"))
    card = open_cards[0]
    view = open_reply(card, "U0AGENT1")
    box = next(b for b in view["blocks"] if b["type"] == "input")["block_id"]
    text = f"@{handle_of(card)} So sorry! Call our desk manager Dana on 212-555-0134, she will sort it out."
    answer = signed_post(url, SECRET, view_submission_body(view, {box: text}, user="U0AGENT1")).json()
    check = {**answer["view"], "id": "V0PUSHED"}  # pushed over the Reply form; Slack gives it an id
    print(f"the agent writes: {text!r}\nnothing goes to X; a form over the reply says:")
    print(_indent(card_as_text(check["blocks"][:1])))
    picked = {"personal_data_choice": ("choice", "dm")}
    signed_post(url, SECRET, view_submission_body(check, {}, user="U0AGENT1", picked=picked))
    print(f"one click on Send (as a DM, the default) → X received the DM: {x.dms[-1]['text']!r}\n")

    print(_rule("A new agent's reply waits for a lead"))
    card = open_cards[1]
    view = open_reply(card, "U0NEWBIE")
    box = next(b for b in view["blocks"] if b["type"] == "input")["block_id"]
    text = f"@{handle_of(card)} Sorry about that! Our team is looking into it now."
    posted = len(x.posted)
    signed_post(url, SECRET, view_submission_body(view, {box: text}, user="U0NEWBIE"))
    _wait_for(lambda: any(m.metadata.get("event_type") == "perch_draft" for m in slack.thread(card.ts)), "the draft")
    draft = next(m for m in slack.thread(card.ts) if m.metadata.get("event_type") == "perch_draft")
    print(f"U0NEWBIE (in REVIEW_USERGROUP) sends a reply: X received {len(x.posted) - posted} posts; in the thread:")
    print(_indent(card_as_text(draft.blocks)))
    value = str(draft.metadata["event_payload"]["draft_id"])
    signed_post(
        url, SECRET, block_action_body("draft_approve", value, user="U0LEAD", channel=QUEUE, message_ts=draft.ts)
    )
    _wait_for(lambda: len(x.posted) > posted, "the approved reply")
    print(f"the lead clicks Approve → X received: {x.posted[-1]['text']!r}")
    _wait_for(lambda: "Approved by" in str(_message(slack, draft.ts).blocks), "the draft's update")
    print(_indent(card_as_text(_message(slack, draft.ts).blocks)) + "\n")


def _message(slack: FakeSlack, ts: str) -> Any:
    return next(m for m in slack.messages if m.ts == ts)


def _escalate_a_case(slack: FakeSlack, port: int) -> None:
    """The agent escalates a card with a suggested location; station staff take it and close it."""
    url = f"http://127.0.0.1:{port}/slack/events"
    card = next(m for m in slack.top_level(QUEUE) if "📍" in str(m.blocks))
    case_id = str(card.metadata["event_payload"]["case_id"])
    print(_rule("Escalate a card whose tweet names an airport"))
    print(_indent(card_as_text(card.blocks)))
    views = len(slack.views)
    signed_post(url, SECRET, block_action_body("escalate", case_id, user="U0AGENT1", channel=QUEUE, message_ts=card.ts))
    _wait_for(lambda: len(slack.views) > views, "the Escalate modal")
    view = slack.views[-1]
    chosen = next(b for b in view["blocks"] if b["block_id"] == "location")["element"]["initial_option"]
    payload = json.loads(parse_qs(view_submission_body(view, {}, user="U0AGENT1"))["payload"][0])
    payload["view"]["state"]["values"] = {
        "location": {"location": {"type": "static_select", "selected_option": chosen}},
        "urgency": {"urgency": {"type": "radio_buttons", "selected_option": {"value": "urgent"}}},
        "note": {"text": {"type": "plain_text_input", "value": "Customer is at the check-in desk now."}},
    }
    signed_post(url, SECRET, urlencode({"payload": json.dumps(payload)}))
    message = slack.top_level(STATIONS)[-1]
    print(f"\nin #stations (staff group pinged: {slack.pings()[-1]}):")
    print(_indent(card_as_text(message.blocks)))

    def staff(action_id: str) -> None:
        signed_post(
            url, SECRET, block_action_body(action_id, "1", user="U0STAFF", channel=STATIONS, message_ts=message.ts)
        )

    staff("escalation_ack")
    _wait_for(lambda: "on it" in str(_card(slack, card.ts).blocks), "the card to show who is on it")
    views = len(slack.views)
    staff("escalation_resolve")
    _wait_for(lambda: len(slack.views) > views, "the Done modal")
    signed_post(
        url,
        SECRET,
        view_submission_body(
            slack.views[-1], {"outcome": "Met the customer, rebooked on the next flight."}, user="U0STAFF"
        ),
    )
    _wait_for(lambda: "done" in str(_card(slack, card.ts).blocks), "the card to show the outcome")
    print("\nafter the staff pressed On it, then Done:")
    print(_indent(card_as_text(slack.top_level(STATIONS)[-1].blocks)))
    print(_indent(card_as_text(_card(slack, card.ts).blocks)))
    for note in slack.thread(card.ts):
        print("    ↳ thread: " + card_as_text(note.blocks))
    print()


def _storm(slack: FakeSlack, x: FakeX, port: int) -> None:
    """A burst of real cancellation tweets within a second: one incident card, a status update, one reply each."""
    url = f"http://127.0.0.1:{port}/slack/events"
    storm = [row for row in storm_and_calm(airline_tweets())[0] if "cancel" in row.text.lower()][:45]
    print(_rule("A storm: 45 tweets about cancelled flights within a second"))
    publish(x, storm, BRAND, start=datetime.now(UTC) - timedelta(seconds=1), every_seconds=1 / len(storm))

    def incident():
        return next(
            (m for m in slack.top_level(QUEUE) if (m.metadata or {}).get("event_type") == "perch_incident"), None
        )

    _wait_for(lambda: incident() is not None and len(slack.thread(incident().ts)) >= 2, "the incident card")
    card = incident()
    print("in #support-queue, one card instead of 45:")
    print(_indent(card_as_text(card.blocks)))
    chunk = slack.thread(card.ts)[0]
    print(
        "  ↳ its thread lists every tweet with a Claim button (the first three of "
        f"{len(chunk.blocks) - 1} in this message):"
    )
    print(_indent("\n".join(card_as_text(chunk.blocks).splitlines()[:4])))

    views = len(slack.views)
    signed_post(
        url, SECRET, block_action_body("incident_status", "1", user="U0AGENT1", channel=QUEUE, message_ts=card.ts)
    )
    _wait_for(lambda: len(slack.views) > views, "the status update modal")
    status = (
        "Winter storm: we're rebooking everyone on cancelled flights for free. Rebook online or reply "
        "here; updates at jetblue.com/travelalerts"
    )
    signed_post(url, SECRET, view_submission_body(slack.views[-1], {"status_text": status}, user="U0AGENT1"))
    signed_post(
        url, SECRET, block_action_body("incident_bulk_reply", "1", user="U0AGENT1", channel=QUEUE, message_ts=card.ts)
    )
    _wait_for(lambda: slack.views[-1]["callback_id"] == "incident_bulk_reply", "the confirmation")
    confirm = slack.views[-1]
    print("\nU0AGENT1 writes the status update, then Reply to everyone asks first:")
    print(_indent(card_as_text(confirm["blocks"])))
    payload = json.loads(parse_qs(view_submission_body(confirm, {}, user="U0AGENT1"))["payload"][0])
    payload["view"]["state"]["values"] = {
        "confirm": {
            "confirmed": {
                "type": "checkboxes",
                "selected_options": [{"value": "yes", "text": {"type": "plain_text", "text": "yes"}}],
            }
        }
    }
    signed_post(url, SECRET, urlencode({"payload": json.dumps(payload)}))
    _wait_for(lambda: "· done" in str(incident().blocks), "every status reply to go out", timeout=60)
    print("\nticked and sent, paced (one reply per customer):")
    for post in x.posted[-3:]:
        print(_indent(f"POST /2/tweets in reply to {post['reply']['in_reply_to_tweet_id']}: {post['text'][:80]}…"))
    print(_indent(card_as_text(incident().blocks)))
    print()


def _card(slack: FakeSlack, ts: str):
    return next(m for m in slack.top_level(QUEUE) if m.ts == ts)


def _print_database(runtime) -> None:
    db = runtime.store.db
    print(_rule("Database at the end"))
    for table in ("tweets", "dm_events", "cases", "events", "cursors"):
        print(f"{table:9} {db[table].count:4} rows")
    kinds = db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind ORDER BY kind").fetchall()
    print("events by kind: " + ", ".join(f"{kind} {count}" for kind, count in kinds))
    statuses = db.execute("SELECT status, COUNT(*) FROM cases GROUP BY status").fetchall()
    print("cases by status: " + ", ".join(f"{status} {count}" for status, count in statuses))
    lag = db.execute("SELECT AVG((julianday(posted_at) - julianday(opened_at)) * 86400) FROM cases").fetchone()[0]
    print(f"average time from storing a mention to its card: {lag:.2f}s")
    print("\nDone. The bot, both stand-ins and the scheduler have stopped.")


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: timed out waiting for {what}")
        time.sleep(0.05)


def _card_ts(slack: FakeSlack, index: int) -> str:
    cards = slack.top_level(QUEUE)
    return cards[index].ts if len(cards) > index else ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rule(title: str) -> str:
    return f"── {title} " + "─" * max(4, 96 - len(title))


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


if __name__ == "__main__":
    logging.captureWarnings(True)
    sys.exit(main())
