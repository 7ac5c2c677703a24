"""Migration 22: queues — the team's routes, and the channel (and team) each case was routed to."""

from __future__ import annotations

from storage.engine import Database


def _m022_queues(db: Database) -> None:
    """`routes`, tried in `position` order (`conditions` a JSON list of `{key, values}`; `team` a user
    group id or NULL). A case is routed once, before its first card (`cases.routed_at`): `queue_channel`
    and `queue_team` stay for its life, whatever routes change later; `route_id` says which route took
    it (NULL: the default queue). Cases from before this migration count as routed to the default.
    `incidents.queue_channel`: the queue whose surge an incident groups (its card goes there)."""
    db.table("routes").create(
        {
            "id": int,
            "position": int,
            "channel": str,
            "conditions": str,
            "team": str,
            "created_by": str,
            "created_at": str,
        },
        pk="id",
        not_null={"position", "channel", "conditions", "created_at"},
    )
    cases = db.table("cases")
    for column in ("queue_channel", "queue_team", "routed_at"):
        cases.add_column(column, str)
    cases.add_column("route_id", int)
    db.execute("UPDATE cases SET routed_at = COALESCE(opened_at, tweet_created_at, '')")
    db.table("incidents").add_column("queue_channel", str)  # a surge is grouped per queue: NULL, the default
    db.execute("CREATE INDEX cases_unrouted ON cases (opened_at) WHERE routed_at IS NULL")
