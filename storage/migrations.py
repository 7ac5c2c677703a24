"""The schema, as numbered migrations that run at start-up in order, so an old database keeps working.

Add a new one at the end of `MIGRATIONS`; never edit one that has shipped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

from storage.lifecycle import HOLD_KINDS, CaseStatus, holder_sql, sql_list

PERSONAL_DATA_REPLY = "personal-data"  # the saved reply a case whose post shows personal data starts from


def _m001_core(db: sqlite_utils.Database) -> None:
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


def _m002_agent_actions(db: sqlite_utils.Database) -> None:
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


def _m003_escalations(db: sqlite_utils.Database) -> None:
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


def _m004_report_indexes(db: sqlite_utils.Database) -> None:
    """Reports select cases by when the tweet was sent, and escalations by when they were asked for."""
    db.table("cases").create_index(["tweet_created_at"])
    db.table("cases").create_index(["assignee", "status", "tweet_created_at"])
    db.table("escalations").create_index(["requested_at"])


def _m005_sla_reminders(db: sqlite_utils.Database) -> None:
    """One row per SLA reminder sent (case, target, stage): written before posting, so never twice."""
    db.table("sla_reminders").create(
        {"case_id": int, "target": str, "stage": int, "sent_at": str},
        pk=("case_id", "target", "stage"),
        foreign_keys=[("case_id", "cases", "id")],
    )


def _m006_triage(db: sqlite_utils.Database) -> None:
    """Why a case got its priority (shown on the card)."""
    db.table("cases").add_column("priority_signals", str)
    db.table("cases").create_index(["assignee", "status", "priority"])


def _m007_alarms(db: sqlite_utils.Database) -> None:
    """Health alarms raised in the support channel: one row while an alarm is up, so it is posted once."""
    db.table("alarms").create(
        {"name": str, "text": str, "raised_at": str, "slack_channel": str, "slack_ts": str}, pk="name"
    )


def _m008_incidents(db: sqlite_utils.Database) -> None:
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


def _m009_send_attempts(db: sqlite_utils.Database) -> None:
    """When a send was last handed to X, so one stuck in `sending` (the process died mid-send) is told
    apart from one in progress, and checked against X instead of trusted for ever."""
    db.table("replies").add_column("attempted_at", str)
    db.execute("UPDATE replies SET attempted_at = created_at")
    db.table("replies").create_index(["status", "attempted_at"])


def _m010_summoned(db: sqlite_utils.Database) -> None:
    """Whether a customer's post @mentions or quotes the brand: X lets an app reply only to those.
    Older rows stay NULL (not known), which keeps their Reply."""
    db.table("tweets").add_column("summoned", int)


def _m011_direct_messages(db: sqlite_utils.Database) -> None:
    """The brand's DM events, both ways, keyed by X's event id; a case a DM opened names its first DM
    (`dm_event_id`) instead of a tweet."""
    db.table("dm_events").create(
        {
            "id": str,
            "case_id": int,
            "conversation_id": str,
            "sender_id": str,
            "customer_id": str,  # the other participant (the sender, or the recipient of the brand's DM)
            "direction": str,  # in (from the customer) or out (from the brand)
            "text": str,
            "created_at": str,
            "sender_handle": str,
            "sender_name": str,
            "sender_followers": int,
            "sender_verified": int,
            "referenced_tweet_ids": str,  # JSON list
            "media_count": int,
            "reply_id": int,  # an outbound DM Perch sent itself (replies.id): already in the thread
            "raw": str,
            "stored_at": str,
            "post_attempted_at": str,
            "slack_ts": str,
        },
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
    )
    db.table("dm_events").create_index(["case_id", "created_at"])
    db.table("dm_events").create_index(["customer_id", "created_at"])
    db.execute("CREATE INDEX dm_events_unposted ON dm_events (case_id) WHERE slack_ts IS NULL")
    cases = db.table("cases")
    cases.add_column("dm_event_id", str)
    cases.create_index(["author_id", "status"])


def _m012_x_usage(db: sqlite_utils.Database) -> None:
    """What Perch read from X, one row per item per UTC day per kind (X bills an item once a day)."""
    db.table("x_usage").create({"day": str, "kind": str, "item_id": str}, pk=("day", "kind", "item_id"))


def _m013_personal_data(db: sqlite_utils.Database) -> None:
    """What personal data a customer's public post shows (the card says so), and the saved reply that
    asks them to delete it; a team may reword or remove it in `/perch replies`."""
    db.table("cases").add_column("personal_data", str)  # the kinds found, as shown on the card
    db.table("incidents").add_column("status_personal_data_reason", str)  # why it was published anyway
    db.table("saved_replies").insert(
        {
            "name": PERSONAL_DATA_REPLY,
            "text": "For your safety, please delete that post: it shows personal details anyone can see. "
            "Send them to us by DM instead and we'll sort it out there.",
            "created_by": "bot",
            "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
    )


def _m014_drafts(db: sqlite_utils.Database) -> None:
    """Replies and DMs held for a lead's review (a new agent's, or past the agent's daily limit)."""
    db.table("drafts").create(
        {
            "id": int,
            "case_id": int,
            "kind": str,  # reply or dm
            "text": str,
            "author": str,
            "author_name": str,
            "why": str,  # review_group or daily_limit
            "idempotency_key": str,  # the form it came from: one draft per submission
            "status": str,  # pending, approved, sent_back
            "created_at": str,
            "decided_by": str,
            "decided_at": str,
            "note": str,  # why it was sent back
            "edited": int,
            "reminded_at": str,
            "reply_id": int,  # the send, once approved (replies.id)
            "version": int,  # bumped on every change; the thread message is redrawn when behind
            "synced": int,
            "post_attempted_at": str,
            "slack_ts": str,
        },
        pk="id",
        defaults={"version": 0, "synced": 0, "edited": 0},
        foreign_keys=[("case_id", "cases", "id")],
    )
    db.table("drafts").create_index(["idempotency_key"], unique=True)
    db.table("drafts").create_index(["case_id", "status"])


