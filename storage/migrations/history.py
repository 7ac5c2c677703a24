"""Migration 19: the customer's history — notes about a customer, and the indexes that find a customer's
cases (by X user id, newest first) and a customer by @handle within Slack's 3 seconds on a large database."""

from __future__ import annotations

from storage.engine import Database


def _m019_customer_history(db: Database) -> None:
    """A customer is their X user id (`cases.author_id`): a changed @handle is the same person. Their
    cases are one range of `cases_by_customer`, read newest first (the card's returning-customer count
    and the History modal). `/perch customer @handle` finds the id from the newest tweet or DM with that
    handle (handles are case-insensitive on X). Notes are kept by customer, not by case, so resolving
    a case leaves them be; they are Slack's only and never sent to X."""
    db.table("customer_notes").create(
        {"id": int, "author_id": str, "text": str, "created_by": str, "created_at": str, "case_id": int},
        pk="id",
        not_null={"author_id", "text", "created_by", "created_at"},
    )
    db.execute("CREATE INDEX customer_notes_by_customer ON customer_notes (author_id, created_at)")
    db.execute("CREATE INDEX cases_by_customer ON cases (author_id, tweet_created_at)")
    db.execute("CREATE INDEX tweets_by_handle ON tweets (author_handle COLLATE NOCASE, created_at)")
    db.execute(
        "CREATE INDEX dm_events_by_handle ON dm_events (sender_handle COLLATE NOCASE, created_at) "
        "WHERE direction = 'in'"
    )
