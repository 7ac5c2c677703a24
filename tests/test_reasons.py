"""Why customers write: the team sets contact reasons with `/perch reasons`, new cases get a suggestion
from their keywords, Resolve asks for the reason (the suggestion chosen), and reports rank them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.blocks.report_csv import report_csv
from bot.blocks.reports import report_blocks
from bot.domain.reasons import ReasonRule, parse_keywords, suggest
from fakes.slack_requests import slash_command_body, view_submission_body
from storage.case_rows import case_rows
from storage.metrics import Breakdown, build_report
from tests.helpers import QUEUE, cycle, minutes_ago, wait_until
from tests.test_agent_actions import card_text, events, open_modal


def perch(served, text: str, user: str = "U0BOSS") -> str:
    return served.send(slash_command_body(text, user=user, channel=QUEUE)).json()["text"]


def test_suggestions_match_keywords_by_their_stems_and_the_most_matches_win():
    rules = [
        ReasonRule("Late flight", parse_keywords("late, delay, on the tarmac")),
        ReasonRule("Lost luggage", parse_keywords("lost bag, luggage, baggage, bag")),
    ]
    assert suggest("@JetBlue delayed AGAIN, 3 hours on the tarmac", rules) == "Late flight"
    assert suggest("they LOST my bag and the luggage desk is closed", rules) == "Lost luggage"
    assert suggest("my bag is late", rules) == "Late flight", "a tie goes to the first reason in the list"
    assert suggest("thanks for the great flight!", rules) is None
    assert parse_keywords(" Lost  bag, LOST BAG,, delay ") == ("lost bag", "delay")


def test_the_team_sets_reasons_and_resolve_asks_for_one_with_the_suggestion_chosen(serve, fake_x, fake_slack):
    served = serve()
    assert perch(served, "reasons add Late flight | late, delay, delayed").startswith("Added *Late flight*")
    assert "Added *Lost luggage*" in perch(served, "reasons add Lost luggage | lost bag, luggage, baggage")
    assert "Changed *Late flight*" in perch(served, "reasons add Late flight | late, delay, tarmac")
    assert "A reason's name is" in perch(served, "reasons add <!channel> | x")
    listed = perch(served, "reasons list")
    assert "*Late flight*: late, delay, tarmac" in listed and "*Lost luggage*" in listed

    fake_x.add_tweet("@Delta they lost my bag at JFK, no luggage on the belt", "bag_lady", created_at=minutes_ago(5))
    cycle(served.runtime)
    assert "🏷 Lost luggage?" in card_text(fake_slack)
    card = fake_slack.top_level()[0]
    form = open_modal(served, fake_slack, "resolve", "U0AGENT", card)
    menu = next(b for b in form["blocks"] if b.get("block_id") == "reason")["element"]
    assert [o["value"] for o in menu["options"]] == ["Late flight", "Lost luggage"]
    assert menu["initial_option"]["value"] == "Lost luggage"
    assert served.runtime.store.db["cases"].get(1)["status"] != "resolved", "nothing happens before the form"

    body = view_submission_body(form, {}, user="U0AGENT", picked={"reason": ("reason", "Late flight")})
    assert served.send(body).text == ""
    assert "Already resolved by <@U0AGENT>" in served.send(body).json()["errors"]["reason"]
    case = served.runtime.store.db["cases"].get(1)
    assert case["status"] == "resolved" and case["reason"] == "Late flight"
    assert [json.loads(e["detail"]) for e in events(served, "resolved")] == [{"reason": "Late flight"}]
    wait_until(lambda: "🏷 Late flight" in card_text(fake_slack))

    now = datetime.now(UTC)
    report = build_report(served.runtime.store.db, now - timedelta(days=1), now + timedelta(minutes=1), now=now)
    assert [(r["reason"], r["cases"], r["picked"]) for r in report.by_reason] == [("Late flight", 1, 1)]
    assert "• *Late flight* — 1 case (1 picked) · p50 resolve" in json.dumps(
        report_blocks(report, "today", Breakdown.REASON), ensure_ascii=False
    )
    rows = case_rows(served.runtime.store.db, now - timedelta(days=1), now + timedelta(minutes=1))
    assert "Late flight" in report_csv(rows).splitlines()[1]


def test_without_reasons_resolve_is_one_click_and_only_managers_change_the_list(serve, fake_x, fake_slack):
    fake_slack.usergroups.update(S0MANAGERS={"U0BOSS"})
    fake_x.add_tweet("@Delta all good now, thanks", "happy", created_at=minutes_ago(5))
    served = serve(MANAGER_USERGROUP="S0MANAGERS")
    cycle(served.runtime)
    served.click("resolve", "U0AGENT", fake_slack.top_level()[0].ts)
    wait_until(lambda: served.runtime.store.db["cases"].get(1)["status"] == "resolved")
    assert fake_slack.views == []
    assert "manager user group" in perch(served, "reasons add Praise | thanks", user="U0AGENT")
    assert "No contact reasons yet" in perch(served, "reasons", user="U0AGENT")
    assert "Added *Praise*" in perch(served, "reasons add Praise | thanks, great")
    assert "Removed *Praise*" in perch(served, "reasons remove Praise")
