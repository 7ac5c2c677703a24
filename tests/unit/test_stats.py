"""The report's column arithmetic (storage/stats.py) against the plain definitions in docs/metrics.md."""

from __future__ import annotations

import math
import random

import numpy as np

from storage.stats import Stat, above, column, concurrency, counts_by, group_codes, groups, percentile


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def test_percentiles_of_a_column_are_the_nearest_rank_ones_with_the_missing_left_out():
    rng = random.Random(7)
    for size in (1, 2, 3, 9, 10, 11, 99, 100, 101, 2_500):
        values = [rng.choice([None, rng.uniform(0, 90_000), float(rng.randint(0, 50))]) for _ in range(size)]
        present = [v for v in values if v is not None]
        stat = Stat.of_column(column(values))
        assert stat == Stat.of(values), size
        if present:
            assert stat.count == len(present)
            assert stat.p50 == round(nearest_rank(present, 50), 3) and stat.p90 == round(nearest_rank(present, 90), 3)
    assert Stat.of_column(column([None, None])) == Stat(0, None, None) == Stat.of_column(column([]))
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90) == 9.0  # rank ⌈0.9·10⌉ = 9


def test_above_a_target_counts_what_is_shown_above_it_once_rounded_to_the_millisecond():
    ordered = np.sort(column([3599.9, 3600.0, 3600.0004, 3600.0006, 3600.0015, 3601.0, 7200.0]))
    assert above(ordered, 3600) == 4  # 3600.0004 shows as 3600.000; 3600.0006 as 3600.001
    assert above(np.sort(column([])), 60) == 0
    assert above(ordered, 0) == 7


def test_groups_leave_out_cases_without_a_name_and_keep_each_groups_rows():
    names, codes = group_codes(["U2", None, "U1", "", "U2", "U1", "U2"])
    assert names == ["U1", "U2"]
    assert [rows.tolist() for rows in groups(codes, len(names))] == [[2, 5], [0, 4, 6]]
    assert counts_by(np.array([3, 1, 3, 3], dtype=np.int64)) == {1: 1, 3: 3}
    assert counts_by(np.array([], dtype=np.int64)) == {}


def spans(*pairs: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    return column([a for a, _ in pairs]), column([b for _, b in pairs])


def test_concurrency_peak_median_and_time_held():
    # 0–60, 30–45 and 40–50: 1 at once for 40 min, 2 for 10, 3 for 5 … of 60 minutes held.
    peak, median, total = concurrency(*spans((0, 60), (30, 45), (40, 50)))
    assert (peak, median, total) == (3, 1.0, 60.0)
    # Mostly two at once: the median follows the time, not the number of changes.
    assert concurrency(*spans((0, 100), (10, 90), (95, 96))) == (2, 2.0, 100.0)
    # One ends as the next begins: never two at once; a gap is not time held.
    assert concurrency(*spans((0, 10), (10, 20), (30, 40))) == (1, 1.0, 30.0)
    assert concurrency(*spans()) == (0, None, 0.0)
