"""A report's durations in business time (docs/metrics.md, "Business hours"), when BUSINESS_HOURS is set.

Storage has no rule of its own for open hours: the clock is handed in (`BusinessClock`), and each case's
instants, read by the report's pass as Unix seconds, are turned into open seconds in one call. Kept apart
because the report (`storage/metrics.py`) and its CSV (`storage/case_rows.py`) both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from storage.stats import Seconds, Stat


class BusinessClock(Protocol):
    """Business hours (BUSINESS_HOURS), handed in so storage needs no rule of its own."""

    def open_seconds(self, instants: Seconds) -> Seconds:
        """For each instant (Unix seconds; NaN: none), the open seconds since a fixed origin."""
        ...


@dataclass(frozen=True)
class BusinessTimes:
    """Durations counting only business hours (docs/metrics.md, "Business hours")."""

    time_to_claim: Stat
    time_to_first_response: Stat
    time_to_resolve: Stat


def instants(offsets: dict[str, Seconds]) -> dict[str, Seconds]:
    """Each case's instants that were read, as Unix seconds (NaN: none), from its arrival (Unix
    milliseconds) and the milliseconds from it to each later instant."""
    arrived = offsets["arrived"]
    return {name: (arrived if name == "arrived" else arrived + offsets[name]) / 1000.0 for name in offsets}


def business_times(
    clock: BusinessClock, instants: dict[str, Seconds], now: datetime, target: float
) -> tuple[BusinessTimes | None, int]:
    """The durations in business time (when every instant was read; None for a headline), and the SLA
    breaches counted in it (an unanswered case breaches once the business time since its tweet passes
    the target)."""
    spans = open_durations(clock, instants, now)
    waited_ms = np.rint(np.where(np.isnan(spans["first"]), spans["waiting"], spans["first"]) * 1000)
    breaches = int(np.count_nonzero(waited_ms > round(target * 1000)))
    if not all(name in spans for name in ("claim", "resolve")):
        return None, breaches
    claim, first, resolve = (Stat.of_column(spans[name]) for name in ("claim", "first", "resolve"))
    return BusinessTimes(claim, first, resolve), breaches


# Each duration in business time, between the two instants named (docs/metrics.md, "Business hours").
_SPANS = {"claim": ("posted", "claimed"), "first": ("arrived", "answered"), "resolve": ("arrived", "resolved")}


def open_durations(clock: BusinessClock, instants: dict[str, Seconds], now: datetime) -> dict[str, Seconds]:
    """Per case: its claim, first response and resolve in business time (those whose two instants are
    among `instants`), and the business time from its arrival until now (NaN where there is none)."""
    count = instants["arrived"].size
    at = clock.open_seconds(np.concatenate([*instants.values(), [now.timestamp()]]))
    opened = {name: at[n * count : (n + 1) * count] for n, name in enumerate(instants)}

    def between(start: Seconds, end: Seconds) -> Seconds:
        return np.maximum(end - start, 0.0)  # NaN stays NaN

    spans = {span: between(opened[a], opened[b]) for span, (a, b) in _SPANS.items() if a in opened and b in opened}
    spans["waiting"] = between(opened["arrived"], np.full(count, at[-1]))
    return spans
