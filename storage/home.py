"""What an agent's App Home tab shows, read in one place so the presenter only draws it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from storage.business_time import BusinessClock
from storage.cases import CardData
from storage.engine import Database
from storage.incidents import Incident, incident_summaries, incident_waiting
from storage.metrics import Report, build_report
from storage.queue import Queues, open_cases_of, queue_stats, unclaimed_queue


@dataclass(frozen=True)
class Surge:
    incident: Incident
    waiting: int
    first_waiting: list[CardData]  # high priority first, claimable from the Home tab


@dataclass(frozen=True)
class HomeData:
    mine: list[CardData]
    waiting: int
    oldest_waiting: str | None
    first_up: list[CardData]
    surges: list[Surge]
    today: Report


def home_data(
    db: Database,
    user: str,
    *,
    timezone: str,
    sla_minutes: float,
    now: datetime,
    business: BusinessClock | None = None,
    queues: Queues | None = None,
) -> HomeData:
    """`business`: the team's open hours (BUSINESS_HOURS), so today's SLA breaches are counted as the
    reports count them — in business time — and the Home tab never disagrees with `/perch report`;
    `queues`: those the agent may work, whose unclaimed cases the tab lists (None: every queue)."""
    zone = ZoneInfo(timezone)
    waiting, oldest = queue_stats(db, queues)
    local = now.astimezone(zone)
    today = build_report(
        db,
        datetime.combine(local.date(), time.min, tzinfo=zone),
        now,
        now=now,
        timezone=timezone,
        sla_minutes=sla_minutes,
        business=business,
    )
    surges = [Surge(incident, count, incident_waiting(db, incident.id)) for incident, count in incident_summaries(db)]
    return HomeData(open_cases_of(db, user), waiting, oldest, unclaimed_queue(db, queues=queues), surges, today)