def _m015_contact_reasons(db: sqlite_utils.Database) -> None:
    """Why customers write: the team's list of reasons with their keywords, and each case's reason
    (picked at resolve) and suggestion (from the keywords, when the case opened)."""
    db.table("reasons").create(
        {"id": int, "name": str, "keywords": str, "position": int, "created_by": str, "created_at": str}, pk="id"
    )
    db.execute("CREATE UNIQUE INDEX reasons_name ON reasons (name COLLATE NOCASE)")
    cases = db.table("cases")
    cases.add_column("reason", str)
    cases.add_column("suggested_reason", str)


# The events that start or end a hold (docs/metrics.md, "Workload"), and who a starting one gives the case to.
_HOLD_KINDS = sql_list(HOLD_KINDS)


def _ms_between(start: str, end: str) -> str:
    """SQL for whole milliseconds from `start` to `end` (exact: SQLite keeps instants to the millisecond)."""
    return f"CAST(round((julianday({end}) - julianday({start})) * 86400000.0) AS INTEGER)"


# Each case's report figures as generated columns (docs/metrics.md): when it arrived (Unix milliseconds),
# the milliseconds from then to each later instant (negative if it came first), and its flags.
_REPORT_COLUMNS = {
    "report_arrived_ms": "CAST(round((julianday(tweet_created_at) - 2440587.5) * 86400000.0) AS INTEGER)",
    "report_posted_ms": _ms_between("tweet_created_at", "posted_at"),
    "report_claimed_ms": _ms_between("tweet_created_at", "claimed_at"),
    "report_answered_ms": _ms_between("tweet_created_at", "first_response_at"),
    "report_resolved_ms": f"CASE WHEN status = '{CaseStatus.RESOLVED}' "
    f"THEN {_ms_between('tweet_created_at', 'resolved_at')} END",
    "report_flags": f"IFNULL(status = '{CaseStatus.RESOLVED}', 0) | ((IFNULL(reopened_count, 0) > 0) << 1) "
    "| ((dm_event_id IS NOT NULL) << 2)",
}


