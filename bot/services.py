"""What listeners need, built once and handed to each through Bolt's context (`context["perch"]`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from bot.config import Settings
from bot.domain.locations import Detectors
from bot.domain.pii import PiiDetector
from bot.jobs.ingest import Ingestor
from bot.jobs.post import Poster
from bot.jobs.review import Reviewer
from bot.sending import Sender
from bot.slack.permissions import Gatekeeper
from bot.x.client import XClient
from bot.x.outbox import Outbox
from storage.db import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    x: XClient
    gate: Gatekeeper
    poster: Poster
    outbox: Outbox
    detectors: Detectors
    pii: PiiDetector
    review: Reviewer
    ingestor: Ingestor | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))  # what "today" is to the commands

    @cached_property
    def sender(self) -> Sender:
        """Sending as the brand from the forms, built from the parts above."""
        summoned_only = not self.settings.x_reply_anywhere
        return Sender(
            self.store,
            self.outbox,
            self.review,
            self.gate,
            self.pii,
            self.poster.sync_case,
            summoned_only=summoned_only,
        )


def services(context: Any) -> Services:
    return context["perch"]
