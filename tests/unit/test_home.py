"""The Home tab's SLA breaches are the reports' SLA breaches: in business time when BUSINESS_HOURS is set."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.blocks.home import home_view
from bot.domain.business_hours import parse_business_hours
from storage.home import home_data
from tests.helpers import add_case

SATURDAY_NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def test_a_case_waiting_since_saturday_morning_is_past_the_target_by_the_clock_but_not_in_business_time(fresh_db):
    add_case(fresh_db, 1, "2026-03-14 09:00")  # three hours unanswered, all of them with the desk closed
    weekdays = parse_business_hours("Mon-Fri 08:00-20:00", "UTC")
    by_clock = home_data(fresh_db, "U1", timezone="UTC", sla_minutes=60, now=SATURDAY_NOON)
    in_hours = home_data(fresh_db, "U1", timezone="UTC", sla_minutes=60, now=SATURDAY_NOON, business=weekdays)
    assert (by_clock.today.sla_breaches, in_hours.today.sla_breaches) == (1, 0)
    shown = json.dumps(home_view(in_hours, timezone="UTC", sla_minutes=60, now=SATURDAY_NOON), ensure_ascii=False)
    assert "0 past the 60m target of business time" in shown
    shown = json.dumps(home_view(by_clock, timezone="UTC", sla_minutes=60, now=SATURDAY_NOON), ensure_ascii=False)
    assert '1 past the 60m target"' in shown  # by the clock, and said without "business time"
