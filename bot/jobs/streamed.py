"""What X's activity stream brings, stored as the polls store it: the same storage calls, the same
triage, the post job woken, so a customer's DM is in the card's thread within seconds.

A DM or post the stream brought is also read again by the polls (they stay the reconciler): storage
refuses a second copy by id (`store_dms`, `store_tweets`), and the cursors are left to the polls. Each
event is counted as X bills it (`DM_EVENT`, `POST_EVENT`), apart from the reads of the same items.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.jobs.ingest import Ingestor, IngestReport
from bot.x.activity import Activity
from storage.dms import store_dms
from storage.usage import DM_EVENT, POST_EVENT, record_reads

log = logging.getLogger(__name__)


class StreamedItems:
    """The stream reader's `on_activity`: runs in the reader's thread."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor

    def __call__(self, activity: Activity) -> None:
        ingestor = self.ingestor
        account = ingestor.account or ingestor.x.account  # the stream may connect before the first poll
        if account is None or (activity.user_id and activity.user_id != account.id):
            return  # not the brand's (another account's subscription on the app's one stream)
        db = ingestor.store.db
        day = datetime.fromtimestamp(ingestor.clock(), UTC).strftime("%Y-%m-%d")
        if activity.dms:
            record_reads(db, DM_EVENT, (d.id for d in activity.dms), day)
            result = store_dms(db, activity.dms, account.id)  # no cursor: the DM sweep keeps its own
            ingestor.triage.new_cases(result.cases_opened)
            if result.stored:
                ingestor.on_stored()
                log.info("Stored %d DM events from the activity stream", result.stored)
        if activity.tweets:
            record_reads(db, POST_EVENT, (t.id for t in activity.tweets), day)
            report = IngestReport()
            ingestor.store_customers(activity.tweets, None, report)  # as a mentions poll stores them
            if report.stored:
                log.info("Stored %d mentions from the activity stream", report.stored)
