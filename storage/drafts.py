"""Replies and DMs held for review: written by an agent, approved (and then sent once, like any reply),
edited or sent back by a lead. Each decision is taken by exactly one lead, whoever clicks first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.cases import change
from storage.db import new_id, row_as, rows_as, to_iso, utc_now, writing
from storage.engine import Database
from storage.errors import DUPLICATE
from storage.lifecycle import EventKind


@dataclass(frozen=True)
class Draft:
    id: int
    case_id: int
    kind: str
    text: str
    author: str
    author_name: str
    why: str
    status: str
    created_at: str
    decided_by: str | None
    decided_at: str | None
    note: str | None
    edited: int
    reminded_at: str | None
    reply_id: int | None
    version: int
    slack_channel: str | None = None  # the card's thread the draft is shown in
    thread_ts: str | None = None
    slack_ts: str | None = None
    post_attempted_at: str | None = None

    @property
    def pending(self) -> bool:
        return self.status == "pending"


DRAFT_COLUMNS = (
    "d.id, d.case_id, d.kind, d.text, d.author, d.author_name, d.why, d.status, d.created_at, d.decided_by, "
    "d.decided_at, d.note, d.edited, d.reminded_at, d.reply_id, d.version, c.slack_channel, "
    "c.slack_ts AS thread_ts, d.slack_ts, d.post_attempted_at"
)
DRAFT_FROM = "FROM drafts d JOIN cases c ON c.id = d.case_id"


def hold_for_review(
    db: Database, key: str, case_id: int, kind: str, text: str, author: str, author_name: str, why: str
) -> int:
    """The draft for this submission (`key`: a retried submission finds the one it made)."""
    now = utc_now()
    try:
        with writing(db):
            draft_id = new_id(
                db.table("drafts").insert(
                    {
                        "case_id": case_id,
                        "kind": kind,
                        "text": text,
                        "author": author,
                        "author_name": author_name,
                        "why": why,
                        "idempotency_key": key,
                        "status": "pending",
                        "created_at": now,
                        "version": 1,
                        "synced": 0,
                    }
                )
            )
            detail = {"draft_id": draft_id, "kind": kind, "why": why}
            change(db, case_id, EventKind.DRAFT_HELD, author, detail=detail, at=now, read_back=False)
        return draft_id
    except DUPLICATE:
        return int(db.execute("SELECT id FROM drafts WHERE idempotency_key = ?", [key]).fetchone()[0])


def get_draft(db: Database, draft_id: int) -> Draft | None:
    return row_as(Draft, db.execute(f"SELECT {DRAFT_COLUMNS} {DRAFT_FROM} WHERE d.id = ?", [draft_id]))


def decide(db: Database, draft_id: int, outcome: str, lead: str, *, text: str | None = None, note: str = "") -> bool:
    """`approved` (with `text` when the lead edited it) or `sent_back` (with `note`): True for the one
    lead whose decision counts; False when the draft was decided already."""
    now = utc_now()
    with writing(db):
        changed = db.execute(
            "UPDATE drafts SET status = ?, decided_by = ?, decided_at = ?, note = ?, "
            "text = COALESCE(?, text), edited = edited + CASE WHEN ? IS NOT NULL AND ? != text THEN 1 ELSE 0 END, "
            "version = version + 1 "
            "WHERE id = ? AND status = 'pending'",
            [outcome, lead, now, note or None, text, text, text, draft_id],
        ).rowcount
        if changed:
            row = db.execute("SELECT case_id, created_at, edited FROM drafts WHERE id = ?", [draft_id]).fetchone()
            detail: dict[str, object] = {"draft_id": draft_id, "waited_from": row[1]}
            if outcome == "approved":
                detail["edited"] = bool(row[2])
            if note:
                detail["note"] = note
            change(db, row[0], EventKind(f"draft_{outcome}"), lead, detail=detail, at=now, read_back=False)
    return bool(changed)


def link_reply(db: Database, draft_id: int, reply_id: int) -> None:
    """The send an approved draft became (its outcome shows on the draft's message)."""
    db.execute("UPDATE drafts SET reply_id = ?, version = version + 1 WHERE id = ?", [reply_id, draft_id])


def reopen(db: Database, draft_id: int, error: str) -> None:
    """X refused an approved draft: it waits for review again (the refusal is kept as its note)."""
    with writing(db):
        db.execute(
            "UPDATE drafts SET status = 'pending', decided_by = NULL, decided_at = NULL, note = ?, "
            "version = version + 1 WHERE id = ? AND status = 'approved' AND reply_id IS NULL",
            [f"X refused it: {error}", draft_id],
        )


def approved_unsent(db: Database) -> list[Draft]:
    """Approved drafts whose send has not been made (the process died between the two)."""
    return rows_as(
        Draft,
        db.execute(f"SELECT {DRAFT_COLUMNS} {DRAFT_FROM} WHERE d.status = 'approved' AND d.reply_id IS NULL"),
    )


def drafts_to_post(db: Database, case_id: int | None = None) -> list[Draft]:
    """Drafts not yet in their card's thread (once the card is posted)."""
    return _drafts(db, "d.slack_ts IS NULL AND c.slack_ts IS NOT NULL", case_id)


def drafts_to_redraw(db: Database, case_id: int | None = None) -> list[Draft]:
    """Drafts whose thread message is behind their state (decided, sent)."""
    return _drafts(db, "d.slack_ts IS NOT NULL AND d.synced < d.version", case_id)


def _drafts(db: Database, condition: str, case_id: int | None) -> list[Draft]:
    where = "AND d.case_id = ?" if case_id is not None else ""
    return rows_as(
        Draft,
        db.execute(
            f"SELECT {DRAFT_COLUMNS} {DRAFT_FROM} WHERE {condition} {where} ORDER BY d.id LIMIT 200",
            [case_id] if case_id is not None else [],
        ),
    )


def mark_draft_attempt(db: Database, draft_id: int) -> None:
    db.execute(
        "UPDATE drafts SET post_attempted_at = COALESCE(post_attempted_at, ?) WHERE id = ?", [utc_now(), draft_id]
    )


def record_draft_posted(db: Database, draft_id: int, ts: str) -> None:
    db.execute("UPDATE drafts SET slack_ts = ?, synced = version WHERE id = ? AND slack_ts IS NULL", [ts, draft_id])


def mark_draft_synced(db: Database, draft_id: int, version: int) -> None:
    db.execute("UPDATE drafts SET synced = MAX(synced, ?) WHERE id = ?", [version, draft_id])


def take_reminders(db: Database, older_than: timedelta, now: datetime) -> list[Draft]:
    """Pending drafts waiting longer than `older_than`, each returned once ever (to ping the leads once)."""
    cutoff = to_iso(now - older_than)
    with writing(db):
        due = rows_as(
            Draft,
            db.execute(
                f"SELECT {DRAFT_COLUMNS} {DRAFT_FROM} WHERE d.status = 'pending' AND d.reminded_at IS NULL "
                "AND d.created_at <= ? ORDER BY d.id",
                [cutoff],
            ),
        )
        db.conn.executemany(
            "UPDATE drafts SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
            [(to_iso(now), d.id) for d in due],
        )
    return due


def replies_sent_today(db: Database, agent: str, since: str) -> int:
    """Replies and DMs the agent sent (or has on their way) since `since`: their daily count."""
    return int(
        db.execute(
            "SELECT COUNT(*) FROM replies WHERE sent_by = ? AND source = 'perch' AND created_at >= ? "
            "AND status IN ('sent', 'sending', 'unknown')",
            [agent, since],
        ).fetchone()[0]
    )
