"""What waits to be posted in the cases' threads, as the `ThreadItem`s the delivery posts exactly once.

Follow-ups, DMs, notes of what the brand sent, Perch's own case notes and drafts held for review: each
kind with its message and how its attempt and its post are written down. Kept apart from the post job's
rounds (`bot/jobs/post.py`), which post them a few at a time between new cards.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from bot.blocks.review import draft_message
from bot.blocks.threads import case_note_message, dm_message, follow_up_message, reply_note
from bot.slack.delivery import ThreadItem
from storage.dms import dms_to_post, mark_dm_attempt, record_dm_posted
from storage.drafts import drafts_to_post, mark_draft_attempt, record_draft_posted
from storage.engine import Database
from storage.follow_ups import follow_ups_to_post, mark_follow_up_attempt, record_follow_up_posted
from storage.notes import case_notes_to_post, mark_case_note_attempt, record_case_note_posted
from storage.replies import mark_note_attempt, notes_to_post, record_note_posted


def thread_items_to_post(
    db: Database,
    *,
    brand_handle: Callable[[], str],
    lead_group: str | None,
    case_id: int | None = None,
) -> list[ThreadItem]:
    """Every thread message waiting to be posted (of one case, or of all), in this order: follow-ups,
    DMs, reply notes, case notes, drafts."""
    return [
        *_follow_ups(db, case_id),
        *_dms(db, case_id),
        *_reply_notes(db, case_id, brand_handle),
        *_case_notes(db, case_id),
        *_drafts(db, case_id, lead_group),
    ]


def _follow_ups(db: Database, case_id: int | None) -> list[ThreadItem]:
    return [
        ThreadItem(
            key=f"follow_up:{f.tweet_id}",
            channel=f.slack_channel,
            thread_ts=f.thread_ts,
            attempted=f.post_attempted_at is not None,
            message=follow_up_message(f),
            record=partial(record_follow_up_posted, db, f.tweet_id),
            mark_attempt=partial(mark_follow_up_attempt, db, f.tweet_id),
        )
        for f in follow_ups_to_post(db, case_id=case_id)
    ]


def _dms(db: Database, case_id: int | None) -> list[ThreadItem]:
    return [
        ThreadItem(
            key=f"dm:{d.dm_event_id}",
            channel=d.slack_channel,
            thread_ts=d.thread_ts,
            attempted=d.post_attempted_at is not None,
            message=dm_message(d),
            record=partial(record_dm_posted, db, d.dm_event_id),
            mark_attempt=partial(mark_dm_attempt, db, d.dm_event_id),
        )
        for d in dms_to_post(db, case_id=case_id)
    ]


def _reply_notes(db: Database, case_id: int | None, brand_handle: Callable[[], str]) -> list[ThreadItem]:
    return [
        ThreadItem(
            key=f"reply:{n['id']}",
            channel=n["slack_channel"],
            thread_ts=n["thread_ts"],
            attempted=n["note_attempted_at"] is not None,
            message=reply_note(n, brand_handle()),
            record=partial(record_note_posted, db, n["id"]),
            mark_attempt=partial(mark_note_attempt, db, n["id"]),
        )
        for n in notes_to_post(db, case_id=case_id)
    ]


def _case_notes(db: Database, case_id: int | None) -> list[ThreadItem]:
    return [
        ThreadItem(
            key=f"note:{n['id']}",
            channel=n["slack_channel"],
            thread_ts=n["thread_ts"],
            attempted=n["note_attempted_at"] is not None,
            message=case_note_message(n),
            record=partial(record_case_note_posted, db, n["id"]),
            mark_attempt=partial(mark_case_note_attempt, db, n["id"]),
        )
        for n in case_notes_to_post(db, case_id=case_id)
    ]


def _drafts(db: Database, case_id: int | None, lead_group: str | None) -> list[ThreadItem]:
    return [
        ThreadItem(
            key=f"draft:{d.id}",
            channel=d.slack_channel or "",
            thread_ts=d.thread_ts or "",
            attempted=d.post_attempted_at is not None,
            message={"thread_ts": d.thread_ts, **draft_message(d, lead_group)},
            record=partial(record_draft_posted, db, d.id),
            mark_attempt=partial(mark_draft_attempt, db, d.id),
        )
        for d in drafts_to_post(db, case_id=case_id)
    ]
