"""Business hours: the time the team is open (`BUSINESS_HOURS`, e.g. `Mon-Fri 08:00-20:00; Sat
10:00-16:00`, in `REPORT_TIMEZONE`), less the public holidays of a country (`BUSINESS_HOLIDAYS`, from
the `holidays` package, e.g. `US`, `GB-ENG`). A duration in business time counts only the open seconds
between its two instants; each local day is laid out in its own UTC offset, so a daylight-saving change
moves the opening hour in UTC, not in local time. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import numpy.typing as npt

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SEGMENT = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<open>\d{1,2}:\d{2})-(?P<close>\d{1,2}:\d{2})$", re.I
)


class BusinessHoursError(ValueError):
    """The setting cannot be read; the message says which part and how it should look."""


@dataclass(frozen=True)
class BusinessHours:
    zone: ZoneInfo
    week: tuple[tuple[tuple[time, time], ...], ...]  # Monday first: the open spans of each weekday
    country: str | None = None
    subdivision: str | None = None
    _holidays: dict[int, holidays.HolidayBase] = field(default_factory=dict, compare=False, repr=False)

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Open seconds in [start, end) (0 when end is not after start)."""
        both = self.open_seconds(np.array([start.timestamp(), end.timestamp()]))
        return max(0.0, float(both[1] - both[0]))

    def open_seconds(self, instants: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """For each instant (Unix seconds; NaN: none), the open seconds since a fixed origin before the
        earliest: a duration in business time is the difference of its two ends' values. The open spans
        of the days the instants cover are laid out once (overlapping ones merged), so a month of cases
        costs a few sorted look-ups rather than a walk through the calendar for each case."""
        known = instants[~np.isnan(instants)]
        if not known.size:
            return np.full(instants.shape, np.nan)
        opens, closes = self._open_spans(float(known.min()), float(known.max()))
        lengths = closes - opens
        before = np.concatenate([[0.0], np.cumsum(lengths)])  # open seconds before each span
        span = np.searchsorted(opens, np.nan_to_num(instants), side="right") - 1  # the last span opened
        inside = np.clip(np.nan_to_num(instants) - opens[span], 0.0, lengths[span])
        return np.where(np.isnan(instants), np.nan, np.where(span >= 0, before[np.maximum(span, 0)] + inside, 0.0))

    def _open_spans(self, first: float, last: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The open spans, as sorted Unix seconds, of every local day from the one before `first` to the
        one of `last` (a span may start the evening before), overlapping ones merged."""
        day = datetime.fromtimestamp(first, self.zone).date() - timedelta(days=1)
        end = datetime.fromtimestamp(last, self.zone).date()
        spans: list[tuple[float, float]] = []
        while day <= end:
            spans += [(opens.timestamp(), closes.timestamp()) for opens, closes in self._spans(day)]
            day += timedelta(days=1)
        merged: list[list[float]] = []
        for opens, closes in sorted(spans):
            if merged and opens <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], closes)
            else:
                merged.append([opens, closes])
        if not merged:  # closed all along (a holiday, a weekend)
            return np.array([first]), np.array([first])
        return np.array([a for a, _ in merged]), np.array([b for _, b in merged])

    def is_holiday(self, day: date) -> bool:
        if self.country is None:
            return False
        if day.year not in self._holidays:
            self._holidays[day.year] = holidays.country_holidays(self.country, subdiv=self.subdivision, years=day.year)
        return day in self._holidays[day.year]

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        if self.is_holiday(day):
            return []
        return [
            (_instant(day, opens, self.zone), _instant(day, closes, self.zone))
            for opens, closes in self.week[day.weekday()]
        ]


def parse_business_hours(raw: str, zone: str, holidays_country: str | None = None) -> BusinessHours:
    """`Mon-Fri 08:00-20:00; Sat 10:00-16:00` (a closing time of 24:00 is midnight); raises
    BusinessHoursError saying what is wrong."""
    week: list[list[tuple[time, time]]] = [[] for _ in DAYS]
    for part in (p.strip() for p in raw.split(";")):
        if not part:
            continue
        match = SEGMENT.match(part)
        if not match or match["first"].lower() not in DAYS or (match["last"] and match["last"].lower() not in DAYS):
            raise BusinessHoursError(f"{part[:40]!r} should look like Mon-Fri 08:00-20:00")
        first = DAYS.index(match["first"].lower())
        last = DAYS.index((match["last"] or match["first"]).lower())
        opens, closes = _clock(match["open"]), _clock(match["close"])
        if closes <= opens:
            raise BusinessHoursError(f"{part[:40]!r}: the closing time must come after the opening time")
        for weekday in range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]:
            week[weekday].append((_time(opens), _time(closes)))
    if not any(week):
        raise BusinessHoursError("no opening hours given; e.g. Mon-Fri 08:00-20:00")
    country, subdivision = None, None
    if holidays_country:
        country, _, subdivision_part = holidays_country.upper().partition("-")
        subdivision = subdivision_part or None
        supported = holidays.list_supported_countries()
        if country not in supported:
            raise BusinessHoursError(f"{country[:10]!r} is not a country the holidays package knows (e.g. US, GB)")
        if subdivision and subdivision not in supported[country]:
            raise BusinessHoursError(f"{subdivision[:10]!r} is not a subdivision of {country} (e.g. GB-ENG, US-NY)")
    return BusinessHours(ZoneInfo(zone), tuple(tuple(spans) for spans in week), country, subdivision)


def _clock(text: str) -> int:
    hours, minutes = (int(x) for x in text.split(":"))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise BusinessHoursError(f"{text!r} is not a time of day")
    return hours * 60 + minutes


def _time(minutes: int) -> time:
    return time.max if minutes == 24 * 60 else time(minutes // 60, minutes % 60)


@lru_cache(maxsize=4096)
def _instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """`clock` on local `day`, as a UTC instant (23:59:59.999999 stands for midnight at the day's end)."""
    if clock == time.max:
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
