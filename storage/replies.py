"""What the brand sent on X (public replies and DMs), exactly once, and the team's saved replies.

Each send has an idempotency key (the Slack view it came from). `begin_send` claims the key before
anything goes to X: a retried or double submission finds the key taken and sends nothing. A send whose
outcome X did not confirm (a time-out, a 5xx) is `unknown` until the caller checks X for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.cases import change
from storage.db import new_id, to_iso, utc_now, writing
from storage.engine import Database
from storage.errors import DUPLICATE
from storage.lifecycle import EventKind
from storage.migrations import PERSONAL_DATA_REPLY


@dataclass(frozen=True)
class Begin:
    """`go`: send it now. `sent`: already sent. `in_flight`: another request is sending it.
    `check`: an earlier try's outcome is unknown; look on X before sending again."""

    outcome: str
    reply_id: int
    x_id: str | None = None


CSAT_SOURCE = "csat"  # `replies.source` of the satisfaction question (others: perch, bulk, x.com)
SEND_TIMEOUT = timedelta(seconds=30)  # far beyond the X client's write time-out (a few seconds)


def begin_send(
    db: Database,
    key: str,
    case_id: int,
    kind: str,
    text: str,
    *,
    agent: str,
    agent_name: str = "",
    in_reply_to: str | None = None,
    participant: str | None = None,
    source: str = "perch",
) -> Begin:
    """`source`: `perch` (an agent's reply or DM) or `bulk` (a surge's confirmed status update)."""
    now = utc_now()
    row = {
        "case_id": case_id,
        "idempotency_key": key,
        "kind": kind,
        "source": source,
        "status": "sending",
        "text": text,
        "in_reply_to_tweet_id": in_reply_to,
        "dm_participant_id": participant,
        "sent_by": agent,
        "sent_by_name": agent_name,
        "created_at": now,
        "attempted_at": now,
    }
    try:
        with writing(db):
            reply_id = new_id(db.table("replies").insert(row))
        return Begin("go", reply_id)
    except DUPLICATE:
        pass
    existing = db.execute("SELECT id, status, x_id FROM replies WHERE idempotency_key = ?", [key]).fetchone()
    reply_id, status, x_id = existing
    if status == "sent":
        return Begin("sent", reply_id, x_id)
    if status == "unknown" or (status == "sending" and give_up_waiting(db, reply_id)):
        return Begin("check", reply_id)
    if status == "failed":
        retried = db.execute(
            "UPDATE replies SET status = 'sending', text = ?, in_reply_to_tweet_id = ?, sent_by = ?, "
            "sent_by_name = ?, error = NULL, attempted_at = ? WHERE id = ? AND status = 'failed'",
            [text, in_reply_to, agent, agent_name, now, reply_id],
        ).rowcount
        if retried:
            return Begin("go", reply_id)
    return Begin("in_flight", reply_id)


def reply_id_for_key(db: Database, key: str) -> int | None:
    row = db.execute("SELECT id FROM replies WHERE idempotency_key = ?", [key]).fetchone()
    return int(row[0]) if row else None


def give_up_waiting(db: Database, reply_id: int) -> bool:
    """A send stuck in `sending` past `SEND_TIMEOUT` (its process died before X answered) becomes
    `unknown`, to be checked against X; True when it did (or already was unknown)."""
    cutoff = to_iso(datetime.now(UTC) - SEND_TIMEOUT)
    db.execute(
        "UPDATE replies SET status = 'unknown', error = 'no answer from X before the process stopped' "
        "WHERE id = ? AND status = 'sending' AND attempted_at < ?",
        [reply_id, cutoff],
    )
    row = db.execute("SELECT status FROM replies WHERE id = ?", [reply_id]).fetchone()
    return bool(row and row[0] == "unknown")


def give_up_send(db: Database, key: str, error: str) -> None:
    """Stop settling a send (the bulk job moved on from it): it counts as not sent from now on."""
    db.execute(
        "UPDATE replies SET status = 'failed', error = ? "
        "WHERE idempotency_key = ? AND status IN ('sending', 'unknown')",
        [error[:500], key],
    )


def sends_to_reconcile(db: Database) -> list[dict[str, Any]]:
    """Sends whose outcome nobody knows: `unknown`, or `sending` for longer than `SEND_TIMEOUT`."""
    cutoff = to_iso(datetime.now(UTC) - SEND_TIMEOUT)
    return list(
        db.query(
            "SELECT id, idempotency_key, case_id, kind, source, text, in_reply_to_tweet_id, dm_participant_id, "
            "sent_by, sent_by_name FROM replies WHERE (status = 'unknown' OR status = 'sending') "
            "AND attempted_at < ? ORDER BY id",
            [cutoff],
        )
    )


