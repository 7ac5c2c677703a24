"""Queues: `/perch routes` sends new cases to the channel of the first route they meet, with the team
that may work them; bad routes are refused in words and change nothing; a case keeps its queue."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.routing import Condition, Facts, Known, Route, RouteError, first_match, parse_route
from bot.jobs.case_routing import as_route
from fakes.data import airline_tweets, publish, storm_and_calm
from fakes.slack_requests import block_action_body, signed_post, slash_command_body
from storage.db import from_iso
from storage.routes import list_routes
from tests.helpers import QUEUE, SIGNING_SECRET, cycle, minutes_ago, wait_until

SPANISH, REFUNDS, LOUNGE = "C0SPANISH", "C0REFUNDS", "C0LOUNGE"
KNOWN = Known(accounts=("delta",), searches=('"delta lounge"',), locations=("JFK", "ATL"))


def facts(**given) -> Facts:
    base = {"account": "delta", "search": None, "lang": "en", "text": "", "location": None, "priority": "normal"}
    return Facts(**{**base, "by_dm": False, **given})


# -- the rules ----------------------------------------------------------------------------------------


def test_the_first_route_a_case_meets_decides_and_every_condition_must_hold():
    routes = [
        parse_route("<#C0VIP|vip> when priority=high location=JFK", KNOWN),
        parse_route("<#C0SPANISH|care-es> when lang=es,pt", KNOWN),
        parse_route('C0REFUNDS keyword=refund,"money back"', KNOWN),
        parse_route("<#C0DM|dms> when channel=dm", KNOWN),
    ]
    assert first_match(routes, facts(priority="high", location="JFK", lang="es")) == 0
    assert first_match(routes, facts(priority="high", location="ATL", lang="es")) == 1, "both must hold"
    assert first_match(routes, facts(lang="pt", text="I want a refund")) == 1, "the first that matches"
    assert first_match(routes, facts(text="Where are my REFUNDS??")) == 2, "by stem, any case"
    assert first_match(routes, facts(text="I want my money back now")) == 2, "a phrase in a row"
    assert first_match(routes, facts(text="money, back")) == 2
    assert first_match(routes, facts(text="back money")) is None, "the words in that order"
    assert first_match(routes, facts(by_dm=True)) == 3
    assert first_match(routes, facts()) is None, "the default queue"


def test_a_route_keeps_the_values_as_the_team_typed_them():
    route = parse_route('<#C0LOUNGE|lounge> when search="delta lounge" lang=ES team=<!subteam^S0ES|@es>', KNOWN)
    search, lang = (Condition("search", ('"delta lounge"',)), Condition("lang", ("es",)))
    assert route == Route("C0LOUNGE", (search, lang), "S0ES"), "the query as tracked, its quotes back"
    assert route.describe() == "when search='\"delta lounge\"' lang=es"
    assert parse_route("C0LOUNGE " + route.describe(), KNOWN).conditions == route.conditions, "typed again: the same"
    assert first_match([route], facts(search='"delta lounge"', lang="es")) == 0
    assert first_match([route], facts(search="delta lounge", lang="es")) is None, "exactly the tracked query"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "Name the channel first"),
        ("#care-es when lang=es", "Name the channel first, as `#channel`"),
        ("C0ES when colour=red", "Unknown condition `colour`. Use one of: account, search, lang"),
        ("C0ES when account=united", "`account=united` names none of the accounts: `delta`"),
        ("C0ES when location=LHR", "names none of the locations (`/perch locations`): `JFK`, `ATL`"),
        ("C0ES when search=delta", "names none of the tracked searches (X_SEARCH_QUERIES)"),
        ("C0ES when lang=spanish", "`spanish` is no language code"),
        ("C0ES when priority=urgent", "`priority=urgent` names none of the values it takes: `high`, `normal`"),
        ("C0ES when channel=email", "`channel=email` names none"),
        ("C0ES when lang=es lang=pt", "`lang` is given twice"),
        ("C0ES when lang=", "`lang=` needs a value"),
        ("C0ES when keyword=!!!", "has no word in it"),
        ("C0ES lang", "`lang` is not `key=value`"),
        ('C0ES when keyword="refund', "Unbalanced quotes"),
        ("C0ES team=@support", "`team=` takes a user group"),
        ("C0ES when lang=<!channel>", "`&lt;!channel&gt;` is no language code"),
    ],
)
def test_a_route_the_command_cannot_take_says_why(typed, said):
    with pytest.raises(RouteError) as refused:
        parse_route(typed, KNOWN)
    assert said in str(refused.value)
    assert "<!channel>" not in str(refused.value), "what was typed is escaped, never a ping"


def test_routing_fifty_rules_is_quick_enough_to_run_on_every_case():
    routes = [parse_route(f'C0Q{n:03d} when keyword=word{n},"two words{n}" lang=xx', KNOWN) for n in range(50)]
    case = facts(text="Flight DL123 cancelled, I want my money back and a hotel voucher tonight please", lang="en")
    assert first_match(routes, case) is None  # every rule tried: what bench/routing.py times


# -- end to end ---------------------------------------------------------------------------------------


def perch(served, text: str, user: str = "U0BOSS") -> str:
    answer = served.send(slash_command_body(text, user=user, channel=QUEUE))
    assert answer.status_code == 200
    return answer.json()["text"]


@pytest.fixture
def routed(serve, fake_x, fake_slack):
    """A desk with a Spanish queue worked by its own team, and a refunds queue."""
    fake_slack.channels.update({SPANISH, REFUNDS})
    fake_slack.usergroups.update(S0SUPPORT={"U0AGENT", "U0ANA"}, S0ES={"U0ANA"}, S0MANAGERS={"U0BOSS"})
    served = serve(SUPPORT_USERGROUP="S0SUPPORT", MANAGER_USERGROUP="S0MANAGERS")
    cycle(served.runtime)  # the brand account is known (its handle names it in `account=`)
    assert perch(served, "routes add <#C0SPANISH|care-es> when lang=es team=<!subteam^S0ES|@es>").startswith(
        "Added route 1: <#C0SPANISH>"
    )
    assert perch(served, "routes add <#C0REFUNDS|refunds> when keyword=refund").startswith("Added route 2")
    return served


def test_new_cases_go_to_the_first_matching_queue_and_stay_there(routed, fake_x, fake_slack):
    fake_x.add_tweet("@Delta mi maleta no llegó, reembolso?", "ana_es", created_at=minutes_ago(3), lang="es")
    fake_x.add_tweet("@Delta I want a refund for DL12", "ref_guy", created_at=minutes_ago(2))
    fake_x.add_tweet("@Delta seat 12C is broken", "seat_guy", created_at=minutes_ago(1))
    cycle(routed.runtime)
    assert [len(fake_slack.top_level(c)) for c in (SPANISH, REFUNDS, QUEUE)] == [1, 1, 1]
    assert "reembolso" in str(fake_slack.top_level(SPANISH)[0].blocks)
    db = routed.runtime.store.db
    assert [(r["queue_channel"], r["queue_team"]) for r in db.query("SELECT * FROM cases ORDER BY id")] == [
        (SPANISH, "S0ES"),
        (REFUNDS, None),
        (None, None),
    ]
    latest = db.execute("SELECT MAX(routed_at) FROM cases").fetchone()[0]
    routed.runtime.services.now = lambda: from_iso(latest)  # "today" is the day they were routed, at any hour
    listing = perch(routed, "routes list", user="U0AGENT")
    assert "1. <#C0SPANISH> when lang=es · team <!subteam^S0ES> · 1 today" in listing
    assert "2. <#C0REFUNDS> when keyword=refund · 1 today" in listing and "Otherwise: <#C0QUEUE> · 1 today" in listing
    assert "Routes (new cases since 00:00 UTC)" in perch(routed, "status", user="U0AGENT")
    for asked in ("report 1d by queue", "report 1d <#C0SPANISH|care-es> by queue"):
        body = slash_command_body(asked, user="U0BOSS", channel=QUEUE, response_url=f"{fake_slack.url}/response_url/1")
        assert routed.send(body).status_code == 200
    wait_until(lambda: len(fake_slack.responses) == 2)
    answers = sorted(json.dumps(r["blocks"], ensure_ascii=False) for r in fake_slack.responses)
    spanish, every = sorted(answers, key=lambda text: "· #care-es" not in text)
    assert "<#C0SPANISH> — 1 case" in every and "<#C0REFUNDS> — 1 case" in every and "the default queue" in every
    assert "Perch report · the last 1 days · #care-es" in spanish and "<#C0REFUNDS>" not in spanish

    assert perch(routed, "routes remove 1").startswith("Removed route 1")
    spanish = fake_slack.top_level(SPANISH)[0]
    fake_x.add_tweet("@Delta ¿alguna novedad?", "ana_es", created_at=minutes_ago(0), lang="es", reply_to=None)
    cycle(routed.runtime)
    assert len(fake_slack.top_level(SPANISH)) == 1, "a new case after the route went: the default queue"
    assert db["cases"].get(1)["queue_channel"] == SPANISH, "the old case keeps its queue"
    assert spanish.ts == db["cases"].get(1)["slack_ts"]


def test_only_the_queues_team_and_managers_may_work_its_cases(routed, fake_x, fake_slack):
    fake_x.add_tweet("@Delta mi vuelo está retrasado", "ana_es", created_at=minutes_ago(3), lang="es")
    cycle(routed.runtime)
    card = fake_slack.top_level(SPANISH)[0]

    def click(user: str):
        return routed.send(block_action_body("claim", "1", user=user, channel=SPANISH, message_ts=card.ts))

    click("U0AGENT")  # in the support group, not in the Spanish team
    wait_until(lambda: fake_slack.ephemerals_to("U0AGENT"))
    assert "queue's team user group (S0ES)" in fake_slack.ephemerals_to("U0AGENT")[0]
    assert routed.runtime.store.db["cases"].get(1)["assignee"] is None
    click("U0ANA")
    wait_until(lambda: routed.runtime.store.db["cases"].get(1)["assignee"] == "U0ANA")


def test_a_route_perch_cannot_use_is_refused_and_nothing_changes(routed, fake_slack):
    fake_slack.not_member.add(LOUNGE)
    before = list_routes(routed.runtime.store.db)
    said = [
        perch(routed, "routes add <#C0LOUNGE|lounge> when lang=fr"),
        perch(routed, "routes add <#C0SPANISH|care-es> when lang=es team=<!subteam^S0ES|@es>"),
        perch(routed, "routes add <#C0NOWHERE|gone> when lang=fr"),
        perch(routed, "routes add <#C0REFUNDS|refunds> when colour=red"),
        perch(routed, "routes add <#C0REFUNDS|refunds> when lang=fr", user="U0AGENT"),
        perch(routed, "routes remove 9"),
        perch(routed, "routes move 1 to 7"),
    ]
    assert "Perch is not a member of <#C0LOUNGE>" in said[0]
    assert said[1] == "That is route 1 already: nothing added."
    assert "Slack does not show Perch <#C0NOWHERE> (channel_not_found)" in said[2]
    assert "Unknown condition `colour`" in said[3]
    assert "manager user group" in said[4]
    assert said[5].startswith("There is no route 9.") and "Both numbers must be routes" in said[6]
    assert list_routes(routed.runtime.store.db) == before
    fake_slack.scopes.remove("channels:read")  # an app installed before Perch asked for it
    assert "the app lacks `channels:read`" in perch(routed, "routes add <#C0REFUNDS|refunds> when lang=fr")
    assert list_routes(routed.runtime.store.db) == before


def test_routes_move_changes_which_is_tried_first(routed, fake_x, fake_slack):
    assert perch(routed, "routes move 2 to 1").startswith("Moved route 2 to 1.")
    assert [r.channel for r in list_routes(routed.runtime.store.db)] == [REFUNDS, SPANISH]
    fake_x.add_tweet("@Delta quiero un refund", "ana_es", created_at=minutes_ago(1), lang="es")
    cycle(routed.runtime)
    assert len(fake_slack.top_level(REFUNDS)) == 1 and fake_slack.top_level(SPANISH) == []
    assert [as_route(r).describe() for r in list_routes(routed.runtime.store.db)] == [
        "when keyword=refund",
        "when lang=es",
    ]


def test_a_case_its_ingest_never_routed_is_routed_by_the_post_job(routed, fake_x, fake_slack):
    fake_x.add_tweet("@Delta mi maleta", "ana_es", created_at=minutes_ago(3), lang="es")
    routed.runtime.ingestor.triage.router.route = lambda case_ids: None  # the ingest stops before routing
    routed.runtime.ingestor.run()
    routed.runtime.poster.run()
    assert fake_slack.top_level(SPANISH) == [], "no card before its queue is known"
    db = routed.runtime.store.db
    stale = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 60))
    db.execute("UPDATE cases SET opened_at = ? WHERE id = 1", [stale])  # opened a minute ago
    routed.runtime.poster.run()
    assert len(fake_slack.top_level(SPANISH)) == 1


def test_app_home_lists_the_unclaimed_cases_of_the_queues_the_agent_may_work(routed, fake_x, fake_slack):
    fake_x.add_tweet("@Delta mi vuelo está retrasado", "ana_es", created_at=minutes_ago(3), lang="es")
    fake_x.add_tweet("@Delta seat 12C is broken", "seat_guy", created_at=minutes_ago(2))
    cycle(routed.runtime)

    def home(user: str) -> str:
        event = {"type": "app_home_opened", "user": user, "channel": "D0" + user, "tab": "home", "event_ts": "1.1"}
        body = {"type": "event_callback", "team_id": "T0PERCH", "api_app_id": "A0PERCH", "event_id": f"Ev{user}"}
        answer = signed_post(
            routed.url, SIGNING_SECRET, json.dumps({**body, "event": event}), content_type="application/json"
        )
        assert answer.status_code == 200
        wait_until(lambda: user in fake_slack.homes)
        return json.dumps(fake_slack.homes[user]["blocks"], ensure_ascii=False)

    agent, ana, boss = home("U0AGENT"), home("U0ANA"), home("U0BOSS")
    assert "Case #2" in agent and "Case #1" not in agent and "*1* unclaimed" in agent, "not in the Spanish team"
    assert "Case #1" in ana and "Case #2" in ana and "*2* unclaimed" in ana
    assert "Case #1" in boss and "Case #2" in boss, "a manager sees every queue"


def test_a_surge_is_grouped_in_its_own_queue_and_the_others_keep_their_cards(serve, fake_x, fake_slack):
    storm, calm = storm_and_calm(airline_tweets())
    now = datetime.now(UTC)
    spanish = publish(fake_x, storm[:60], "Delta", start=now - timedelta(seconds=60), every_seconds=0.5, lang="es")
    usual = publish(fake_x, calm[:10], "Delta", start=now - timedelta(seconds=50), every_seconds=2)
    fake_slack.channels.add(SPANISH)
    fake_slack.usergroups.update(S0MANAGERS={"U0BOSS"})
    served = serve(MANAGER_USERGROUP="S0MANAGERS", SURGE_THRESHOLD="30")
    assert perch(served, "routes add <#C0SPANISH|care-es> when lang=es").startswith("Added route 1")
    for _ in range(5):
        cycle(served.runtime)

    def of(channel: str, kind: str) -> list:
        return [m for m in fake_slack.top_level(channel) if (m.metadata or {}).get("event_type") == kind]

    assert of(SPANISH, "perch_incident"), "the Spanish queue's storm is grouped in its channel"
    assert of(QUEUE, "perch_incident") == [], "the default queue had no surge: no incident there"
    shown = {m.metadata["event_payload"]["tweet_id"] for m in of(QUEUE, "perch_case")}
    assert shown == set(usual), "every usual mention has its own card in the default queue"
    listed = set()
    for message in fake_slack.messages:
        if (message.metadata or {}).get("event_type") == "perch_incident_chunk":
            assert message.channel == SPANISH
            listed |= set(re.findall(r"status/(\d+)", json.dumps(message.blocks)))
    assert set(spanish) <= listed | {m.metadata["event_payload"]["tweet_id"] for m in of(SPANISH, "perch_case")}
    queues = {row["queue_channel"] for row in served.runtime.store.db["incidents"].rows}
    assert queues == {SPANISH}
