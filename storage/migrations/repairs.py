"""Migration 20: a follow-up X first served half-empty is redrawn in its thread once a whole copy comes."""

from __future__ import annotations

from storage.engine import Database


def _m020_follow_up_repairs(db: Database) -> None:
    """`tweets.mended_at`: when a post stored without its text or author took a whole copy's (set by
    `storage.tweets._mend`). A follow-up already in its case's thread then says "(no text)" or "Unknown
    author" until the post job redraws it and clears the mark (`storage.follow_ups`)."""
    db.table("tweets").add_column("mended_at", str)
    db.execute("CREATE INDEX tweets_mended ON tweets (mended_at) WHERE mended_at IS NOT NULL")
