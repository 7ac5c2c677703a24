"""Business time, hand-computed: across a weekend that is also a daylight-saving change, a public
holiday, a split week, and in a report (durations and SLA breaches)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.business_hours import BusinessHoursError, parse_business_hours
from bot.domain.report_args import parse_report_args
from storage.metrics import build_report
from tests.helpers import NOW

NEW_YORK = ZoneInfo("America/New_York")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-03-10 10:00", "2026-03-10 10:30", 0.5),  # within one open day
        ("2026-03-10 06:00", "2026-03-10 08:30", 0.5),  # before opening counts from 08:00
        ("2026-03-10 19:30", "2026-03-11 08:15", 0.75),  # overnight
        # Friday 19:00 EST to Monday 09:00 EDT: 61 hours by the clock (the clocks went forward on Sunday
        # 8 March), 2 of them open.
        ("2026-03-06 19:00", "2026-03-09 09:00", 2.0),
        # Thanksgiving (Thursday 26 November) is a US public holiday: Wednesday's last hour, Friday's first.
        ("2026-11-25 19:00", "2026-11-27 09:00", 2.0),
        ("2026-03-10 12:00", "2026-03-10 11:00", 0.0),  # backwards: nothing
    ],
)
def test_open_time_between_two_instants(start, end, hours):
    clock = parse_business_hours("Mon-Fri 08:00-20:00", "America/New_York", "US")
    assert clock.seconds_between(local(start), local(end)) == hours * 3600


def test_a_split_week_a_late_close_and_no_holidays_without_a_country():
    clock = parse_business_hours("Mon-Fri 08:00-20:00; Sat 10:00-16:00; Sun 22:00-24:00", "UTC")
    saturday = datetime.fromisoformat("2026-03-07 00:00+00:00")
    monday = datetime.fromisoformat("2026-03-09 09:00+00:00")
    assert clock.seconds_between(saturday, monday) == (6 + 2 + 1) * 3600
    christmas = datetime.fromisoformat("2026-12-25 08:00+00:00"), datetime.fromisoformat("2026-12-25 09:00+00:00")
    assert clock.seconds_between(*christmas) == 3600, "no country set: no holidays"


@pytest.mark.parametrize(
    ("raw", "country", "problem"),
    [
        ("weekdays 9-5", None, "should look like Mon-Fri 08:00-20:00"),
        ("Mon-Fri 20:00-08:00", None, "closing time must come after"),
        ("Mon-Fri 08:00-25:00", None, "not a time of day"),
        ("Mon-Fri 08:00-20:00", "XX", "not a country"),
        ("Mon-Fri 08:00-20:00", "GB-XYZ", "not a subdivision"),
        ("", None, "no opening hours"),
    ],
)
def test_the_setting_is_checked(raw, country, problem):
    with pytest.raises(BusinessHoursError, match=problem):
        parse_business_hours(raw, "UTC", country)


def test_a_report_in_business_time(fixed_log):
    """Open Mon-Fri 10:00-11:00 UTC. Case 1: 10:00 → 10:15 (15 min); case 2: 10:30 → 12:30 (30 open
    minutes); case 4: 23:30 → 23:40 (none); case 3 never answered: 8 open hours by 20 March noon. So
    only case 3 breaches the 60-minute target in business time (case 2 did by the clock)."""
    clock = parse_business_hours("Mon-Fri 10:00-11:00", "UTC")
    day = parse_report_args("2026-03-10", NOW, "UTC")
    report = build_report(fixed_log.db, day.start, day.end, now=NOW, business=clock)
    assert report.business is not None
    first = report.business.time_to_first_response
    assert (first.count, first.p50, first.p90) == (3, 900, 1800)
    assert report.sla_breaches == 1
    assert build_report(fixed_log.db, day.start, day.end, now=NOW).sla_breaches == 2
    # As the period before a report is read (its headline only): the same breaches, in business time.
    headline = build_report(fixed_log.db, day.start, day.end, now=NOW, business=clock, headline=True)
    assert headline.sla_breaches == 1 and headline.business is None


def walk(clock, start: datetime, end: datetime) -> float:
    """Open seconds by walking the calendar day by day (the plain definition, one pair at a time)."""
    from datetime import timedelta

    total, day = 0.0, start.astimezone(clock.zone).date() - timedelta(days=1)
    while day <= end.astimezone(clock.zone).date():
        for opens, closes in clock._spans(day):
            total += max(0.0, (min(end, closes) - max(start, opens)).total_seconds())
        day += timedelta(days=1)
    return total


def test_open_time_of_many_instants_at_once_matches_the_walk_through_the_calendar():
    """A month of random cases across the DST change and Thanksgiving, computed as the reports do (one
    layout of the open hours, then a difference per case), agrees with the day-by-day walk."""
    import random

    import numpy as np

    clock = parse_business_hours("Mon-Fri 08:00-20:00; Sat 10:00-16:00; Sun 23:30-24:00", "America/New_York", "US")
    rng = random.Random(3)
    base = datetime.fromisoformat("2026-10-20 00:00+00:00").timestamp()
    starts = [base + rng.uniform(0, 40 * 86400) for _ in range(400)]
    ends = [start + rng.choice([0, 59, 3600, rng.uniform(0, 5 * 86400)]) for start in starts]
    at = clock.open_seconds(np.array(starts + ends))
    for n, (start, end) in enumerate(zip(starts, ends, strict=True)):
        expected = walk(clock, datetime.fromtimestamp(start, NEW_YORK), datetime.fromtimestamp(end, NEW_YORK))
        assert at[n + len(starts)] - at[n] == pytest.approx(expected, abs=1e-3)


def test_overlapping_opening_hours_count_once_and_missing_instants_stay_missing():
    import numpy as np

    clock = parse_business_hours("Mon 08:00-12:00; Mon 10:00-14:00", "UTC")
    monday = datetime.fromisoformat("2026-03-09 00:00+00:00")
    tuesday = datetime.fromisoformat("2026-03-10 00:00+00:00")
    assert clock.seconds_between(monday, tuesday) == 6 * 3600
    assert np.isnan(clock.open_seconds(np.array([np.nan, monday.timestamp()]))[0])
    assert np.isnan(clock.open_seconds(np.array([np.nan, np.nan]))).all()
