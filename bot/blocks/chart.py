"""The report's picture: how long customers waited for a first response, and when tweets arrived.

Charts are drawn from many listener threads and the digest job at once, so each is its own `Figure`
on its own Agg canvas: pyplot's global "current figure" is never touched (no `pyplot` import at all)."""

from __future__ import annotations

import io
from bisect import bisect_left
from itertools import pairwise

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from storage.metrics import Report

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
    figure = Figure(figsize=(16 if report.daily else 11, 4), dpi=100)
    FigureCanvasAgg(figure)  # this figure's own renderer, shared with no other thread
    left, right, *rest = figure.subplots(1, 3 if report.daily else 2)
    for trend in rest:
        _trend(trend, report)
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
    return out.getvalue()


def _trend(axis: Axes, report: Report) -> None:
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
