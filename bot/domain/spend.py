"""What Perch's use of X costs, priced with the published pay-per-use rates (settings: X changes them),
and where the month is heading at this pace."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from storage.usage import DM_EVENT, DM_READ, OWNED_READ, POST_EVENT, POST_READ, Usage


@dataclass(frozen=True)
class Prices:
    """US dollars per item read, and per request sent (X's 2026 rates by default)."""

    owned_read: float = 0.001
    post_read: float = 0.005
    dm_read: float = 0.010
    post_create: float = 0.015
    post_create_with_link: float = 0.200
    dm_create: float = 0.015
    dm_event: float = 0.010  # the activity stream's `dm.received`, billed like a DM read
    post_event: float = 0.005  # its post events (`post.mention.create`): more than an owned read


def cost(usage: Usage, prices: Prices) -> float:
    reads = (
        usage.reads.get(OWNED_READ, 0) * prices.owned_read
        + usage.reads.get(POST_READ, 0) * prices.post_read
        + usage.reads.get(DM_READ, 0) * prices.dm_read
        + usage.reads.get(DM_EVENT, 0) * prices.dm_event
        + usage.reads.get(POST_EVENT, 0) * prices.post_event
    )
    sends = (
        usage.posts * prices.post_create
        + usage.posts_with_link * prices.post_create_with_link
        + usage.dms * prices.dm_create
    )
    return reads + sends


def month_bounds(now: datetime) -> tuple[str, str]:
    """The first day of `now`'s UTC month and today, as UTC dates."""
    return now.strftime("%Y-%m-01"), now.strftime("%Y-%m-%d")


def forecast(spent: float, now: datetime) -> float:
    """The month's spend if the rest of it goes as it has so far (linear in elapsed time)."""
    days = calendar.monthrange(now.year, now.month)[1]
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - start).total_seconds()
    return spent * (days * 86400) / elapsed if elapsed > 0 else spent