def _m016_report_speed(db: sqlite_utils.Database) -> None:
    """Reports on a large database. Each case's durations and flags are generated columns, computed
    when the case is written and kept in one index with its arrival time, so a report reads them
    ready-made from the index. Each hold of a case (a claim, reassignment or reopen, until the case's
    next such event) is a row the database writes itself as the events are appended, in Julian days,
    with the case's arrival, so the agents' workload is one range read.

    (Generated columns are invisible to `PRAGMA table_info`: never rebuild `cases` with `transform()`.)"""
    for name, expression in _REPORT_COLUMNS.items():
        db.execute(f"ALTER TABLE cases ADD COLUMN {name} INTEGER GENERATED ALWAYS AS ({expression}) VIRTUAL")
    db.execute(
        "CREATE INDEX cases_report ON cases (tweet_created_at, status, assignee, resolved_by, "
        f"{', '.join(_REPORT_COLUMNS)})"
    )
    db.execute("DROP INDEX IF EXISTS idx_cases_tweet_created_at")  # the report index starts with its column
    db.table("holds").create(
        {"id": int, "case_id": int, "case_arrived": str, "holder": str, "began": float, "ended": float}, pk="id"
    )
    db.execute("CREATE INDEX holds_open ON holds (case_id) WHERE ended IS NULL")
    db.execute("CREATE INDEX holds_by_began ON holds (began, case_arrived, holder, ended, case_id)")
    db.execute(
        "INSERT INTO holds (case_id, case_arrived, holder, began, ended) "
        "SELECT h.case_id, c.tweet_created_at, h.holder, h.began, h.ended FROM ("
        f"  SELECT e.case_id, {holder_sql('e')} AS holder, julianday(e.at) AS began,"
        "   julianday(LEAD(e.at) OVER (PARTITION BY e.case_id ORDER BY e.at, e.id)) AS ended"
        f"  FROM events e WHERE e.kind IN {_HOLD_KINDS}"
        ") h JOIN cases c ON c.id = h.case_id WHERE h.holder IS NOT NULL"
    )
    db.execute(
        "CREATE TRIGGER holds_follow_events AFTER INSERT ON events "
        f"WHEN NEW.kind IN {_HOLD_KINDS} BEGIN "
        "  UPDATE holds SET ended = julianday(NEW.at) WHERE case_id = NEW.case_id AND ended IS NULL; "
        "  INSERT INTO holds (case_id, case_arrived, holder, began) "
        f"  SELECT NEW.case_id, c.tweet_created_at, {holder_sql('NEW')}, julianday(NEW.at) "
        f"  FROM cases c WHERE c.id = NEW.case_id AND {holder_sql('NEW')} IS NOT NULL; "
        "END"
    )


def _m017_report_by_agent(db: sqlite_utils.Database) -> None:
    """The by-agent breakdown on a large database. The workload reads each agent's holds of a period
    as one range of an index that starts with the holder (no holder's name read back per hold: that was
    most of the read's time). Each reply carries its case's arrival, written by a trigger as the reply
    is inserted, so the replies each agent sent on a period's cases are one range read, not a look-up
    per case."""
    db.execute("CREATE INDEX holds_by_holder ON holds (holder, began, case_arrived, ended, case_id)")
    db.execute("DROP INDEX IF EXISTS holds_by_began")
    db.table("replies").add_column("case_arrived", str)
    db.execute(
        "UPDATE replies SET case_arrived = (SELECT c.tweet_created_at FROM cases c WHERE c.id = replies.case_id)"
    )
    db.execute("CREATE INDEX replies_by_case_arrived ON replies (case_arrived, status, source, sent_by, case_id)")
    db.execute(
        "CREATE TRIGGER replies_carry_case_arrival AFTER INSERT ON replies BEGIN "
        "  UPDATE replies SET case_arrived = (SELECT c.tweet_created_at FROM cases c WHERE c.id = NEW.case_id) "
        "  WHERE id = NEW.id; "
        "END"
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
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
]
