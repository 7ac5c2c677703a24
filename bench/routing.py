"""What routing costs per case: 50 routes tried in order on the airline data's tweets, beside the
baseline of the triage Perch already runs on every new case (its contact-reason suggestion).

    .venv/bin/python bench/routing.py [--rounds 5]

The routes are the worst case for time: none of them matches (a case meets every condition but the
last), so all 50 are tried on every tweet; half of them ask for keywords, which are matched by stem.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.reasons import rules  # noqa: E402
from bot.domain.reasons import suggest  # noqa: E402
from bot.domain.routing import Facts, Known, first_match, parse_route  # noqa: E402

KNOWN = Known(accounts=("care", "main"), searches=("delta lounge",), locations=("JFK", "ATL", "LAX"))


def fifty_routes() -> list:
    """50 routes of every kind of condition; each one's last condition fails for every tweet below."""
    kinds = [
        'when keyword=refund,voucher,"money back" lang=xx',
        "when account=care,main location=JFK,ATL priority=high channel=dm",
        'when lang=es,pt keyword=maleta,equipaje search="delta lounge"',
        'when keyword=lost,bag,"broken suitcase",wheel,handle,claim location=LAX',
        'when channel=public priority=high keyword="missed my connection",tarmac lang=zz',
    ]
    return [parse_route(f"C0Q{n:04d} {kinds[n % len(kinds)]}", KNOWN) for n in range(50)]


def tweets() -> list[str]:
    with (ROOT / "data" / "airline_tweets.csv").open(encoding="utf-8") as file:
        return [row["text"] for row in csv.DictReader(file)][:5000]


def per_case_us(work, texts: list[str], rounds: int) -> float:
    """The median over `rounds` of the microseconds per tweet."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            work(text)
        times.append((time.perf_counter() - started) / len(texts) * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    routes, texts, reason_rules = fifty_routes(), tweets(), rules()

    def route(text: str) -> None:
        facts = Facts("care", None, "en", text, "JFK", "high", by_dm=False)
        if first_match(routes, facts) is not None:
            raise SystemExit("a route matched: the benchmark must try all 50")

    route(texts[0])  # warm the stemmer's cache
    routing = per_case_us(route, texts, args.rounds)
    baseline = per_case_us(lambda text: suggest(text, reason_rules), texts, args.rounds)
    print(f"{len(texts):,} tweets, {len(routes)} routes (all tried), median of {args.rounds} rounds")
    print(f"  routing:                      {routing:8.1f} µs per case (target < 100)")
    print(f"  baseline, reason suggestion:  {baseline:8.1f} µs per case")


if __name__ == "__main__":
    main()
