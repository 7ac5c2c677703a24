"""Reading the brand's DM events: every page back to the stored cursor, within X's DM read limit.

`GET /2/dm_events` has no `since_id`: it pages newest first, so a sweep reads until it reaches what
is already stored (the cursor, less an overlap) and only then moves the cursor. A sweep that runs out
of budget mid-way keeps its place (the next page's token) and goes on from there at the next poll,
so a burst larger than one poll's budget is read in full, a page at a time, without a 429.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.x.client import DM_EVENTS, XClient
from bot.x.dms import parse_dm_events
from bot.x.errors import XError
from storage.db import from_iso
from storage.dms import DM_SOURCE, DirectMessage
from storage.tweets import Cursor

KEEP_IN_HAND = 1  # calls of the DM read budget a sweep leaves for the next poll


@dataclass
class DMFetch:
    """One poll's DM events. `complete`: the sweep reached the cursor (or the oldest wanted)."""

    events: list[DirectMessage] = field(default_factory=list)
    complete: bool = True
    error: XError | None = None
    pages: int = 0
    resume_token: str | None = None  # where the next poll goes on when this one stopped early


def read_dm_events(x: XClient, since: datetime, token: str | None = None) -> DMFetch:
    """Pages from `token` (or the newest) until one reaches back to `since`, or the budget runs low."""
    fetch = DMFetch()
    while True:
        try:
            body = x.dm_page(token)
        except XError as error:
            fetch.complete, fetch.error, fetch.resume_token = False, error, token
            return fetch
        fetch.pages += 1
        page = parse_dm_events(body)
        fetch.events.extend(e for e in page if from_iso(e.created_at) >= since)
        token = (body.get("meta") or {}).get("next_token")
        if not token or any(from_iso(e.created_at) < since for e in page):
            return fetch
        remaining, _ = x.limits.get(DM_EVENTS, (KEEP_IN_HAND + 1, 0.0))
        if remaining <= KEEP_IN_HAND:
            fetch.complete, fetch.resume_token = False, token
            return fetch


def newest_dm(events: list[DirectMessage]) -> Cursor | None:
    if not events:
        return None
    newest = max(events, key=lambda e: (e.created_at, int(e.id)))
    return Cursor(source=DM_SOURCE, newest_id=newest.id, newest_at=newest.created_at)
