"""Personal data in a text meant for the public: phone numbers, e-mail addresses, payment card numbers,
IBANs and the brand's own reference formats.

Phone numbers come from Google's libphonenumber (`phonenumbers`, numbers valid for their country, read
with the brand's default region), card numbers are checked with Luhn and the card networks' number
ranges, IBANs with their ISO 7064 check digits (`python-stdnum`). What a tweet's own syntax holds —
@handles, links, #hashtags, $cashtags — is never read as personal data, and neither are service lines
(toll-free, shared-cost, premium: the numbers a brand publishes) nor anything the brand lists in
`PII_ALLOW`. Pure: no I/O, nothing stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType
from stdnum import iban, luhn


class PiiKind(StrEnum):
    """What was found, in words a person reads ("a phone number")."""

    PHONE = "phone number"
    EMAIL = "e-mail address"
    CARD = "payment card number"
    IBAN = "IBAN"


@dataclass(frozen=True)
class Finding:
    kind: str  # a PiiKind, or the name of one of the brand's reference patterns
    start: int  # where in the text (characters), so the form can say where
    end: int
    value: str

    @property
    def what(self) -> str:
        """ "a phone number", "an IBAN"."""
        return with_article(self.kind)


@dataclass(frozen=True)
class ReferencePattern:
    """One of the brand's own formats (`PII_PATTERNS`), e.g. a booking reference."""

    name: str
    pattern: re.Pattern[str]


# A tweet's own syntax, blanked before anything is looked for (offsets stay the same).
TWEET_SYNTAX = re.compile(r"https?://\S+|(?<![\w.+-])[@#$][A-Za-z0-9_]+")
# A flight number (IATA designator, or ICAO's three letters, then 1-4 digits: `B6 1170`, `UA1116`,
# `UAL212`): never a phone number nor a booking reference, however the brand's pattern reads.
FLIGHT_NUMBER = re.compile(r"\b(?:[A-Z]\d|\d[A-Z]|[A-Z]{2,3}) ?\d{1,4}\b")
EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][\w.+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
CARD_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
SERVICE_LINES = {
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
}
# The issuer ranges of the card networks that take payments online (ISO/IEC 7812 prefixes and lengths).
CARD_RANGES: tuple[tuple[range, int, tuple[int, ...]], ...] = (
    (range(4, 5), 1, (13, 16, 19)),  # Visa
    (range(51, 56), 2, (16,)),  # Mastercard
    (range(2221, 2721), 4, (16,)),  # Mastercard 2-series
    (range(34, 35), 2, (15,)),  # American Express
    (range(37, 38), 2, (15,)),
    (range(6011, 6012), 4, (16, 19)),  # Discover
    (range(644, 650), 3, (16, 19)),
    (range(65, 66), 2, (16, 19)),
    (range(3528, 3590), 4, (16, 19)),  # JCB
    (range(62, 63), 2, (16, 17, 18, 19)),  # UnionPay
    (range(36, 37), 2, (14,)),  # Diners Club
    (range(300, 306), 3, (14,)),
)


class PiiDetector:
    def __init__(
        self,
        region: str = "US",
        patterns: tuple[ReferencePattern, ...] = (),
        allow: tuple[str, ...] = (),
    ) -> None:
        self.region = region
        self.patterns = patterns
        self._allowed_numbers = {_digits(a) for a in allow if "@" not in a and _digits(a)}
        self._allowed_mail = {a.lower() for a in allow if "@" in a}

    def find(self, text: str) -> list[Finding]:
        """Every piece of personal data in `text`, in order; overlapping finds are reported once (the
        most specific: a card number is not also a phone number)."""
        plain = _blank(TWEET_SYNTAX, text)
        no_flights = _blank(FLIGHT_NUMBER, plain)
        found: list[Finding] = []
        for finder, within in (
            (self._emails, plain),
            (self._cards, plain),
            (self._ibans, plain),
            (self._phones, no_flights),
            (self._references, no_flights),
        ):
            for finding in finder(within):
                if not any(f.start < finding.end and finding.start < f.end for f in found):
                    found.append(finding)
        return sorted(found, key=lambda f: f.start)

    def kinds(self, text: str) -> list[str]:
        """The kinds found, each once, in the order they appear."""
        return list(dict.fromkeys(f.kind for f in self.find(text)))

    def _emails(self, text: str) -> list[Finding]:
        return [
            Finding(PiiKind.EMAIL, m.start(), m.end(), m.group())
            for m in EMAIL.finditer(text)
            if not self._mail_allowed(m.group())
        ]

    def _cards(self, text: str) -> list[Finding]:
        finds = []
        for match in CARD_CANDIDATE.finditer(text):
            number = _digits(match.group())
            if _card_range(number) and luhn.is_valid(number) and number not in self._allowed_numbers:
                finds.append(Finding(PiiKind.CARD, match.start(), match.end(), match.group()))
        return finds

    def _ibans(self, text: str) -> list[Finding]:
        return [
            Finding(PiiKind.IBAN, m.start(), m.end(), m.group())
            for m in IBAN_CANDIDATE.finditer(text)
            if iban.is_valid(m.group())
        ]

    def _phones(self, text: str) -> list[Finding]:
        finds = []
        for match in PhoneNumberMatcher(text, self.region, leniency=Leniency.VALID):
            if phonenumbers.number_type(match.number) in SERVICE_LINES:
                continue
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            if _digits(e164) in self._allowed_numbers or _digits(match.raw_string) in self._allowed_numbers:
                continue
            finds.append(Finding(PiiKind.PHONE, match.start, match.end, match.raw_string))
        return finds

    def _references(self, text: str) -> list[Finding]:
        return [
            Finding(p.name, m.start(), m.end(), m.group())
            for p in self.patterns
            for m in p.pattern.finditer(text)
            if m.group()
        ]

    def _mail_allowed(self, address: str) -> bool:
        address = address.lower()
        return address in self._allowed_mail or "@" + address.split("@", 1)[1] in self._allowed_mail


def parse_patterns(raw: str) -> tuple[ReferencePattern, ...]:
    """`name=regex` pairs separated by `;` (a `;` inside a regex is written `\\x3b`). Raises ValueError
    saying which one is wrong."""
    patterns = []
    for item in raw.split(";"):
        if not item.strip():
            continue
        name, sep, regex = item.partition("=")
        if not sep or not name.strip() or not regex.strip():
            raise ValueError(f"{item.strip()[:40]!r} should be name=regex")
        try:
            compiled = re.compile(regex.strip())
        except re.error as error:
            raise ValueError(f"the pattern for {name.strip()!r} is not a regular expression ({error})") from None
        if compiled.match(""):
            raise ValueError(f"the pattern for {name.strip()!r} matches an empty text")
        patterns.append(ReferencePattern(name.strip(), compiled))
    return tuple(patterns)


def region_problem(region: str) -> bool:
    """True when libphonenumber does not know the region (`US`, `GB`, …)."""
    return region not in phonenumbers.SUPPORTED_REGIONS


def describe(findings: list[Finding]) -> str:
    """ "a phone number and an e-mail address" — what was found, each kind once."""
    words = [with_article(kind) for kind in dict.fromkeys(f.kind for f in findings)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def with_article(kind: str) -> str:
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def _blank(pattern: re.Pattern[str], text: str) -> str:
    """`text` with what `pattern` matches turned to spaces: nothing is found there, offsets stay."""
    return pattern.sub(lambda m: " " * len(m.group()), text)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _card_range(number: str) -> bool:
    return any(len(number) in lengths and int(number[:width]) in prefixes for prefixes, width, lengths in CARD_RANGES)
