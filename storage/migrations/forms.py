"""Migration 21: each modal Perch opens, bound to what it is about, so a submission acts on that only."""

from __future__ import annotations

from storage.engine import Database


def _m021_opened_views(db: Database) -> None:
    """`opened_views`: the `external_id` Perch gave a modal it opened or pushed, and its subject (the case, draft,
    escalation or incident its metadata names, as `bot.opened_views.subject_of` writes it). A
    submission whose metadata names another subject is refused
    (`handlers/bound_views.py`): the metadata travels with the request and is not proof by itself."""
    db.table("opened_views").create(
        {"external_id": str, "subject": str, "opened_at": str}, pk="external_id", not_null={"subject", "opened_at"}
    )
    db.execute("CREATE INDEX opened_views_by_age ON opened_views (opened_at)")
