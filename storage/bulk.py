"""A surge's status update and its bulk replies: who gets one (one per customer, fixed when an agent
confirms), which to send next, and how far it has got."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.db import utc_now, writing
from storage.engine import Database
from storage.incidents import OTHER, get_incident, touch_incident
from storage.lifecycle import CaseStatus, sql_list


@dataclass(frozen=True)
class BulkProgress:
    total: int
    sent: int
    failed: int
    pending: int


def set_status(
    db: Database,
    incident_id: int,
    text: str,
    user: str,
    name: str,
    *,
    personal_data_reason: str | None = None,
) -> None:
    """`personal_data_reason`: why a status update that shows personal data was saved anyway."""
    with writing(db):
        db.execute(
            "UPDATE incidents SET status_text = ?, status_by = ?, status_by_name = ?, status_at = ?, "
            "status_personal_data_reason = ?, card_version = card_version + 1 WHERE id = ?",
            [text, user, name, utc_now(), personal_data_reason, incident_id],
        )


def bulk_candidates(db: Database, incident_id: int) -> list[tuple[str, int]]:
    """(customer, case) pairs a bulk reply would go to: one per customer (their latest case X lets the
    brand answer: a post that @mentions or quotes it), skipping customers who already have an answer,
    a DM hand-off or a resolved case."""
    return [
        (row[0], row[1])
        for row in db.execute(
            "SELECT author_id, MAX(id) FROM cases c WHERE incident_id = ? AND author_id NOT IN ("
            "  SELECT author_id FROM cases WHERE incident_id = ? AND (first_response_at IS NOT NULL "
            f"  OR status IN {sql_list([CaseStatus.RESOLVED, CaseStatus.IN_DM])})) "
            "AND EXISTS (SELECT 1 FROM tweets s WHERE s.case_id = c.id "
            "  AND s.author_id = c.author_id AND COALESCE(s.summoned, 1) = 1) "
            "GROUP BY author_id ORDER BY MIN(tweet_created_at)",
            [incident_id, incident_id],
        )
    ]


def unsummoned_customers(db: Database, incident_id: int) -> int:
    """Customers in an incident none of whose posts @mention or quote the brand: X lets no app reply
    to them (a bulk reply skips them)."""
    return db.execute(
        "SELECT COUNT(DISTINCT author_id) FROM cases c WHERE incident_id = ? AND NOT EXISTS (SELECT 1 FROM tweets s "
        "WHERE s.case_id = c.id AND s.author_id = c.author_id AND COALESCE(s.summoned, 1) = 1)",
        [incident_id],
    ).fetchone()[0]


def start_bulk(db: Database, incident_id: int, user: str, name: str, status_at: str) -> str:
    """Record a confirmed bulk reply and its recipients. `ok`, `changed` (the status update is not the one
    the agent confirmed), `started` (already confirmed once), `nobody`, `not_alike` (the group of a
    surge's other tweets) or `missing`."""
    now = utc_now()
    with writing(db):
        incident = get_incident(db, incident_id)
        if incident is None or not incident.status_text:
            return "missing"
        if incident.term == OTHER:
            return "not_alike"
        if incident.status_at != status_at:
            return "changed"
        if incident.bulk_at is not None:
            return "started"
        targets = bulk_candidates(db, incident_id)
        if not targets:
            return "nobody"
        db.execute(
            "UPDATE incidents SET bulk_by = ?, bulk_by_name = ?, bulk_at = ?, card_version = card_version + 1 "
            "WHERE id = ?",
            [user, name, now, incident_id],
        )
        db.table("bulk_targets").insert_all(
            {"incident_id": incident_id, "author_id": author, "case_id": case_id, "status": "pending"}
            for author, case_id in targets
        )
    return "ok"


def stop_bulk(db: Database, incident_id: int, user: str) -> int:
    """Stop sending: the recipients not reached yet are left out. Returns how many."""
    with writing(db):
        stopped = db.execute(
            "UPDATE bulk_targets SET status = 'stopped' WHERE incident_id = ? AND status = 'pending'", [incident_id]
        ).rowcount
        db.execute(
            "UPDATE incidents SET bulk_stopped_by = COALESCE(bulk_stopped_by, ?), bulk_stopped_at = "
            "COALESCE(bulk_stopped_at, ?), card_version = card_version + 1 WHERE id = ?",
            [user, utc_now(), incident_id],
        )
    return stopped


def next_bulk_target(db: Database) -> dict[str, Any] | None:
    """The next recipient still to reach, with the text and who confirmed it."""
    rows = list(
        db.query(
            "SELECT b.incident_id, b.author_id, b.case_id, i.status_text, i.bulk_by, i.bulk_by_name, t.author_handle "
            "FROM bulk_targets b JOIN incidents i ON i.id = b.incident_id JOIN cases c ON c.id = b.case_id "
            "JOIN tweets t ON t.id = c.tweet_id WHERE b.status = 'pending' "
            "ORDER BY b.incident_id, b.rowid LIMIT 1"
        )
    )
    return rows[0] if rows else None


def record_bulk_result(db: Database, incident_id: int, author_id: str, status: str, error: str | None = None) -> None:
    with writing(db):
        db.execute(
            "UPDATE bulk_targets SET status = ?, error = ?, sent_at = ? WHERE incident_id = ? AND author_id = ?",
            [status, error, utc_now() if status == "sent" else None, incident_id, author_id],
        )
        touch_incident(db, incident_id)


def bulk_progress(db: Database, incident_id: int) -> BulkProgress:
    total, sent, failed, pending = db.execute(
        "SELECT COUNT(*), SUM(status = 'sent'), SUM(status = 'failed'), SUM(status = 'pending') FROM bulk_targets "
        "WHERE incident_id = ?",
        [incident_id],
    ).fetchone()
    return BulkProgress(total, sent or 0, failed or 0, pending or 0)
