"""Reading `/perch report [period] [by agent|location|hour|reason|queue] [@agent] [LOCATION] [#queue] [public]
[csv]`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.blocks.mrkdwn import escape
from storage.metrics import Breakdown

USAGE = (
    "Usage: `/perch report [today|yesterday|7d|30d|YYYY-MM-DD..YYYY-MM-DD] "
    "[by agent|by location|by hour|by reason|by queue] [@agent] [LOCATION] [#queue-channel] [public] [csv]` "
    "(default: 7d, by agent)."
)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?$")
_DAYS = re.compile(r"^(\d{1,3})d$")
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|([^>]*))?>$")
_CODE = re.compile(r"^(?:[A-Z]{3}|[A-Z][A-Z0-9-]{1,19})$")


class ReportArgsError(ValueError):
    pass


@dataclass(frozen=True)
class ReportRequest:
    start: datetime
    end: datetime
    label: str
    breakdown: Breakdown = Breakdown.AGENT
    agent: str | None = None
    location: str | None = None
    public: bool = False
    csv: bool = False
    queue: str | None = None  # a channel: the report narrowed to that queue


def parse_report_args(text: str, now: datetime, timezone: str) -> ReportRequest:
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    words = text.split()
    start, end, label = local_now - timedelta(days=7), local_now, "the last 7 days"
    breakdown, agent, location, public, csv = Breakdown.AGENT, None, None, False, False
    queue: str | None = None
    queue_name = ""
    index = 0
    while index < len(words):
        word, lower = words[index], words[index].lower()
        if lower == "today":
            start, end, label = _day(local_now.date(), zone), local_now, "today"
        elif lower == "yesterday":
            day = local_now.date() - timedelta(days=1)
            start, end, label = _day(day, zone), _day(local_now.date(), zone), f"yesterday ({day:%a %d %b})"
        elif days_match := _DAYS.match(lower):
            days = int(days_match.group(1))
            if not 1 <= days <= 366:
                raise ReportArgsError(f"A period is 1 to 366 days, not {days}. {USAGE}")
            start, end, label = local_now - timedelta(days=days), local_now, f"the last {days} days"
        elif range_match := _RANGE.match(word):
            first, last = range_match.groups()
            try:
                first_day = date.fromisoformat(first)
                last_day = date.fromisoformat(last or first)
            except ValueError:
                raise ReportArgsError(f"`{word[:30]}` is not a date range. {USAGE}") from None
            if last_day < first_day or (last_day - first_day).days > 366:
                raise ReportArgsError(f"The range must run forward and cover at most 366 days. {USAGE}")
            if not (first_day >= EARLIEST and last_day <= LATEST):
                raise ReportArgsError(f"Dates are from {EARLIEST:%Y} to {LATEST:%Y}. {USAGE}")
            start, end = _day(first_day, zone), _day(last_day + timedelta(days=1), zone)
            label = f"{first_day:%d %b %Y}" + (f" – {last_day:%d %b %Y}" if last_day != first_day else "")
        elif lower == "by" and index + 1 < len(words) and words[index + 1].lower() in set(Breakdown):
            breakdown = Breakdown(words[index + 1].lower())
            index += 1
        elif user_match := _USER.match(word):
            agent = user_match.group(1)
        elif channel_match := _CHANNEL.match(word):
            queue, queue_name = channel_match.group(1), channel_match.group(2) or channel_match.group(1)
        elif lower == "public":
            public = True
        elif lower == "csv":
            csv = True
        elif _CODE.match(word):  # location codes are written as they are stored: JFK, STORE-042
            location = word
        else:
            raise ReportArgsError(f"I don't understand `{_safe(word)}`. {USAGE}")
        index += 1
    label += f" · #{queue_name[:80]}" if queue else ""  # the label is a plain-text header: the name, no link
    return ReportRequest(start, end, label, breakdown, agent, location, public, csv, queue)


EARLIEST, LATEST = date(2006, 3, 21), date(9998, 12, 31)  # X's first tweet; far enough from datetime's end


def _day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _safe(word: str) -> str:
    return escape(word[:30]).replace("`", "'")
