"""What listeners need, built once and handed to each through Bolt's context (`context["perch"]`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.ingest import Ingestor
from bot.locations import Detectors
from bot.outbox import Outbox
from bot.permissions import Gatekeeper
from bot.poster import Poster
from bot.x_client import XClient
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
    ingestor: Ingestor | None = None


def services(context: Any) -> Services:
    return context["perch"]
