"""Migration 18: customer satisfaction — one survey per case at most, and the customer's answer.

Whether the question went out is the outbox's row (`replies`, by the survey's `reply_key`), so a send
that X confirms only later (the minute job settles it) needs no second record here."""

from __future__ import annotations

from storage.engine import Database


def _m018_csat(db: Database) -> None:
    """`csat_surveys`: the case it asks about (one each: never twice per case), the customer by X user id
    (the cool-down and the answer are found by them), the outbox key (none when an agent chose Resolve
    without survey), and the score and comment."""
    db.table("csat_surveys").create(
        {
            "case_id": int,
            "customer_id": str,
            "reply_key": str,  # replies.idempotency_key of the question; NULL: resolved without survey
            "requested_by": str,  # who resolved the case (or chose no survey)
            "requested_at": str,
            "score": int,  # 1-5, once answered
            "comment": str,
            "answered_at": str,
            "answer_dm_id": str,  # dm_events.id of the answer
        },
        pk="case_id",
        foreign_keys=[("case_id", "cases", "id")],
        not_null={"customer_id", "requested_at"},
    )
    db.table("csat_surveys").create_index(["customer_id", "requested_at"])
    db.table("csat_surveys").create_index(["answer_dm_id"], unique=True)
