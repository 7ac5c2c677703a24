"""The schema, as numbered migrations that run at start-up in order, so an old database keeps working.

Add a new one at the end of `MIGRATIONS` (in the module of its concern, or a new one); never edit one
that has shipped. `storage.db.migrate` runs them, each in its own transaction."""

from __future__ import annotations

from collections.abc import Callable

from storage.engine import Database
from storage.migrations.core import (
    _m001_core,
    _m002_agent_actions,
    _m003_escalations,
    _m004_report_indexes,
    _m005_sla_reminders,
    _m006_triage,
    _m007_alarms,
    _m008_incidents,
)
from storage.migrations.csat import _m018_csat
from storage.migrations.forms import _m021_opened_views
from storage.migrations.history import _m019_customer_history
from storage.migrations.lease import _m023_leader_lease
from storage.migrations.messages import (
    PERSONAL_DATA_REPLY,
    _m009_send_attempts,
    _m010_summoned,
    _m011_direct_messages,
    _m012_x_usage,
    _m013_personal_data,
    _m014_drafts,
    _m015_contact_reasons,
)
from storage.migrations.queues import _m022_queues
from storage.migrations.repairs import _m020_follow_up_repairs
from storage.migrations.reports import (
    _m016_report_speed,
    _m017_report_by_agent,
)

__all__ = ["MIGRATIONS", "PERSONAL_DATA_REPLY"]

MIGRATIONS: list[Callable[[Database], None]] = [
    _m001_core,
    _m002_agent_actions,
    _m003_escalations,
    _m004_report_indexes,
    _m005_sla_reminders,
    _m006_triage,
    _m007_alarms,
    _m008_incidents,
    _m009_send_attempts,
    _m010_summoned,
    _m011_direct_messages,
    _m012_x_usage,
    _m013_personal_data,
    _m014_drafts,
    _m015_contact_reasons,
    _m016_report_speed,
    _m017_report_by_agent,
    _m018_csat,
    _m019_customer_history,
    _m020_follow_up_repairs,
    _m021_opened_views,
    _m022_queues,
    _m023_leader_lease,
]
