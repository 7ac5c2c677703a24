"""The paced sender of a surge's status update, as one public reply per customer, once an agent confirmed it.

Never automatic: recipients are only ever those an agent confirmed in the Reply-to-everyone modal
(`storage.incidents.start_bulk`). The job sends one reply per run and runs every
BULK_REPLY_INTERVAL_SECONDS (default 36 s: X allows a user about 300 posts in 3 hours). Each reply
goes through the outbox with the key `bulk:<incident>:<customer>`, so a customer gets it at most once,
also across a crash or an X time-out. Each reply opens with the customer's @handle. When X says the
limit is used up, sending pauses until it resets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.slack.ids import X_HANDLE
from bot.x.outbox import Outbox
from storage.bulk import next_bulk_target, record_bulk_result
from storage.cases import reply_target
from storage.db import Store
from storage.replies import give_up_send

log = logging.getLogger(__name__)


LONGEST_ADDRESS = "@" + "x" * 15 + " "  # what `addressed` may add: the status must leave room for it


def addressed(handle: str, status: str) -> str:
    """The status as a reply to one customer, opened with their @handle as the Reply modal does: every
    reply is then distinct (X refuses an account's duplicate texts) and reads as written to them."""
    return f"@{handle} {status}" if X_HANDLE.match(handle or "") else status


MAX_UNCONFIRMED = 3


class BulkReplier:
    def __init__(self, store: Store, outbox: Outbox, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.paused_until = 0.0
        self._unconfirmed: dict[str, int] = {}  # tries X did not confirm, per recipient

    def run(self) -> str | None:
        """Send the next confirmed reply; returns what happened (`sent`, `refused`, …) or None if idle."""
        if self.clock() < self.paused_until:
            return None
        db = self.store.db
        target = next_bulk_target(db)
        if target is None:
            return None
        incident_id, author_id, case_id = target["incident_id"], target["author_id"], target["case_id"]
        in_reply_to = reply_target(db, case_id)
        if in_reply_to is None:
            record_bulk_result(db, incident_id, author_id, "failed", "the customer's tweet is not stored")
            return "failed"
        text = addressed(target["author_handle"], target["status_text"])
        key = f"bulk:{incident_id}:{author_id}"
        sent = self.outbox.reply(
            case_id,
            in_reply_to,
            text,
            key=key,
            agent=target["bulk_by"],
            agent_name=target["bulk_by_name"] or "",
            source="bulk",
        )
        if sent.delivered:
            self._unconfirmed.pop(key, None)
            record_bulk_result(db, incident_id, author_id, "sent")
            return "sent"
        if sent.status == "refused":
            self._unconfirmed.pop(key, None)
            record_bulk_result(db, incident_id, author_id, "failed", sent.message)
            log.warning("Bulk reply to case %s refused: %s", case_id, sent.message)
            return "refused"
        if sent.status == "rate_limited" and sent.retry_at:
            self.paused_until = sent.retry_at
            log.warning("Bulk replies paused: %s", sent.message)
            return sent.status
        self._unconfirmed[key] = tries = self._unconfirmed.get(key, 0) + 1
        if tries >= MAX_UNCONFIRMED:  # move on: one customer X keeps not confirming must not stop the rest
            del self._unconfirmed[key]
            error = f"X did not confirm it after {tries} tries"
            give_up_send(db, key, error)
            record_bulk_result(db, incident_id, author_id, "failed", error)
            log.warning("Bulk reply to case %s given up after %s unconfirmed tries", case_id, tries)
            return "failed"
        return sent.status  # unknown or in_flight: the same customer is tried again (checked on X first)
