"""Every modal's submission read once, into a typed form: the one door text from Slack comes in by.

Slack's JSON may hold a lone surrogate (`\\ud800`: half of an emoji a client cut in two). It is valid
JSON but no UTF-8, so SQLite, X and Slack would each fail on it later, perhaps half way through a
two-step send. Such text is refused here, on its own field, before anything is checked, kept or sent.
Listeners answer `FormErrors` with `response_action: errors`; they never read `state.values` themselves.

The `private_metadata` is Perch's own, but it arrives in the same request as everything else: when it
is not a JSON object with sound row ids (cut, forged, a 5,000-digit number, nested 50,000 deep), the form
is refused in words on its first field (`UNREADABLE`), never with a failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.slack.ids import Action, Field, Input
from storage.customers import NOTE_MAX

T = TypeVar("T")

UNREADABLE = (
    "Perch cannot read this form's own data (it was changed or cut on the way), so nothing happened. "
    "Close the form and open it again from the card."
)
MAX_ID = 2**63 - 1  # SQLite's largest integer
METADATA_LIMIT = 3000  # characters: the most `private_metadata` Slack keeps
MAX_NESTING = 8  # Perch's own metadata is a flat object


@dataclass(frozen=True)
class FormErrors:
    """What is wrong, by the block id of the field that shows it."""

    errors: dict[str, str]


def broken_text(text: str) -> str | None:
    """Why `text` cannot be kept or sent (it is not valid Unicode), in words for the person; None if sound."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(text[error.start])
        return (
            f"Character {error.start + 1} is a broken piece of an emoji or symbol (U+{code:04X}), which cannot "
            "be sent or saved: delete it and type it again."
        )
    return None


class _State:
    """One submission's values and metadata; every string read is checked, a problem kept on its field."""

    def __init__(self, view: dict[str, Any], *, needs: tuple[str, ...] = ()) -> None:
        self.values: dict[str, Any] = (view.get("state") or {}).get("values") or {}
        self.key = str(view.get("id") or "")
        self.errors: dict[str, str] = {}
        meta = read_metadata(view.get("private_metadata"), needs)
        if meta is None:
            self.errors[first_field(view)] = UNREADABLE
        self.meta: dict[str, Any] = meta or {}

    def block(self, field: Field) -> str:
        """The block id `field` has in this view: Reply's boxes are versioned (`reply_text_2`)."""
        for block_id in self.values:
            if block_id == field or block_id.startswith(f"{field}_"):
                return str(block_id)
        return str(field)

    def text(self, field: Field) -> str:
        block = self.block(field)
        return self._sound(block, ((self.values.get(block) or {}).get(Input.TEXT) or {}).get("value"))

    def picked(self, field: Field, action: str) -> str | None:
        """The value of the option chosen in a menu or radio buttons; None when nothing is."""
        option = ((self.values.get(field) or {}).get(action) or {}).get("selected_option") or {}
        value = option.get("value")
        return None if value is None else self._sound(str(field), value)

    def ticked(self, field: Field, action: str) -> list[str]:
        options = ((self.values.get(field) or {}).get(action) or {}).get("selected_options") or []
        return [self._sound(str(field), option.get("value")) for option in options]

    def meta_id(self, name: str) -> int:
        """A row id Perch put in the metadata; 0 when absent or not a whole number."""
        value = self.meta.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def meta_text(self, name: str, field: Field) -> str:
        return self._sound(str(field), self.meta.get(name))

    def done(self, form: T) -> T | FormErrors:
        return FormErrors(self.errors) if self.errors else form

    def _sound(self, block: str, value: object) -> str:
        text = "" if value is None else str(value)
        problem = broken_text(text)
        if problem:
            self.errors.setdefault(block, problem)
            return ""
        return text


