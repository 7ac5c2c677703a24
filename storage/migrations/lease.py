"""Migration 23: the leader's lease — one row per lease, the process that holds it, and its epoch."""

from __future__ import annotations

from storage.engine import Database


def _m023_leader_lease(db: Database) -> None:
    """One row per lease (`jobs`: the one that runs the scheduled jobs), created here so taking it is
    always an UPDATE of a row that exists (two processes starting at once never race to insert it).
    `expires_at` is milliseconds since 1970 on the database's clock; `epoch` grows by one at every
    change of holder, and every write a job makes is fenced by it (`storage.lease`)."""
    db.execute(
        "CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch BIGINT NOT NULL, "
        "expires_at BIGINT NOT NULL)"
    )
    db.execute("INSERT INTO leases (name, holder, epoch, expires_at) VALUES ('jobs', '', 0, 0)")
