"""The report's picture: how long customers waited for a first response, and when tweets arrived."""

from __future__ import annotations

import io

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
    """A PNG with two panels: first-response time distribution, and volume by hour of day."""
    waits = [seconds / 60 for seconds in report.first_responses]
    counts = [0] * len(BUCKETS)
    for minutes in waits:
        counts[next(i for i, (upper, _) in enumerate(BUCKETS) if minutes < upper)] += 1
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
