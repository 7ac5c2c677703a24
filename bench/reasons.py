"""How well the keyword rules suggest a contact reason, on the airline data's human labels.

The negative tweets of `data/airline_tweets.csv` carry a `negativereason` chosen by people (Late Flight,
Cancelled Flight, Lost Luggage, …). The rules below (an example an airline's team would set with
`/perch reasons add NAME | keywords`) were written and tuned on the even-numbered rows only; the
figures are measured on the odd-numbered rows, which the tuning never saw. "Can't Tell" rows are left
out (people could not tell either).

    .venv/bin/python bench/reasons.py [--tuning]

Caveat printed with the figures: the data set's text had some words replaced by its own labels
("Cancelled Flightled", "Late Flightr"), which flatters the two reasons whose names are those words.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.domain.reasons import ReasonRule, parse_keywords, suggest  # noqa: E402

AIRLINE_RULES = [
    ("Cancelled Flight", "cancel, cancelled, cancellation, canceled"),
    ("Damaged Luggage", "damaged, damage, broken bag, broken suitcase, broke, ripped, torn, destroyed, wheel, handle"),
    ("Lost Luggage", "lost bag, lost luggage, lost my bag, missing bag, bag, bags, luggage, baggage, claim, suitcase"),
    ("Late Flight", "late, delay, delayed, tarmac, still waiting, sitting on, hours, stuck, missed my connection"),
    (
        "Flight Booking Problems",
        "booking, book, booked, reservation, rebook, ticket, change my flight, website, site, online, app, "
        "refund, voucher, points, miles, upgrade, confirmation",
    ),
    (
        "Flight Attendant Complaints",
        "flight attendant, attendant, attendants, crew, stewardess, purser, f a, pilot, captain, capt, she, he",
    ),
    (
        "Bad Flight",
        "seat, seats, wifi, wi fi, food, entertainment, tv, dirty, legroom, uncomfortable, plane, aircraft, "
        "movie, snack, drink, broken seat, smell",
    ),
    ("longlines", "line, lines, queue, long line, security, counter, check in, kiosk, ticketing, tsa"),
    (
        "Customer Service Issue",
        "customer service, hold, on hold, call, called, phone, rude, agent, agents, response, respond, answer, "
        "help, dm, email, nobody, no one, service, representative, rep",
    ),
]


def rules() -> list[ReasonRule]:
    return [ReasonRule(name, parse_keywords(keywords)) for name, keywords in AIRLINE_RULES]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tuning", action="store_true", help="measure on the tuning half instead")
    args = parser.parse_args()
    with (ROOT / "data" / "airline_tweets.csv").open(encoding="utf-8") as file:
        labelled = [
            (index, row["text"], row["negativereason"])
            for index, row in enumerate(csv.DictReader(file))
            if row["negativereason"] and row["negativereason"] != "Can't Tell"
        ]
    half = [(text, label) for index, text, label in labelled if index % 2 == (0 if args.tuning else 1)]
    table = rules()
    suggested = [(suggest(text, table), label) for text, label in half]
    right = sum(1 for s, label in suggested if s == label)
    none = sum(1 for s, _ in suggested if s is None)
    print(
        f"{'tuning' if args.tuning else 'held-out'} rows: {len(half):,} labelled negative tweets; "
        f"accuracy {right / len(half):.1%}; no suggestion {none / len(half):.1%}"
    )
    by_label = Counter(label for _, label in suggested)
    hits = Counter(label for s, label in suggested if s == label)
    given = Counter(s for s, _ in suggested if s is not None)
    print(f"{'reason':28} {'rows':>5} {'recall':>7} {'precision':>9}")
    for name, _ in AIRLINE_RULES:
        recall = hits[name] / by_label[name] if by_label[name] else 0.0
        precision = hits[name] / given[name] if given[name] else 0.0
        print(f"{name:28} {by_label[name]:5} {recall:7.1%} {precision:9.1%}")
    print(
        "note: the data set's text had some words replaced by its labels ('Cancelled Flightled', 'Late Flightr'),"
        " which flatters Cancelled Flight and Late Flight."
    )


if __name__ == "__main__":
    main()
