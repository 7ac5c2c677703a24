"""The report's picture: how long customers waited for a first response, and when tweets arrived."""

from __future__ import annotations

import io
from bisect import bisect_left
from itertools import pairwise

import matplotlib

matplotlib.use("Agg")  # no screen: render to PNG bytes
import matplotlib.pyplot as plt  # noqa: E402

from storage.metrics import Report  # noqa: E402

BUCKETS = [
    (5, "<5m"),
    (15, "5–15m"),
    (30, "15–30m"),
    (60, "30–60m"),
    (120, "1–2h"),
    (240, "2–4h"),
    (1440, "4–24h"),
    (float("inf"), ">1d"),
]


def report_chart(report: Report, label: str) -> bytes:
    """A PNG with two panels, first-response time distribution and volume by hour of day, and for a
    period longer than two days a third: the daily trend of volume and p50 first response."""
    waits = report.first_responses  # sorted: each bucket is counted by where its bound falls
    bounds = [bisect_left(waits, upper * 60) for upper, _ in BUCKETS]
    counts = [high - low for low, high in pairwise([0, *bounds])]
    if report.daily:
        figure, axes = plt.subplots(1, 3, figsize=(16, 4), dpi=100)
        left, right, trend = axes
        _trend(trend, report)
    else:
        figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    left.bar([name for _, name in BUCKETS], counts, color="#1d3557")
    left.set_title(f"Time to first response ({len(waits)} answered)")
    left.set_ylabel("cases")
    left.tick_params(axis="x", labelrotation=30)
    target = report.sla_target_minutes
    left.annotate(
        f"SLA {target:g}m · {report.sla_breaches} breaches",
        xy=(0.98, 0.95),
        xycoords="axes fraction",
        ha="right",
        va="top",
        fontsize=9,
    )
    hours = list(range(24))
    right.bar(hours, [report.by_hour.get(h, 0) for h in hours], color="#e76f51")
    right.set_title("Tweets by hour of day")
    right.set_xlabel("hour")
    right.set_xticks(range(0, 24, 3))
    figure.suptitle(f"Perch · {label}")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    plt.close(figure)
    return out.getvalue()


def _trend(axis: plt.Axes, report: Report) -> None:
    """Cases per day (bars) and the day's p50 first response in minutes (line, right-hand scale)."""
    days = [d.day[5:] for d in report.daily]  # MM-DD
    axis.bar(days, [d.volume for d in report.daily], color="#a8dadc")
    axis.set_title("Daily: cases (bars) · p50 first response (line)")
    axis.set_ylabel("cases")
    step = max(1, len(days) // 10)
    axis.set_xticks(range(0, len(days), step))
    axis.set_xticklabels(days[::step], rotation=30)
    minutes = axis.twinx()
    minutes.plot(
        days,
        [d.first_response_p50 / 60 if d.first_response_p50 is not None else float("nan") for d in report.daily],
        color="#e63946",
        marker="o",
        markersize=3,
    )
    minutes.set_ylabel("p50 first response (min)")
