"""The personal-data detector, on texts shaped like the real ones (hits and non-hits), and its false
alarms counted on the brands' real replies in the customer-support data."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.domain.pii import PiiDetector, PiiKind, describe, parse_patterns

DATA = Path(__file__).resolve().parents[2] / "data"
BOOKING = parse_patterns(r"booking reference=\b(?!N\d)(?=[A-Z]*\d)(?=\d*[A-Z])[A-Z0-9]{6}\b")


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("@BofA_Help Thank you call me tomorrow afternoon 3:00 pm (706)614-7640", ["phone number"]),
        ("@airtel_care My phone number is +91-90002-89198. Please help me on this. (2/n)", ["phone number"]),
        ("@British_Airways Contact: +49 1708733216", ["phone number"]),
        ("@SouthwestAir conf FP9M6Y, traveling with jane.roe@gmail.com", ["booking reference", "e-mail address"]),
        ("@Delta charged twice on 4111-1111-1111-1111 why", ["payment card number"]),
        ("@Delta refund to GB82 WEST 1234 5698 7654 32 please", ["IBAN"]),
        ("@united I can't DM you so here's the confirmation # G8CVWJ", ["booking reference"]),
    ],
)
def test_finds_personal_data(text, kinds):
    assert [f.kind for f in PiiDetector("US", BOOKING).find(text)] == kinds


@pytest.mark.parametrize(
    "text",
    [
        "@JetBlue B6 1170 from JFK is delayed again",  # a flight number
        "@united UA1116 overweight, UAL212 LAX-JFK",  # flight numbers, IATA and ICAO
        "@AmericanAir @FlyTPA #AB12CD https://t.co/5GI1Wh765p",  # handles, a hashtag, a link
        "Please call 1-800-869-3557 to have this rectified.",  # a toll-free service line
        "Open 09:00-17:00 Monday to Friday, flights on 28/11/17 and 30/11/17",  # times and dates
        "@Delta order 4111 1111 1111 1112 never came",  # 16 digits, not Luhn-valid
        "@Delta ticket 0012345678901 and $400 owed",  # a ticket number outside every card range
        "@Delta refund to GB00 WEST 1234 5698 7654 32",  # wrong IBAN check digits
        "Reach us at support@ our site, or @Delta",  # no address
    ],
)
def test_leaves_alone_what_is_not_personal_data(text):
    assert PiiDetector("US", BOOKING).find(text) == []


def test_where_and_what_it_found():
    text = "@bag_lady call Dana on 212-555-0134 or dana@example.org"
    found = PiiDetector().find(text)
    assert [(f.kind, text[f.start : f.end]) for f in found] == [
        (PiiKind.PHONE, "212-555-0134"),
        (PiiKind.EMAIL, "dana@example.org"),
    ]
    assert describe(found) == "a phone number and an e-mail address"


def test_the_default_region_decides_how_a_national_number_is_read():
    text = "ring me on 07911 123456 tonight"
    assert PiiDetector("US").find(text) == []
    assert [f.kind for f in PiiDetector("GB").find(text)] == [PiiKind.PHONE]


def test_the_brands_published_numbers_and_addresses_are_allowed():
    detector = PiiDetector("US", allow=("+234 70 9425 0556", "@jetblue.com", "press@example.org"))
    assert detector.find("our Lagos office on (+234) 70 94250 556, or help@JetBlue.com or press@example.org") == []
    assert len(detector.find("or ask jane@jetblue.co")) == 1


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("booking", "should be name=regex"),
        ("booking=[A-Z", "not a regular expression"),
        ("anything=.*", "matches an empty text"),
    ],
)
def test_reference_patterns_are_checked(raw, problem):
    with pytest.raises(ValueError, match=problem):
        parse_patterns(raw)


def test_false_alarms_on_the_brands_real_replies():
    """The customer-support data's 2,222 brand replies, with an airline's booking reference format: one
    alarm, a brand's own office number (the brand lists it in `PII_ALLOW`); no flight number, link,
    handle, date or toll-free line raises one."""
    with (DATA / "twcs_head5000.csv").open(encoding="utf-8") as file:
        replies = [row["text"] for row in csv.DictReader(file) if row["inbound"] == "False"]
    assert len(replies) == 2222
    alarms = [(text, f.value) for text in replies for f in PiiDetector("US", BOOKING).find(text)]
    assert [value for _, value in alarms] == ["(+234) 70 94250 556"]
    allowed = PiiDetector("US", BOOKING, allow=("+2347094250556",))
    assert [text for text in replies if allowed.find(text)] == []