def retry_unknown(db: Database, reply_id: int, text: str) -> bool:
    """After checking X found nothing: take the send back (one caller wins) to try it again."""
    return bool(
        db.execute(
            "UPDATE replies SET status = 'sending', text = ?, error = NULL, attempted_at = ? "
            "WHERE id = ? AND status = 'unknown'",
            [text, utc_now(), reply_id],
        ).rowcount
    )


def mark_failed(db: Database, reply_id: int, error: str, *, unknown: bool = False) -> None:
    db.execute(
        "UPDATE replies SET status = ?, error = ? WHERE id = ?",
        ["unknown" if unknown else "failed", error[:500], reply_id],
    )


def mark_sent(db: Database, reply_id: int, x_id: str | None) -> dict[str, Any]:
    """Record what X accepted, and what it means for the case: a first response, an implicit claim
    (not for a bulk status reply: the agent who confirmed it did not take every case). The satisfaction
    question (`CSAT_SOURCE`) answers nothing: no first response, no step of the case."""
    now = utc_now()
    with writing(db):
        changed = db.execute(
            "UPDATE replies SET status = 'sent', x_id = ?, sent_at = ?, error = NULL WHERE id = ? AND status != 'sent'",
            [x_id, now, reply_id],
        ).rowcount
        reply = db.table("replies").get(reply_id)
        if not changed:  # recorded already (found on X by the poll, or by another request): once only
            return reply
        case_id, agent = reply["case_id"], reply["sent_by"]
        if reply["source"] == CSAT_SOURCE:
            return reply
        if reply["source"] != "bulk":
            change(db, case_id, EventKind.CLAIMED, agent, detail={"implicit": True}, at=now, read_back=False)
        detail = {"reply_id": reply_id, "x_id": x_id, "kind": reply["kind"], "name": reply["sent_by_name"]}
        if reply["source"] == "bulk":
            detail["bulk"] = True
        change(db, case_id, _sent_kind(reply["kind"]), agent, detail=detail, at=now, read_back=False)
    return reply


def mark_moved_to_dm(db: Database, case_id: int, agent: str, detail: dict[str, Any]) -> None:
    change(db, case_id, EventKind.MOVED_TO_DM, agent, detail=detail, read_back=False)


def _sent_kind(reply_kind: str) -> EventKind:
    """The case's step for what the brand sent: a public reply, or a DM."""
    return EventKind.REPLIED if reply_kind == "reply" else EventKind.DM_SENT


def record_outside_replies(db: Database, brand_tweets: list[Any]) -> list[int]:
    """The brand's own tweets that reply into a case's conversation count as that case's response.

    Tweets Perch sent itself (known by id) are skipped; one that answers a tweet Perch was sending a
    reply to with no word from X yet is that send, which went out after all. Returns the cases whose
    first-response clock (or thread) changed.
    """
    touched = []
    for tweet in brand_tweets:
        if not tweet.in_reply_to_tweet_id or _known_reply(db, tweet):
            continue
        unconfirmed = db.execute(
            "SELECT id, case_id FROM replies WHERE status IN ('sending', 'unknown') AND kind = 'reply' "
            "AND in_reply_to_tweet_id = ? ORDER BY id LIMIT 1",
            [tweet.in_reply_to_tweet_id],
        ).fetchone()
        if unconfirmed is not None:
            mark_sent(db, unconfirmed[0], tweet.id)
            touched.append(unconfirmed[1])
            continue
        case_id = _case_replied_to(db, tweet)
        if case_id is None:
            continue
        with writing(db):
            record_sent_elsewhere(
                db,
                case_id,
                "reply",
                tweet.id,
                tweet.text,
                tweet.created_at,
                in_reply_to=tweet.in_reply_to_tweet_id,
            )
        touched.append(case_id)
    return touched


