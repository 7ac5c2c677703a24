"""Which configured location a tweet is about: "stuck at JFK", "#LAX", "the desk at O'Hare", "store 42".

Rules, each there to avoid a false positive measured on real airline tweets:
- an airport code counts only as a standalone token (`JFK`, `#JFK`, `DEN:PHX`, `211/ORD`), never inside
  a word or a handle (`@JFKairport`), and only in capitals unless written as a hashtag or after a cue
  of being there (`out of jfk`, `in Ord`);
- a code that is also a word people capitalise for emphasis (`CAN`, `SAT`, `NOW`…) needs a hashtag or a cue
  (`at CAN`, `CAN airport`); a code in a shouted, all-capitals tweet needs the same;
- names and aliases (`Kennedy`, `O'Hare`, `Main St store`) match whole words, in any case; a city
  name alone only with a cue of being there (`stuck in Denver`, not `flights to Chicago`);
- store numbers match `store 42`, `store #42`, `store 042`.
When several locations match, the one with a cue of being *there* (`at`, `in`, `stuck at`, `from`)
wins over a destination (`to LAX`), then the earliest in the tweet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# IATA codes that are also everyday words people write in capitals for emphasis ("you CAN fix it"):
# they need a hashtag or a cue. Codes that are nouns (DEN, SEA, BUS) are nearly always the airport.
_WORDLIKE = """
ADD AGE AID AIM ALL AND ANY ARE ASK ATE BAD BIG BUT BUY CAN DAY DID DUE END FAR FEW FLY FOR FUN GET
GOT HAD HAS HER HEY HIM HIS HOT HOW ITS LET LOW MAD MAN MAY MEN NEW NOR NOT NOW ODD OFF OLD ONE OUR
OUT OWE OWN PAY PUT RAN RUN SAD SAT SAW SAY SEE SET SHE SIT SIX TEN THE TOO TRY TWO USE WAS WAY WHO
WHY WIN WON YES YET YOU
"""
WORDLIKE_CODES = frozenset(_WORDLIKE.split())
_THERE = re.compile(r"(?:\b(?:at|in|@|stuck at|stuck in|inside|from|out of|leaving|departing)\s+(?:the\s+)?#?)$", re.I)
_AIRPORT_AFTER = re.compile(r"^\s*(?:airport|terminal|gate|intl|international|station|t\d)\b", re.I)
_GENERIC_NAME_WORDS = re.compile(r"\b(?:international|intl|regional|municipal|airport|airfield|field)\b", re.I)


@dataclass(frozen=True)
class Place:
    """What detection needs of a configured location."""

    code: str
    kind: str = "airport"
    name: str = ""
    aliases: tuple[str, ...] = ()
    city: str = ""


@dataclass(frozen=True)
class _Hit:
    code: str
    start: int
    end: int
    there: bool


class Detector:
    """Built once from the configured locations; `suggest(text)` is then cheap."""

    def __init__(self, places: Iterable[Place]) -> None:
        places = list(places)
        cities = [p.city.lower() for p in places if p.city]
        self._codes: list[tuple[str, re.Pattern, bool]] = []
        self._names: list[tuple[str, re.Pattern, bool]] = []
        for place in places:
            if place.kind == "airport" and re.fullmatch(r"[A-Z]{3}", place.code):
                pattern = re.compile(rf"(?<![\w@$.#])(#?)({place.code})(?![\w@])", re.I)
                self._codes.append((place.code, pattern, place.code in WORDLIKE_CODES))
            for alias in _aliases(place, unique_city=cities.count(place.city.lower()) == 1):
                words = r"\s+".join(re.escape(w) for w in alias.replace("’", "'").split())
                # "to Chicago" is a destination, "stuck in Chicago" a place: a bare city needs the cue.
                city_only = alias == place.city and alias not in place.aliases
                self._names.append((place.code, re.compile(rf"(?<![\w@#]){words}(?![\w'])", re.I), city_only))

    def suggest(self, text: str) -> str | None:
        """The code of the location the tweet is most likely about, or None."""
        text = text.replace("’", "'")
        hits = self._code_hits(text) + self._name_hits(text)
        if not hits:
            return None
        best = min(hits, key=lambda h: (not h.there, h.start))
        return best.code

    def _code_hits(self, text: str) -> list[_Hit]:
        letters = [c for c in text if c.isalpha()]
        shouting = bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.6
        hits = []
        for code, pattern, wordlike in self._codes:
            for match in pattern.finditer(text):
                hashtag, token = match.group(1) == "#", match.group(2)
                there = bool(_THERE.search(text[: match.start()]))
                cue = there or bool(_AIRPORT_AFTER.match(text[match.end() :]))
                if not hashtag and token != code and (wordlike or not there):
                    continue  # "jfk" in lower case counts after "at", "in", "out of"; "#jfk" always
                if (wordlike or shouting) and not (hashtag or cue):
                    continue
                hits.append(_Hit(code, match.start(), match.end(), there))
        return hits

    def _name_hits(self, text: str) -> list[_Hit]:
        hits = []
        for code, pattern, city_only in self._names:
            for match in pattern.finditer(text):
                there = bool(_THERE.search(text[: match.start()]))
                if there or not city_only:
                    hits.append(_Hit(code, match.start(), match.end(), there))
        return hits


def _aliases(place: Place, *, unique_city: bool) -> list[str]:
    """Configured aliases ("Kennedy", "O'Hare"), the name and its short form ("Chicago O'Hare"), the
    city when no other configured airport shares it, and store numbers. (A name's last word alone is
    not used: "Phoenix Sky Harbor" must not match "Pearl Harbor".)"""
    found = [a for a in place.aliases if a.strip()]
    if place.name:
        found.append(place.name)
        short = " ".join(_GENERIC_NAME_WORDS.sub(" ", place.name).split())
        if short and short.lower() != place.name.lower():
            found.append(short)
    if place.kind == "airport" and place.city and unique_city:
        found.append(place.city)
    number = re.search(r"(\d+)$", place.code)
    if place.kind == "store" and number:
        digits = number.group(1).lstrip("0") or "0"
        found += [f"store {digits}", f"store #{digits}", f"store {number.group(1)}", f"store #{number.group(1)}"]
    return list(dict.fromkeys(found))
