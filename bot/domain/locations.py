"""Locations as people configure them: validation, airport facts from `airportsdata`, CSV import,
and the detector built from whatever is configured now.

CSV columns (header row required; `code` and `channel` are required, the rest optional):
`code, name, kind, channel, staff, lead, aliases, timezone` — `kind` is `airport` or `store`; `channel`
a channel id (`C…`); `staff` a user group id (`S…`) or user ids (`U…`) separated by spaces; `lead` a
user or user group id; `aliases` separated by `;`. An airport given only by its IATA code gets its
name and time zone from `airportsdata`.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import airportsdata

from bot.domain.detect import Detector, Place
from bot.domain.zones import time_zone
from bot.slack.ids import CHANNEL_ID, USER_ID, USERGROUP_ID
from storage.db import Store
from storage.locations import Location, all_locations, locations_version, save_location

CODE = re.compile(r"^(?:[A-Z]{3}|[A-Z][A-Z0-9-]{1,19})$")


class LocationError(ValueError):
    """What is wrong with a location, in words for the person who typed it."""


@cache
def _airports() -> dict[str, Any]:
    return airportsdata.load("IATA")


def airport_facts(code: str) -> dict | None:
    return _airports().get(code.upper())


def build_location(
    code: str,
    channel: str,
    *,
    name: str = "",
    kind: str = "",
    staff: str = "",
    lead: str = "",
    aliases: str = "",
    timezone: str = "",
) -> Location:
    """A validated `Location`; an airport's missing name and time zone come from `airportsdata`."""
    code = code.strip().upper()
    if not CODE.match(code):
        raise LocationError(
            f"`{code[:20]}` is not a location code: use an IATA code (`JFK`) or letters, digits "
            "and dashes (`STORE-042`)."
        )
    kind = kind.strip().lower() or ("airport" if re.fullmatch(r"[A-Z]{3}", code) else "store")
    if kind not in ("airport", "store"):
        raise LocationError(f"kind must be `airport` or `store`, not `{kind[:20]}`.")
    channel = channel.strip()
    if not CHANNEL_ID.match(channel):
        raise LocationError("channel must be a channel id such as C0123456789 (or #channel in /perch).")
    facts = airport_facts(code) if kind == "airport" else None
    if kind == "airport" and facts is None and not name.strip():
        raise LocationError(f"`{code}` is not an IATA airport code Perch knows; give the airport a name.")
    staff_group, staff_users = _staff(staff)
    lead_id = lead.strip() or None
    if lead_id is not None and not (USERGROUP_ID.match(lead_id) or USER_ID.match(lead_id)):
        raise LocationError("lead must be a user id (U…) or a user group id (S…).")
    timezone = timezone.strip() or (facts or {}).get("tz") or "UTC"
    if time_zone(timezone) is None:
        raise LocationError(f"`{timezone[:40]}` is not a time zone (e.g. America/New_York).")
    return Location(
        code=code,
        name=name.strip() or (facts or {}).get("name") or code,
        kind=kind,
        slack_channel=channel,
        staff_group=staff_group,
        staff_users=staff_users,
        lead=lead_id,
        aliases=tuple(a.strip() for a in aliases.split(";") if a.strip()),
        timezone=timezone,
    )


def _staff(staff: str) -> tuple[str | None, tuple[str, ...]]:
    ids = staff.replace(",", " ").split()
    groups = [i for i in ids if USERGROUP_ID.match(i)]
    users = tuple(i for i in ids if USER_ID.match(i))
    if len(groups) + len(users) != len(ids) or len(groups) > 1 or (groups and users):
        raise LocationError("staff must be one user group id (S…) or user ids (U…) separated by spaces.")
    if not ids:
        raise LocationError("staff is required: the user group (or users) pinged when a customer needs help.")
    return (groups[0] if groups else None), users


@dataclass
class ImportReport:
    imported: list[str]
    problems: list[str]  # "line 4: …"


def import_csv(store: Store, text: str) -> ImportReport:
    """Import every good row; report each bad one by its line number in the file."""
    report = ImportReport([], [])
    reader = csv.DictReader(io.StringIO(text))
    missing = {"code", "channel"} - {(f or "").strip().lower() for f in reader.fieldnames or []}
    if missing:
        report.problems.append(f"line 1: the header needs the columns {', '.join(sorted(missing))}")
        return report
    seen: set[str] = set()
    while True:
        read_up_to = reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # a field past the csv module's limit, a stray quote…
            report.problems.append(f"line {read_up_to + 1}: not a readable CSV row ({error})")
            continue
        line = reader.line_num
        values = {(k or "").strip().lower(): (v or "") for k, v in row.items()}
        try:
            location = build_location(
                values.get("code", ""),
                values.get("channel", ""),
                name=values.get("name", ""),
                kind=values.get("kind", ""),
                staff=values.get("staff", ""),
                lead=values.get("lead", ""),
                aliases=values.get("aliases", ""),
                timezone=values.get("timezone", ""),
            )
        except LocationError as error:
            report.problems.append(f"line {line}: {error}")
            continue
        if location.code in seen:
            report.problems.append(f"line {line}: {location.code} appears twice in the file; the first was kept")
            continue
        seen.add(location.code)
        save_location(store.db, location)
        report.imported.append(location.code)
    return report


class Detectors:
    """The detector for the locations configured now, rebuilt when they change."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._version: tuple[int, str] | None = None
        self._detector = Detector([])

    def current(self) -> Detector:
        db = self.store.db
        version = locations_version(db)
        with self._lock:
            if version != self._version:
                self._detector = Detector(place_of(location) for location in all_locations(db))
                self._version = version
            return self._detector


def place_of(location: Location) -> Place:
    facts = airport_facts(location.code) if location.kind == "airport" else None
    return Place(
        code=location.code,
        kind=location.kind,
        name=location.name,
        aliases=location.aliases,
        city=(facts or {}).get("city", ""),
    )


def edit_location(location: Location, field: str, value: str) -> Location:
    """`/perch locations edit JFK channel=C…` and friends."""
    fields = {
        "name": "name",
        "channel": "slack_channel",
        "staff": "staff",
        "lead": "lead",
        "aliases": "aliases",
        "timezone": "timezone",
        "kind": "kind",
    }
    if field not in fields:
        raise LocationError(f"`{field[:20]}` is not a location field; use one of {', '.join(sorted(fields))}.")
    current = {
        "name": location.name,
        "channel": location.slack_channel,
        "kind": location.kind,
        "staff": location.staff_group or " ".join(location.staff_users),
        "lead": location.lead or "",
        "aliases": ";".join(location.aliases),
        "timezone": location.timezone,
    }
    current[field] = value
    updated = build_location(location.code, current.pop("channel"), **current)
    return replace(updated)