def record_sent_elsewhere(
    db: Database,
    case_id: int,
    kind: str,
    x_id: str,
    text: str,
    at: str,
    *,
    in_reply_to: str | None = None,
    participant: str | None = None,
) -> int:
    """A reply or DM the brand sent on x.com (not through Perch): recorded as sent, and the case's
    response from then on (its first response, if it came first). Returns the reply row's id."""
    reply_id = new_id(
        db.table("replies").insert(
            {
                "case_id": case_id,
                "idempotency_key": f"x:{x_id}",
                "kind": kind,
                "source": "x.com",
                "status": "sent",
                "text": text,
                "in_reply_to_tweet_id": in_reply_to,
                "dm_participant_id": participant,
                "x_id": x_id,
                "created_at": at,
                "sent_at": at,
            }
        )
    )
    detail = {"reply_id": reply_id, "x_id": x_id, "kind": kind, "source": "x.com"}
    change(db, case_id, _sent_kind(kind), "x.com", detail=detail, at=at, read_back=False)
    return reply_id


def _known_reply(db: Database, tweet: Any) -> bool:
    return db.execute("SELECT 1 FROM replies WHERE x_id = ?", [tweet.id]).fetchone() is not None


def _case_replied_to(db: Database, tweet: Any) -> int | None:
    """The case holding the tweet replied to; else the latest case in that conversation."""
    row = db.execute(
        "SELECT case_id FROM tweets WHERE id = ? AND case_id IS NOT NULL", [tweet.in_reply_to_tweet_id]
    ).fetchone()
    if row:
        return row[0]
    row = db.execute(
        "SELECT id FROM cases WHERE conversation_id = ? ORDER BY id DESC LIMIT 1", [tweet.conversation_id]
    ).fetchone()
    return row[0] if row else None


# -- the case's thread ----------------------------------------------------------------------------


def sent_replies(db: Database, case_id: int) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT id, kind, source, text, x_id, sent_by, sent_by_name, sent_at FROM replies "
            "WHERE case_id = ? AND status = 'sent' ORDER BY sent_at, id",
            [case_id],
        )
    )


def notes_to_post(db: Database, case_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Sent replies not yet noted in their card's thread."""
    where = "AND r.case_id = ?" if case_id is not None else ""
    return list(
        db.query(
            "SELECT r.id, r.case_id, r.kind, r.source, r.text, r.x_id, r.sent_by, r.sent_by_name, "
            "r.note_attempted_at, "
            "c.slack_channel, c.slack_ts AS thread_ts FROM replies r JOIN cases c ON c.id = r.case_id "
            f"WHERE r.status = 'sent' AND r.slack_ts IS NULL AND c.slack_ts IS NOT NULL {where} "
            "ORDER BY r.sent_at, r.id "
            "LIMIT ?",
            ([case_id] if case_id is not None else []) + [limit],
        )
    )


def mark_note_attempt(db: Database, reply_id: int) -> None:
    db.execute(
        "UPDATE replies SET note_attempted_at = COALESCE(note_attempted_at, ?) WHERE id = ?", [utc_now(), reply_id]
    )


def record_note_posted(db: Database, reply_id: int, ts: str) -> None:
    db.execute("UPDATE replies SET slack_ts = ? WHERE id = ? AND slack_ts IS NULL", [ts, reply_id])


# -- saved replies --------------------------------------------------------------------------------


def saved_replies(db: Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT id, name, text FROM saved_replies ORDER BY name COLLATE NOCASE"))


def reply_created_at(db: Database, reply_id: int) -> str:
    """When the send was first asked for (the outbox looks for it on X from then on)."""
    return str(db.table("replies").get(reply_id)["created_at"])


def saved_reply_named(db: Database, name: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT id, name, text FROM saved_replies WHERE name = ? COLLATE NOCASE", [name]))
    return rows[0] if rows else None


def personal_data_reply(db: Database) -> str | None:
    """The saved reply that asks a customer to delete a post showing personal data (unless removed)."""
    row = saved_reply_named(db, PERSONAL_DATA_REPLY)
    return str(row["text"]) if row else None


def get_saved_reply(db: Database, reply_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT id, name, text FROM saved_replies WHERE id = ?", [reply_id]))
    return rows[0] if rows else None


def add_saved_reply(db: Database, name: str, text: str, user: str) -> bool:
    """False when a saved reply of that name exists already."""
    try:
        with writing(db):
            db.table("saved_replies").insert({"name": name, "text": text, "created_by": user, "created_at": utc_now()})
    except DUPLICATE:
        return False
    return True


def remove_saved_reply(db: Database, name: str) -> bool:
    return bool(db.execute("DELETE FROM saved_replies WHERE name = ? COLLATE NOCASE", [name]).rowcount)
