"""Migrations 9-15: what goes to and comes from customers — send attempts, which posts summoned the
brand, DMs, what X bills, personal data, drafts held for review, contact reasons."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.engine import Database

PERSONAL_DATA_REPLY = "personal-data"  # the saved reply a case whose post shows personal data starts from


def _m009_send_attempts(db: Database) -> None:
    """When a send was last handed to X, so one stuck in `sending` (the process died mid-send) is told
    apart from one in progress, and checked against X instead of trusted for ever."""
    db.table("replies").add_column("attempted_at", str)
    db.execute("UPDATE replies SET attempted_at = created_at")
    db.table("replies").create_index(["status", "attempted_at"])


def _m010_summoned(db: Database) -> None:
    """Whether a customer's post @mentions or quotes the brand: X lets an app reply only to those.
    Older rows stay NULL (not known), which keeps their Reply."""
    db.table("tweets").add_column("summoned", int)


def _m011_direct_messages(db: Database) -> None:
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


def _m012_x_usage(db: Database) -> None:
    """What Perch read from X, one row per item per UTC day per kind (X bills an item once a day)."""
    db.table("x_usage").create({"day": str, "kind": str, "item_id": str}, pk=("day", "kind", "item_id"))


def _m013_personal_data(db: Database) -> None:
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


def _m014_drafts(db: Database) -> None:
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


def _m015_contact_reasons(db: Database) -> None:
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
