"""Time zone names as people type them: one check for settings, locations and reports."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def time_zone(name: str) -> ZoneInfo | None:
    """The IANA zone called `name`, or None for anything else: an unknown name, a folder of the zone
    database such as `America` (which ZoneInfo opens as a file and fails on), or a path."""
    if not name or name not in _names():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


@cache
def _names() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}