def read_metadata(raw: object, needs: tuple[str, ...]) -> dict[str, Any] | None:
    """The metadata as a JSON object whose row ids (`…_id`, `version`) are whole numbers SQLite can hold,
    with every id in `needs` there; None when it is anything else."""
    if not isinstance(raw, str | None) or len(raw or "") > METADATA_LIMIT or _nesting(raw or "") > MAX_NESTING:
        return None  # longer than Slack keeps, or nested as Perch never writes: not parsed at all
    try:
        meta = json.loads(raw or "{}")
    except ValueError:  # not JSON, or a 2,000-digit number
        return None
    if not isinstance(meta, dict):
        return None
    for name, value in meta.items():
        if (name.endswith("_id") or name == "version") and not _row_id(value):
            return None
    return meta if all(name in meta for name in needs) else None


def _nesting(raw: str) -> int:
    """How deep the JSON text's objects and arrays go (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            ends = char == '"' and not escaped
            escaped = char == "\\" and not escaped
            in_string = not ends
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "}]":
            depth -= 1
    return deepest


def _row_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def first_field(view: dict[str, Any]) -> str:
    """The block id of the form's first input (where a problem with the whole form is shown); "" if none."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and isinstance(block.get("block_id"), str):
            return str(block["block_id"])
    values = (view.get("state") or {}).get("values") or {}
    return str(next(iter(values), ""))


@dataclass(frozen=True)
class TextForm:
    """Reply or Reply in DM: the box's text, and its block id this time (where problems are shown)."""

    case_id: int
    text: str
    field: str
    key: str  # the view id: one send per form
    version: int  # of the box (`Field.REPLY_TEXT`): a new one shows a new value


def reply_form(view: dict[str, Any]) -> TextForm | FormErrors:
    return _text_form(view, Field.REPLY_TEXT)


def reply_dm_form(view: dict[str, Any]) -> TextForm | FormErrors:
    return _text_form(view, Field.DM_TEXT)


def _text_form(view: dict[str, Any], field: Field) -> TextForm | FormErrors:
    state = _State(view, needs=("case_id",))
    text = state.text(field)
    form = TextForm(state.meta_id("case_id"), text, state.block(field), state.key, state.meta_id("version"))
    return state.done(form)


@dataclass(frozen=True)
class MoveToDmForm:
    case_id: int
    public: str | None  # None: X allows no public reply to this post, so the DM is the whole of it
    private: str
    key: str


def move_to_dm_form(view: dict[str, Any]) -> MoveToDmForm | FormErrors:
    state = _State(view, needs=("case_id",))
    public = None if state.meta.get("public") is False else state.text(Field.HANDOFF_PUBLIC)
    private = state.text(Field.HANDOFF_PRIVATE)
    return state.done(MoveToDmForm(state.meta_id("case_id"), public, private, state.key))


@dataclass(frozen=True)
class PersonalDataForm:
    """The check pushed over a Reply or a status update: the held text, the way chosen, and why."""

    case_id: int  # 0 for a status update
    incident_id: int  # 0 for a reply
    key: str  # the Reply form's view id (its sends' key)
    text: str
    choice: str
    reason: str


def personal_data_form(view: dict[str, Any]) -> PersonalDataForm | FormErrors:
    state = _State(view)
    if not state.errors and not (state.meta_id("case_id") or state.meta_id("incident_id")):
        state.errors[first_field(view)] = UNREADABLE  # a check is over a reply or over a status update
    text = state.meta_text("text", Field.PERSONAL_DATA_CHOICE)
    choice = state.picked(Field.PERSONAL_DATA_CHOICE, Input.CHOICE) or ""
    reason = state.text(Field.PERSONAL_DATA_REASON).strip()
    key = str(state.meta.get("key") or state.key)
    form = PersonalDataForm(state.meta_id("case_id"), state.meta_id("incident_id"), key, text, choice, reason)
    return state.done(form)


@dataclass(frozen=True)
class EscalateForm:
    case_id: int
    location: str  # a location code; "" when none was picked
    urgent: bool
    note: str


def escalate_form(view: dict[str, Any]) -> EscalateForm | FormErrors:
    state = _State(view, needs=("case_id",))
    location = state.picked(Field.ESCALATE_LOCATION, Action.LOCATION) or ""
    urgent = state.picked(Field.ESCALATE_URGENCY, Input.URGENCY) == "urgent"
    note = state.text(Field.ESCALATE_NOTE).strip()
    return state.done(EscalateForm(state.meta_id("case_id"), location, urgent, note))


