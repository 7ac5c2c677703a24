"""Surge incidents in Slack: the incident card, the chunks of its thread that list its tweets, and
both kept up to date as their cases move. Delivered like case cards (`bot.slack.delivery`): two-phase,
found again by their `perch_incident` / `perch_incident_chunk` metadata after a lost answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from bot.blocks.incidents import chunk_message, incident_card
from bot.slack.delivery import Delivery, ThreadItem
from bot.slack.ids import Metadata
from storage.bulk import bulk_candidates, bulk_progress
from storage.chunks import (
    chunk_cases,
    chunk_follow_ups,
    chunks_to_post,
    mark_chunk_attempt,
    mark_chunk_synced,
    record_chunk_posted,
    record_chunk_shown,
    stale_chunks,
)
from storage.db import Store, from_iso, to_iso
from storage.incidents import (
    CHUNK_SIZE,
    Incident,
    get_incident,
    incident_signature,
    incident_stats,
    incidents_to_post,
    mark_incident_attempt,
    mark_incident_synced,
    record_incident_posted,
    stale_incidents,
)

RECENT_INCIDENTS = timedelta(days=2)  # an ended incident's card and thread follow its cases this long


class Tally(Protocol):
    """What the post job counts (its `PostReport`)."""

    reconciled: int
    incidents: int
    updated: int


class IncidentPoster:
    def __init__(
        self, store: Store, delivery: Delivery, channel: str, *, bulk_interval: float, now: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.delivery = delivery
        self.channel = channel
        self.bulk_interval = bulk_interval
        self.now = now
        self._lock = threading.Lock()  # one thread re-renders incident cards at a time

    def post_cards(self, report: Tally) -> None:
        """New incident cards; one whose post may have gone through is looked for first."""
        db = self.store.db
        for incident in incidents_to_post(db):
            if incident.post_attempted_at and (ts := self._in_channel(incident)):
                record_incident_posted(db, incident.id, self._channel_of(incident), ts, 0, None)
                report.reconciled += 1
                continue
            rendered = self._card(incident.id)
            if rendered is None:
                continue
            message, version, signature = rendered
            mark_incident_attempt(db, incident.id)
            channel, ts = self.delivery.post(self._channel_of(incident), message)
            record_incident_posted(db, incident.id, channel, ts, version, signature)
            report.incidents += 1

    def chunk_items(self) -> list[ThreadItem]:
        """The thread messages listing incidents' tweets that are not in Slack yet."""
        db = self.store.db
        items = []
        for row in chunks_to_post(db):
            incident_id, chunk_no = row["incident_id"], row["chunk_no"]
            incident = get_incident(db, incident_id)
            cases, signature = chunk_cases(db, incident_id, chunk_no)
            if incident is None or not cases:
                continue
            items.append(
                ThreadItem(
                    key=f"chunk:{incident_id}:{chunk_no}",
                    channel=row["slack_channel"],
                    thread_ts=row["thread_ts"],
                    attempted=row["post_attempted_at"] is not None,
                    message=self._chunk(incident, chunk_no, cases, thread_ts=row["thread_ts"]),
                    record=partial(
                        record_chunk_posted, db, incident_id, chunk_no, row["slack_channel"], signature=signature
                    ),
                    mark_attempt=partial(mark_chunk_attempt, db, incident_id, chunk_no),
                )
            )
        return items

    def update_cards(self, report: Tally) -> None:
        """Incident cards behind their incident or its cases, drawn again."""
        with self._lock:
            db = self.store.db
            for incident_id in stale_incidents(db, to_iso(self.now() - RECENT_INCIDENTS)):
                incident = get_incident(db, incident_id)
                rendered = self._card(incident_id)
                if incident is None or rendered is None or incident.slack_channel is None or incident.slack_ts is None:
                    continue
                message, version, signature = rendered
                self.delivery.update(incident.slack_channel, incident.slack_ts, message, f"incident {incident_id}")
                mark_incident_synced(db, incident_id, version, signature)
                report.updated += 1

    def update_chunks(self, report: Tally) -> None:
        """Chunks whose tweets changed (taken, answered, a follow-up), or filled up since, drawn again."""
        db = self.store.db
        for chunk in stale_chunks(db, to_iso(self.now() - RECENT_INCIDENTS)):
            incident_id, chunk_no = chunk["incident_id"], chunk["chunk_no"]
            incident = get_incident(db, incident_id)
            cases, signature = chunk_cases(db, incident_id, chunk_no)
            if incident is None or not cases:
                continue
            message = self._chunk(incident, chunk_no, cases, thread_ts="")
            self.delivery.update(chunk["slack_channel"], chunk["slack_ts"], message, f"chunk {incident_id}:{chunk_no}")
            mark_chunk_synced(db, incident_id, chunk_no, signature)
            record_chunk_shown(db, incident_id, chunk_no, chunk["slack_channel"], chunk["slack_ts"])
            report.updated += 1

    def _card(self, incident_id: int) -> tuple[dict[str, Any], int, str] | None:
        """The incident card as it should look now, with the versions it was drawn from."""
        db = self.store.db
        incident = get_incident(db, incident_id)
        if incident is None:
            return None
        signature = incident_signature(db, incident_id)
        message = incident_card(
            incident,
            incident_stats(db, incident_id),
            bulk_progress(db, incident_id),
            bulk_interval=self.bulk_interval,
            candidates=len(bulk_candidates(db, incident_id)),
        )
        return message, incident.card_version, signature

    def _chunk(self, incident: Incident, chunk_no: int, cases: list, *, thread_ts: str) -> dict[str, Any]:
        return chunk_message(
            incident,
            chunk_no,
            cases,
            thread_ts=thread_ts,
            first=(chunk_no - 1) * CHUNK_SIZE + 1,
            follow_ups=chunk_follow_ups(self.store.db, incident.id, chunk_no),
        )

    def _channel_of(self, incident: Incident) -> str:
        """Its queue's channel: a surge is grouped, and carded, per queue."""
        return incident.queue_channel or self.channel

    def _in_channel(self, incident: Incident) -> str | None:
        assert incident.post_attempted_at is not None
        found = self.delivery.find_top_level(
            self._channel_of(incident), from_iso(incident.post_attempted_at), Metadata.INCIDENT, "incident_id"
        )
        return found.get(str(incident.id))
