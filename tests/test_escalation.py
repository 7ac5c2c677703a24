"""Escalation to frontline staff: detection, the location's message, On it / Done, reminders, set-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest

from bot.domain.locations import build_location
from bot.jobs.reminders import Reminders
from fakes.slack_requests import block_action_body, slash_command_body, view_submission_body
from storage.db import Store, from_iso
from storage.locations import get_location, save_location
from tests.engines import database_env
from tests.helpers import QUEUE, cycle, minutes_ago, wait_until

ROOT = Path(__file__).resolve().parents[1]
JFK_CHANNEL, STAFF_GROUP = "C0JFKOPS", "S0JFKSTAFF"


# -- detection ------------------------------------------------------------------------------------


# -- the flow -------------------------------------------------------------------------------------


@pytest.fixture
def escalation_setup(serve, fake_x, fake_slack):
    fake_slack.channels.add(JFK_CHANNEL)
    fake_slack.usergroups[STAFF_GROUP] = {"U0STAFF1", "U0STAFF2"}
    served = serve()
    answer = served.send(
        slash_command_body(
            f"locations add JFK <#{JFK_CHANNEL}|jfk-ops> <!subteam^{STAFF_GROUP}|@jfk> "
            'lead=<@U0LEAD|lead> aliases="Kennedy;T4"',
            user="U0BOSS",
            channel=QUEUE,
        )
    )
    assert "Added *JFK* · John F Kennedy International Airport" in answer.json()["text"]
    tweet = fake_x.add_tweet(
        "@Delta nobody at the bag desk at JFK T4 &lt;!here&gt; <!channel>", "stranded", created_at=minutes_ago(8)
    )
    cycle(served.runtime)
    return served, fake_slack.top_level(QUEUE)[0], tweet


def queue_card(fake_slack) -> str:
    return json.dumps(fake_slack.top_level(QUEUE)[0].blocks, ensure_ascii=False)


def escalate(served, fake_slack, card, *, urgency="normal", note="Customer at carousel 5, tag DL123"):
    count = len(fake_slack.views)
    served.click("escalate", "U0AGENT", card.ts)
    wait_until(lambda: len(fake_slack.views) > count)
    view = fake_slack.views[-1]
    select = next(b for b in view["blocks"] if b["block_id"] == "location")["element"]
    chosen = select.get("initial_option")
    payload_values = {
        "location": {"location": {"type": "static_select", "selected_option": chosen}},
        "urgency": {"urgency": {"type": "radio_buttons", "selected_option": {"value": urgency}}},
        "note": {"text": {"type": "plain_text_input", "value": note}},
    }
    body = view_submission_body(view, {}, user="U0AGENT")
    payload = json.loads(parse_qs(body)["payload"][0])
    payload["view"]["state"]["values"] = payload_values
    return served.send(urlencode({"payload": json.dumps(payload)})), view


def test_card_suggests_the_location_and_escalation_pings_the_staff(escalation_setup, fake_slack):
    served, card, tweet = escalation_setup
    assert "📍 JFK?" in json.dumps(card.blocks, ensure_ascii=False)
    answer, view = escalate(served, fake_slack, card, urgency="urgent", note="<!channel> gate B22, see <@U0X>")
    assert answer.text == ""
    select = next(b for b in view["blocks"] if b["block_id"] == "location")["element"]
    assert select["type"] == "static_select" and select["initial_option"]["value"] == "JFK"
    (message,) = fake_slack.top_level(JFK_CHANNEL)
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert f"<!subteam^{STAFF_GROUP}>" in text and "*URGENT*" in text
    assert "&lt;!channel&gt; gate B22, see &lt;@U0X&gt;" in text, "the agent's note is escaped too"
    assert "&lt;!here&gt;" in text and "<!channel>" not in text
    assert [e["action_id"] for e in message.blocks[-1]["elements"]] == ["escalation_ack", "escalation_resolve"]
    assert message.metadata["event_type"] == "perch_escalation"
    assert fake_slack.pings() == [f"!subteam^{STAFF_GROUP}"], "the staff group, and nobody else"
    db = served.runtime.store.db
    assert db["cases"].get(1)["status"] == "escalated" and db["cases"].get(1)["location"] == "JFK"
    wait_until(lambda: "Escalated to JFK · waiting, urgent" in queue_card(fake_slack))
    wait_until(lambda: fake_slack.thread(card.ts))
    assert "escalated to JFK (urgent)" in fake_slack.thread(card.ts)[0].text


def test_staff_acknowledge_and_resolve_update_both_messages(escalation_setup, fake_slack):
    served, card, _ = escalation_setup
    escalate(served, fake_slack, card)
    (message,) = fake_slack.top_level(JFK_CHANNEL)

    def click(action: str, user: str) -> None:
        served.send(block_action_body(action, "1", user=user, channel=JFK_CHANNEL, message_ts=message.ts))

    click("escalation_ack", "U0AGENT")
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    assert fake_slack.ephemerals_to("U0AGENT")[-1] == "Only JFK staff can pick this up."
    click("escalation_ack", "U0STAFF1")
    wait_until(lambda: "is on it" in json.dumps(fake_slack.top_level(JFK_CHANNEL)[0].blocks))
    click("escalation_ack", "U0STAFF2")
    wait_until(lambda: fake_slack.ephemerals_to("U0STAFF2"))
    assert fake_slack.ephemerals_to("U0STAFF2") == ["Already picked up by <@U0STAFF1>."]
    assert [e["action_id"] for e in fake_slack.top_level(JFK_CHANNEL)[0].blocks[-1]["elements"]] == [
        "escalation_resolve"
    ]
    wait_until(lambda: "JFK: <@U0STAFF1> on it" in queue_card(fake_slack))
    wait_until(lambda: any("is on it" in m.text for m in fake_slack.thread(card.ts)))

    views = len(fake_slack.views)
    click("escalation_resolve", "U0STAFF2")
    wait_until(lambda: len(fake_slack.views) > views)
    outcome_view = fake_slack.views[-1]
    assert outcome_view["callback_id"] == "escalation_outcome"
    empty = served.send(view_submission_body(outcome_view, {"outcome": " "}, user="U0STAFF2"))
    assert "few words" in empty.json()["errors"]["outcome"]
    done = served.send(
        view_submission_body(outcome_view, {"outcome": "Found the bag, courier tonight"}, user="U0STAFF2")
    )
    assert done.text == ""
    wait_until(lambda: "Done by <@U0STAFF2>" in json.dumps(fake_slack.top_level(JFK_CHANNEL)[0].blocks))
    assert fake_slack.top_level(JFK_CHANNEL)[0].blocks[-1]["type"] != "actions"
    wait_until(lambda: "JFK: done — Found the bag" in queue_card(fake_slack))
    row = served.runtime.store.db["escalations"].get(1)
    assert row["acknowledged_by"] == "U0STAFF1" and row["resolved_by"] == "U0STAFF2"
    assert from_iso(row["requested_at"]) <= from_iso(row["acknowledged_at"]) <= from_iso(row["resolved_at"])
    kinds = [r["kind"] for r in served.runtime.store.db.query("SELECT kind FROM events ORDER BY id")]
    assert kinds.count("escalated") == 1 and kinds.count("escalation_acknowledged") == 1
    assert kinds.count("escalation_resolved") == 1


def test_reminders_fire_once_at_the_target_and_never_after_ack(escalation_setup, fake_slack):
    served, card, _ = escalation_setup
    escalate(served, fake_slack, card)
    escalate_second(served, fake_slack)
    db = served.runtime.store.db
    requested = from_iso(db["escalations"].get(1)["requested_at"])
    clock = {"now": requested}
    reminders = Reminders(
        served.runtime.store, served.runtime.slack, normal_minutes=10, urgent_minutes=5, now=lambda: clock["now"]
    )
    message = fake_slack.top_level(JFK_CHANNEL)[0]
    clock["now"] = requested + timedelta(minutes=9, seconds=59)
    assert reminders.run() == 0 and fake_slack.thread(message.ts) == []
    clock["now"] = requested + timedelta(minutes=10)
    assert reminders.run() == 1
    (first,) = fake_slack.thread(message.ts)
    assert f"<!subteam^{STAFF_GROUP}>" in first.text and "Still waiting after 10m" in first.text
    assert reminders.run() == 0
    restarted = Reminders(
        served.runtime.store, served.runtime.slack, normal_minutes=10, urgent_minutes=5, now=lambda: clock["now"]
    )
    assert restarted.run() == 0, "a restart does not repeat a reminder"
    clock["now"] = requested + timedelta(minutes=20)
    assert restarted.run() == 1
    assert "<@U0LEAD> nobody at JFK has picked this up after 20m" in fake_slack.thread(message.ts)[-1].text
    clock["now"] = requested + timedelta(hours=3)
    assert restarted.run() == 0
    assert db["escalations"].get(2)["reminders_sent"] == 0, "acknowledged before its target: never reminded"


def escalate_second(served, fake_slack):
    """A second escalation of the same case, acknowledged the moment it was made."""
    served.runtime.store.db.execute(
        "INSERT INTO escalations (case_id, location, urgency, note, requested_by, requested_by_name, requested_at, "
        "slack_channel, slack_ts, acknowledged_by, acknowledged_at, reminders_sent, message_version, message_synced) "
        "SELECT case_id, location, 'urgent', '', 'U0AGENT', 'agent', requested_at, slack_channel, slack_ts, "
        "'U0STAFF1', requested_at, 0, 0, 0 FROM escalations WHERE id = 1"
    )


def test_channel_the_bot_is_not_in_is_reported_on_the_form(serve, fake_x, fake_slack):
    fake_slack.usergroups[STAFF_GROUP] = {"U0STAFF1"}
    served = serve()
    served.send(
        slash_command_body(
            f"locations add LAX <#C0NOTIN|lax-ops> <!subteam^{STAFF_GROUP}|@lax>", user="U0BOSS", channel=QUEUE
        )
    )
    fake_x.add_tweet("@Delta long line at LAX", "in_line", created_at=minutes_ago(3))
    cycle(served.runtime)
    answer, _ = escalate(served, fake_slack, fake_slack.top_level(QUEUE)[0])
    assert "Perch cannot see <#C0NOTIN>" in answer.json()["errors"]["location"]
    db = served.runtime.store.db
    assert db["escalations"].count == 0 and db["cases"].get(1)["status"] == "new"
    served.send(slash_command_body("locations remove LAX", user="U0BOSS", channel=QUEUE))
    served.click("escalate", "U0AGENT", fake_slack.top_level(QUEUE)[0].ts)
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    assert "No locations are set up yet" in fake_slack.ephemerals_to("U0AGENT")[-1]


def test_many_locations_use_a_searchable_menu(serve, fake_x, fake_slack):
    served = serve()
    db = served.runtime.store.db
    for n in range(120):
        save_location(db, build_location(f"STORE-{n:03d}", "C0QUEUE", staff="S0STORES", name=f"Store {n}"))
    fake_x.add_tweet("@Delta store 7 fitting room is broken", "shopper", created_at=minutes_ago(2))
    cycle(served.runtime)
    card = fake_slack.top_level(QUEUE)[0]
    assert "📍 STORE-007?" in json.dumps(card.blocks, ensure_ascii=False)
    served.click("escalate", "U0AGENT", card.ts)
    wait_until(lambda: fake_slack.views)
    select = next(b for b in fake_slack.views[-1]["blocks"] if b["block_id"] == "location")["element"]
    assert select["type"] == "external_select" and select["initial_option"]["value"] == "STORE-007"
    options = served.send(
        urlencode(
            {
                "payload": json.dumps(
                    {
                        "type": "block_suggestion",
                        "action_id": "location",
                        "block_id": "location",
                        "value": "store 11",
                        "user": {"id": "U0AGENT"},
                        "team": {"id": "T0PERCH"},
                        "view": fake_slack.views[-1],
                    }
                )
            }
        )
    ).json()
    assert [o["value"] for o in options["options"]] == [
        "STORE-011",
        "STORE-110",
        "STORE-111",
        "STORE-112",
        "STORE-113",
        "STORE-114",
        "STORE-115",
        "STORE-116",
        "STORE-117",
        "STORE-118",
        "STORE-119",
    ]


# -- set-up ---------------------------------------------------------------------------------------


def test_csv_import_reports_bad_rows_by_line_and_keeps_good_ones(tmp_path, database):
    path = tmp_path / "locations.csv"
    path.write_text(
        "code,name,kind,channel,staff,lead,aliases,timezone\n"
        "JFK,,,C0JFK,S0JFK,U0LEAD,Kennedy;T4,\n"
        "XQZ,,airport,C0XQZ,S0X,,,\n"
        "STORE-042,Main St,store,C0STORE,U0A U0B,,Main St store,America/Chicago\n"
        "LAX,,,not-a-channel,S0LAX,,,\n"
        "ORD,,,C0ORD,,,,\n"
        "SFO,,,C0SFO,S0SFO,,,Mars/Olympus\n"
        "JFK,,,C0JFK2,S0JFK,,,\n"
    )
    result = import_locations(tmp_path, database, path)
    assert result.returncode == 1
    assert result.stdout.strip() == "Imported 2 location(s): JFK, STORE-042"
    problems = result.stderr.strip().splitlines()
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 5", "line 6", "line 7", "line 8"]
    assert "XQZ" in problems[0] and "channel" in problems[1] and "staff" in problems[2]
    assert "time zone" in problems[3] and "twice" in problems[4]
    store = Store(database)
    jfk = get_location(store.db, "JFK")
    assert jfk.name == "John F Kennedy International Airport" and jfk.timezone == "America/New_York"
    assert jfk.aliases == ("Kennedy", "T4") and jfk.lead == "U0LEAD"
    assert get_location(store.db, "STORE-042").staff_users == ("U0A", "U0B")


def test_location_commands_need_a_manager(serve, fake_slack):
    fake_slack.usergroups["S0MANAGERS"] = {"U0BOSS"}
    served = serve(MANAGER_USERGROUP="S0MANAGERS")
    refused = served.send(
        slash_command_body("locations add JFK <#C0JFK|x> <!subteam^S0JFK|@x>", user="U0AGENT", channel=QUEUE)
    ).json()["text"]
    assert "manager user group" in refused
    added = served.send(
        slash_command_body("locations add JFK <#C0JFK|x> <!subteam^S0JFK|@x>", user="U0BOSS", channel=QUEUE)
    ).json()["text"]
    assert added.startswith("Added *JFK*")
    edited = served.send(
        slash_command_body('locations edit JFK aliases="Kennedy;Idlewild"', user="U0BOSS", channel=QUEUE)
    ).json()["text"]
    assert edited == "Updated *JFK*."
    listed = served.send(slash_command_body("locations", user="U0AGENT", channel=QUEUE)).json()["text"]
    assert "*JFK* John F Kennedy International Airport (airport, America/New_York)" in listed and "Idlewild" in listed
    unknown = served.send(
        slash_command_body("locations add XQZ <#C0X|x> <!subteam^S0X|@x>", user="U0BOSS", channel=QUEUE)
    ).json()["text"]
    assert unknown == "`XQZ` is not an IATA airport code Perch knows; give the airport a name."
    store = served.send(
        slash_command_body('locations add STORE-7 <#C0X|x> <@U0A|a> name="Main St"', user="U0BOSS", channel=QUEUE)
    ).json()["text"]
    assert store.startswith("Added *STORE-7* · Main St")


def test_csv_import_reads_a_latin_1_file_and_survives_a_huge_field(tmp_path, database):
    path = tmp_path / "locations.csv"
    path.write_bytes(
        "code,name,kind,channel,staff\n"
        "ZRH,Zürich Flughafen,airport,C0ZRH,S0ZRH\n"
        f"BOS,{'x' * 200_000},airport,C0BOS,S0BOS\n"
        "LGA,,,C0LGA,S0LGA\n".encode("latin-1")
    )
    result = import_locations(tmp_path, database, path)
    assert "Traceback" not in result.stderr and result.returncode == 1
    assert result.stdout.strip() == "Imported 2 location(s): ZRH, LGA"
    assert "read it as Windows-1252" in result.stderr and "line 3: not a readable CSV row" in result.stderr
    store = Store(database)
    assert get_location(store.db, "ZRH").name == "Zürich Flughafen"
    store.close()


def test_a_time_zone_folder_is_refused_in_words(serve, fake_slack):
    served = serve()
    answer = served.send(
        slash_command_body(
            "locations add JFK <#C0JFK|jfk-ops> <!subteam^S0JFK|@jfk> timezone=America", user="U0BOSS", channel=QUEUE
        )
    )
    assert answer.status_code == 200 and "`America` is not a time zone" in answer.json()["text"]


def import_locations(tmp_path: Path, database: str, path: Path) -> subprocess.CompletedProcess:
    """`python -m bot locations import FILE`, as an operator runs it, on the test's database."""
    env = {**os.environ, **database_env(database), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "locations", "import", str(path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
