"""The append-only event log: every step of a case, with who and when. Reports read from here."""

from __future__ import annotations

import json
from typing import Any

from storage.db import new_id, utc_now
from storage.engine import Database
from storage.lifecycle import EventKind


def event_row(
    case_id: int, kind: EventKind, actor: str, detail: dict[str, Any] | None = None, at: str | None = None
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "kind": kind,
        "actor": actor,
        "at": at or utc_now(),
        "detail": json.dumps(detail or {}, ensure_ascii=False),
    }


def record_event(
    db: Database,
    case_id: int,
    kind: EventKind,
    actor: str,
    detail: dict[str, Any] | None = None,
    *,
    at: str | None = None,
) -> int:
    """Append one event that changes nothing about the case (a state change goes through
    `storage.cases.change`, which appends its own); `actor` is a Slack user id or `bot`."""
    return new_id(db.table("events").insert(event_row(case_id, kind, actor, detail, at)))
