"""Migrations 1-8: the queue itself — tweets, cases and their events, agents' actions, escalations,
the report's first indexes, SLA reminders, triage, health alarms and surge incidents."""

from __future__ import annotations

from storage.engine import Database


def _m001_core(db: Database) -> None:
    """The first schema: tweets, cases, events, cursors.

    Long because: it is one table after another as it shipped, and a shipped migration is never edited."""
    db.table("tweets").create(
        {
            "id": str,
            "author_id": str,
            "author_handle": str,
            "author_name": str,
            "author_followers": int,
            "text": str,
            "created_at": str,
            "conversation_id": str,
            "in_reply_to_tweet_id": str,
            "source": str,
            "case_id": int,
            "slack_ts": str,
            "post_attempted_at": str,
            "stored_at": str,
            "raw": str,
        },
        pk="id",
    )
    db.table("cases").create(
        {
            "id": int,
            "tweet_id": str,
            "author_id": str,
            "conversation_id": str,
            "status": str,
            "assignee": str,
            "location": str,
            "priority": str,
            "slack_channel": str,
            "slack_ts": str,
            "post_attempted_at": str,
            "tweet_created_at": str,
            "opened_at": str,
            "posted_at": str,
            "claimed_at": str,
            "first_response_at": str,
            "resolved_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("tweet_id", "tweets", "id")],
    )
    db.table("events").create(
        {"id": int, "case_id": int, "kind": str, "actor": str, "at": str, "detail": str},
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
    )
    db.table("cursors").create(
        {"source": str, "newest_id": str, "newest_at": str, "updated_at": str},
        pk="source",
    )
    db.table("tweets").create_index(["case_id"])
    db.table("tweets").create_index(["conversation_id", "author_id"])
    db.table("cases").create_index(["tweet_id"], unique=True)
    db.table("cases").create_index(["conversation_id", "author_id", "status"])
    db.table("cases").create_index(["slack_ts", "tweet_created_at"])
    db.table("events").create_index(["case_id", "at"])
    db.table("events").create_index(["kind", "at"])


def _m002_agent_actions(db: Database) -> None:
    """Who has a case, what we sent on X, saved replies, and card versions for in-place updates."""
    cases = db.table("cases")
    cases.add_column("reopened_count", int, not_null_default=0)
    cases.add_column("resolved_by", str)
    cases.add_column("card_version", int, not_null_default=0)
    cases.add_column("card_synced", int, not_null_default=0)
    db.table("replies").create(
        {
            "id": int,
            "case_id": int,
            "idempotency_key": str,
            "kind": str,  # reply (public), dm
            "source": str,  # perch, x.com
            "status": str,  # sending, sent, failed, unknown
            "text": str,
            "in_reply_to_tweet_id": str,
            "dm_participant_id": str,
            "x_id": str,
            "error": str,
            "sent_by": str,
            "sent_by_name": str,
            "created_at": str,
            "sent_at": str,
            "note_attempted_at": str,
            "slack_ts": str,
        },
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
    )
    db.table("replies").create_index(["idempotency_key"], unique=True)
    db.table("replies").create_index(["x_id"])
    db.table("replies").create_index(["case_id", "status"])
    db.table("saved_replies").create(
        {"id": int, "name": str, "text": str, "created_by": str, "created_at": str}, pk="id"
    )
    db.execute("CREATE UNIQUE INDEX saved_replies_name ON saved_replies (name COLLATE NOCASE)")
    db.execute("CREATE INDEX cases_stale ON cases (id) WHERE card_version > card_synced")
    db.table("cases").create_index(["slack_channel", "slack_ts"])


def _m003_escalations(db: Database) -> None:
    """Frontline locations, escalations to their staff, suggested locations, and thread notes."""
    db.table("locations").create(
        {
            "code": str,
            "name": str,
            "kind": str,
            "slack_channel": str,
            "staff_group": str,
            "staff_users": str,
            "lead": str,
            "aliases": str,
            "timezone": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="code",
    )
    db.table("escalations").create(
        {
            "id": int,
            "case_id": int,
            "location": str,
            "urgency": str,
            "note": str,
            "requested_by": str,
            "requested_by_name": str,
            "requested_at": str,
            "slack_channel": str,
            "slack_ts": str,
            "acknowledged_by": str,
            "acknowledged_at": str,
            "resolved_by": str,
            "resolved_at": str,
            "outcome": str,
            "reminders_sent": int,
            "message_version": int,
            "message_synced": int,
        },
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
        defaults={"reminders_sent": 0, "message_version": 0, "message_synced": 0},
    )
    db.table("escalations").create_index(["case_id"])
    db.table("escalations").create_index(["acknowledged_at", "resolved_at"])
    db.table("cases").add_column("suggested_location", str)
    db.table("case_notes").create(
        {"id": int, "case_id": int, "text": str, "created_at": str, "note_attempted_at": str, "slack_ts": str},
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
    )
    db.table("case_notes").create_index(["slack_ts"])


def _m004_report_indexes(db: Database) -> None:
    """Reports select cases by when the tweet was sent, and escalations by when they were asked for."""
    db.table("cases").create_index(["tweet_created_at"])
    db.table("cases").create_index(["assignee", "status", "tweet_created_at"])
    db.table("escalations").create_index(["requested_at"])


def _m005_sla_reminders(db: Database) -> None:
    """One row per SLA reminder sent (case, target, stage): written before posting, so never twice."""
    db.table("sla_reminders").create(
        {"case_id": int, "target": str, "stage": int, "sent_at": str},
        pk=("case_id", "target", "stage"),
        foreign_keys=[("case_id", "cases", "id")],
    )


def _m006_triage(db: Database) -> None:
    """Why a case got its priority (shown on the card)."""
    db.table("cases").add_column("priority_signals", str)
    db.table("cases").create_index(["assignee", "status", "priority"])


def _m007_alarms(db: Database) -> None:
    """Health alarms raised in the support channel: one row while an alarm is up, so it is posted once."""
    db.table("alarms").create(
        {"name": str, "text": str, "raised_at": str, "slack_channel": str, "slack_ts": str}, pk="name"
    )


def _m008_incidents(db: Database) -> None:
    """Surge mode: an incident groups alike tweets under one card, listed in chunks in its thread."""
    db.table("incidents").create(
        {
            "id": int,
            "term": str,
            "label": str,
            "opened_at": str,
            "ended_at": str,
            "slack_channel": str,
            "slack_ts": str,
            "post_attempted_at": str,
            "card_version": int,
            "card_synced": int,
            "synced_sig": str,  # its cases' versions when the card was last drawn (their claims change its counts)
            "status_text": str,
            "status_by": str,
            "status_by_name": str,
            "status_at": str,
            "bulk_by": str,
            "bulk_by_name": str,
            "bulk_at": str,
            "bulk_stopped_by": str,
            "bulk_stopped_at": str,
        },
        pk="id",
        defaults={"card_version": 1, "card_synced": 0},
        not_null={"card_version", "card_synced"},
    )
    db.table("incident_chunks").create(
        {"incident_id": int, "chunk_no": int, "slack_ts": str, "post_attempted_at": str, "synced": str},
        pk=("incident_id", "chunk_no"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    # The customers an agent confirmed a bulk reply for: one row each, sent at most once.
    db.table("bulk_targets").create(
        {"incident_id": int, "author_id": str, "case_id": int, "status": str, "error": str, "sent_at": str},
        pk=("incident_id", "author_id"),
        foreign_keys=[("incident_id", "incidents", "id"), ("case_id", "cases", "id")],
    )
    db.table("tweets").add_column("author_verified", int)  # X's blue check, a triage signal
    cases = db.table("cases")
    cases.add_column("incident_id", int)
    cases.add_column("grouped", int, not_null_default=0)  # 1: shown in its incident's thread, not as a card
    cases.add_column("chunk_no", int)
    cases.create_index(["incident_id", "chunk_no"])