@dataclass(frozen=True)
class OutcomeForm:
    escalation_id: int
    outcome: str


def outcome_form(view: dict[str, Any]) -> OutcomeForm | FormErrors:
    state = _State(view, needs=("escalation_id",))
    outcome = state.text(Field.OUTCOME).strip()
    return state.done(OutcomeForm(state.meta_id("escalation_id"), outcome))


@dataclass(frozen=True)
class StatusForm:
    incident_id: int
    text: str


def status_form(view: dict[str, Any]) -> StatusForm | FormErrors:
    state = _State(view, needs=("incident_id",))
    text = state.text(Field.STATUS_TEXT)
    return state.done(StatusForm(state.meta_id("incident_id"), text))


@dataclass(frozen=True)
class BulkReplyForm:
    incident_id: int
    confirmed: bool
    status_at: str  # the status update the agent confirmed (it may have changed since)


def bulk_reply_form(view: dict[str, Any]) -> BulkReplyForm | FormErrors:
    state = _State(view, needs=("incident_id",))
    confirmed = "yes" in state.ticked(Field.BULK_CONFIRM, Input.CONFIRMED)
    status_at = state.meta_text("status_at", Field.BULK_CONFIRM)
    return state.done(BulkReplyForm(state.meta_id("incident_id"), confirmed, status_at))


@dataclass(frozen=True)
class ResolveForm:
    case_id: int
    reason: str | None  # None: no contact reason picked


def resolve_form(view: dict[str, Any]) -> ResolveForm | FormErrors:
    state = _State(view, needs=("case_id",))
    reason = state.picked(Field.RESOLVE_REASON, Input.REASON)
    return state.done(ResolveForm(state.meta_id("case_id"), reason))


@dataclass(frozen=True)
class DraftForm:
    """A lead's form on a held draft: the edited text, or the note sending it back."""

    draft_id: int
    text: str


def draft_edit_form(view: dict[str, Any]) -> DraftForm | FormErrors:
    state = _State(view, needs=("draft_id",))
    text = state.text(Field.DRAFT_TEXT)
    return state.done(DraftForm(state.meta_id("draft_id"), text))


def send_back_form(view: dict[str, Any]) -> DraftForm | FormErrors:
    state = _State(view, needs=("draft_id",))
    note = state.text(Field.DRAFT_NOTE).strip()
    return state.done(DraftForm(state.meta_id("draft_id"), note))


@dataclass(frozen=True)
class NoteForm:
    """History's box: a note about the customer (their X user id), from a card's case or from none (0)."""

    customer: str
    case_id: int
    text: str
    field: str  # the box's block id this time (`customer_note_<n>`: an updated modal shows it empty)


NOTE_EMPTY = "Write the note first (the box is empty)."
NOTE_TOO_LONG = "A note holds up to {limit:,} characters; this one has {length:,}. Shorten it."


def note_form(view: dict[str, Any]) -> NoteForm | FormErrors:
    """The note as typed (trimmed); refused on its box when empty or over `NOTE_MAX` (Slack's `max_length`
    stops a person, not a forged request), and as unreadable when the customer is no X user id."""
    state = _State(view, needs=("customer",))
    customer = state.meta.get("customer")
    sound = isinstance(customer, str) and customer.isascii() and customer.isdigit() and len(customer) <= 20
    if not state.errors and not sound:
        state.errors[first_field(view)] = UNREADABLE
    field = state.block(Field.CUSTOMER_NOTE)
    text = state.text(Field.CUSTOMER_NOTE).strip()
    if not state.errors and not text:
        state.errors[field] = NOTE_EMPTY
    elif not state.errors and len(text) > NOTE_MAX:
        state.errors[field] = NOTE_TOO_LONG.format(limit=NOTE_MAX, length=len(text))
    return state.done(NoteForm(str(customer) if sound else "", state.meta_id("case_id"), text, field))
