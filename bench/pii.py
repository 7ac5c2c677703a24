"""The personal-data detector on the real texts in `data/`: false alarms on the brands' own replies, what
it finds in customers' public posts, and how long a check takes.

    .venv/bin/python bench/pii.py [--patterns 'booking reference=…'] [--region US]

With no `--patterns`, an airline's booking reference format is used (six letters and digits, both
present, not a US aircraft tail number).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.domain.pii import PiiDetector, parse_patterns  # noqa: E402

AIRLINE_BOOKING = r"booking reference=\b(?!N\d)(?=[A-Z]*\d)(?=\d*[A-Z])[A-Z0-9]{6}\b"


def texts(name: str, column: str, keep: dict[str, str] | None = None) -> list[str]:
    with (ROOT / "data" / name).open(encoding="utf-8") as file:
        return [row[column] for row in csv.DictReader(file) if all(row[k] == v for k, v in (keep or {}).items())]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patterns", default=AIRLINE_BOOKING)
    parser.add_argument("--region", default="US")
    args = parser.parse_args()
    detector = PiiDetector(args.region, parse_patterns(args.patterns))
    sets = {
        "brand replies (twcs)": texts("twcs_head5000.csv", "text", {"inbound": "False"}),
        "customer posts (twcs)": texts("twcs_head5000.csv", "text", {"inbound": "True"}),
        "customer posts (airline)": texts("airline_tweets.csv", "text"),
    }
    for label, items in sets.items():
        started = time.perf_counter()
        found = [detector.find(text) for text in items]
        elapsed = time.perf_counter() - started
        flagged = sum(1 for f in found if f)
        kinds = Counter(str(finding.kind) for f in found for finding in f)
        print(
            f"{label:26} {len(items):6,} texts, {flagged:4} flagged ({flagged / len(items):.2%}); "
            f"{dict(kinds)}; {elapsed / len(items) * 1e6:.0f} µs a text"
        )
        if label.startswith("brand"):
            for text, f in zip(items, found, strict=True):
                if f:
                    print(f"    alarm: {[x.value for x in f]} in {text[:90]!r}")


if __name__ == "__main__":
    main()
