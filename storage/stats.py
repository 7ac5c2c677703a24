"""Percentiles, groups and overlaps over a report's columns: numpy arrays with one value per case (NaN
where a duration does not exist), so a month of a busy queue is sorted and counted in C, not case by
case. Pure: the SQL that fills the columns is in `storage/report_cases.py` and the report's other
modules (`metrics`, `breakdowns`, `case_rows`, `report_dms`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import numpy.typing as npt

Seconds = npt.NDArray[np.float64]  # one value per case (or hold); NaN: none
Codes = npt.NDArray[np.int64]  # one group number per case; -1: in no group
Rows = npt.NDArray[np.intp]  # positions of some cases in the columns


def _rank(p: float, count: int) -> int:
    """The position (from 0) of the nearest-rank percentile `p` among `count` sorted values."""
    return max(1, math.ceil(p / 100 * count)) - 1


def percentile(ordered: Sequence[float] | Seconds, p: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    return float(ordered[_rank(p, len(ordered))]) if len(ordered) else None


def _ms(seconds: float | None) -> float | None:
    """Julian-day arithmetic is exact to about 10 µs: report to the millisecond."""
    return None if seconds is None else round(seconds, 3)


@dataclass(frozen=True)
class Stat:
    """Percentiles over `count` values (seconds); None when there were none."""

    count: int
    p50: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Stat:
        return cls.of_sorted(sorted([v for v in values if v is not None]))

    @classmethod
    def of_sorted(cls, ordered: Sequence[float] | Seconds) -> Stat:
        return cls(len(ordered), _ms(percentile(ordered, 50)), _ms(percentile(ordered, 90)))

    @classmethod
    def of_column(cls, values: Seconds) -> Stat:
        """From a column with NaN for the missing: only the two ranks are put in place, not all."""
        present = values[~np.isnan(values)]
        if not present.size:
            return cls(0, None, None)
        ranks = [_rank(50, present.size), _rank(90, present.size)]
        placed = np.partition(present, ranks)
        return cls(int(present.size), _ms(float(placed[ranks[0]])), _ms(float(placed[ranks[1]])))


def column(values: Sequence[float | None]) -> Seconds:
    """A column of durations (None becomes NaN)."""
    return np.array(values, dtype=np.float64)


def sorted_present(values: Seconds) -> Seconds:
    return np.sort(values[~np.isnan(values)])


def above(ordered: Seconds, target: float) -> int:
    """How many sorted durations exceed `target` once rounded to the millisecond (as they are shown):
    only the few within a millisecond of it are rounded one by one."""
    low = int(np.searchsorted(ordered, target - 0.001, side="left"))
    high = int(np.searchsorted(ordered, target + 0.001, side="right"))
    return int(ordered.size) - high + sum(1 for value in ordered[low:high] if round(float(value), 3) > target)


def group_codes(names: Sequence[str | None] | npt.NDArray[np.object_]) -> tuple[list[str], Codes]:
    """The distinct names (empty and None left out), sorted, and each row's position among them."""
    distinct = sorted(name for name in dict.fromkeys(names) if name)
    position: dict[str | None, int] = {name: index for index, name in enumerate(distinct)}
    return distinct, np.fromiter(map(position.get, names, repeat(-1)), dtype=np.int64, count=len(names))


def groups(codes: Codes, count: int) -> list[Rows]:
    """The rows of each group 0 … count-1 (one stable sort, then cut where the code changes)."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(count + 1), side="left")
    return [order[bounds[index] : bounds[index + 1]] for index in range(count)]


def counts_by(keys: npt.NDArray[np.int64]) -> dict[int, int]:
    """How many rows have each key (non-negative), for the keys present, in key order."""
    if not keys.size:
        return {}
    tally = np.bincount(keys)
    return {int(key): int(tally[key]) for key in np.flatnonzero(tally)}


def concurrency(began: Seconds, ended: Seconds) -> tuple[int, float | None, float]:
    """(peak, time-weighted median while holding any, time holding any) of spans [began, ended), each
    ended after it began: one sort of their edges (at the same instant an end before a start), a
    running count, and the time spent at each count."""
    if not began.size:
        return 0, None, 0.0
    instants = np.concatenate([ended, began])
    steps = np.concatenate([np.full(ended.size, -1, dtype=np.int64), np.ones(began.size, dtype=np.int64)])
    order = np.lexsort((steps, instants))
    instants, held_after = instants[order], np.cumsum(steps[order])
    time_at = np.bincount(held_after[:-1], weights=np.diff(instants))  # count held → time at it
    running = np.cumsum(time_at[1:])  # at 1, 2, … cases
    total = float(running[-1]) if running.size else 0.0
    if not total:
        return int(held_after.max()), None, total
    median = int(np.searchsorted(running, total / 2, side="left")) + 1
    return int(held_after.max()), float(median), total
