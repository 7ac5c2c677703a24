"""A case's life, defined once: its statuses, the kinds of event in its log, and how each event changes it.

Everything that reads or writes a status or an event kind takes it from here: the writers in
`storage/cases.py` (through `change`), the SQL of the reports and the `holds` trigger (the values are
formatted into the SQL, never retyped), and the presenters. Renaming a kind here renames it everywhere;
retyping it anywhere else is what `tests/test_case_owner.py` catches.

A `Transition` says what one kind of event does to a case: the condition the case must meet (else the
change is refused, and `why_not` says why), the statuses it moves from and to, and the other columns
it sets. `storage.cases.change` turns it into one conditional UPDATE, so two agents clicking at once
get one winner on any engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class CaseStatus(StrEnum):
    """Where a case stands; `cases.status`."""

    NEW = "new"  # nobody holds it
    CLAIMED = "claimed"  # someone holds it, nothing sent yet
    REPLIED = "replied"  # the brand answered in public
    IN_DM = "in_dm"  # the conversation went to DMs
    ESCALATED = "escalated"  # staff on the ground were asked
    RESOLVED = "resolved"


class EventKind(StrEnum):
    """`events.kind`: every step of a case, with who and when (the reports read them)."""

    OPENED = "opened"
    FOLLOW_UP = "follow_up"
    DM_RECEIVED = "dm_received"
    POSTED = "posted"
    CLAIMED = "claimed"
    UNCLAIMED = "unclaimed"
    REASSIGNED = "reassigned"
    REPLIED = "replied"
    DM_SENT = "dm_sent"
    MOVED_TO_DM = "moved_to_dm"
    PERSONAL_DATA_SENT = "personal_data_sent"
    ESCALATED = "escalated"
    ESCALATION_ACKNOWLEDGED = "escalation_acknowledged"
    ESCALATION_RESOLVED = "escalation_resolved"
    REMINDED = "reminded"
    DRAFT_HELD = "draft_held"
    DRAFT_APPROVED = "draft_approved"
    DRAFT_SENT_BACK = "draft_sent_back"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CSAT_SENT = "csat_sent"  # the satisfaction question went to the customer by DM
    CSAT_NOT_SENT = "csat_not_sent"  # X refused it (DMs closed, credits): said in the thread
    CSAT_ANSWERED = "csat_answered"  # the customer's score (and comment) came back
    CSAT_SKIPPED = "csat_skipped"  # an agent chose Resolve without survey: this case is never surveyed


class Outcome(StrEnum):
    """What became of a requested change."""

    OK = "ok"
    MISSING = "missing"  # no such case
    TAKEN = "taken"  # someone else holds it
    YOURS = "yours"  # the clicker holds it already
    RESOLVED = "resolved"  # it is resolved: nothing to do
    OPEN = "open"  # it is not resolved: nothing to reopen
    NOT_YOURS = "not_yours"  # only its holder (or a manager) may do that
    UNCLAIMED = "unclaimed"  # nobody holds it
    SAME = "same"  # it is held by that person already


# The detail keys the `holds` trigger reads: who a reassignment gives the case to, who a reopened case
# goes back to. Written by `storage.cases`, read by the trigger's SQL: spelt here once.
REASSIGNED_TO = "to"
REOPENED_HOLDER = "assignee"

# The events that start or end a hold (a case in someone's hands), in the order a report pairs them.
HOLD_KINDS = (
    EventKind.CLAIMED,
    EventKind.UNCLAIMED,
    EventKind.REASSIGNED,
    EventKind.RESOLVED,
    EventKind.REOPENED,
)
# Still being worked on: a status that counts as open in reports and App Home.
OPEN_STATUSES = tuple(status for status in CaseStatus if status is not CaseStatus.RESOLVED)


def sql_list(values: tuple[str, ...] | list[str]) -> str:
    """`('a', 'b')`: enum values formatted into SQL (they are plain identifiers, never user text)."""
    for value in values:
        if not value.replace("_", "").isalnum():
            raise ValueError(f"not a plain identifier: {value!r}")
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def holder_sql(event: str) -> str:
    """SQL for who holds the case after the event `event` (a table alias or `NEW` in a trigger):
    the claimer, the person it was reassigned to, or the holder a reopened case went back to."""
    return (
        f"CASE {event}.kind WHEN '{EventKind.CLAIMED}' THEN {event}.actor "
        f"WHEN '{EventKind.REASSIGNED}' THEN json_extract({event}.detail, '$.{REASSIGNED_TO}') "
        f"WHEN '{EventKind.REOPENED}' THEN json_extract({event}.detail, '$.{REOPENED_HOLDER}') END"
    )


NOT_RESOLVED = f"status != '{CaseStatus.RESOLVED}'"
# The steps that take a case to DMs (a report's "in DM", a card's Reply in DM).
TO_DM_KINDS = sql_list((EventKind.MOVED_TO_DM, EventKind.DM_SENT))


@dataclass(frozen=True)
class Transition:
    """What one kind of event does to a case.

    `when`: the SQL condition the case must meet, or the change is refused (named parameters `:actor`,
    `:assignee`, `:as_manager`); `moves`: status from → to (a status not named keeps its own);
    `status_sql`: the new status as SQL, where a mapping cannot say it; `sets`: other columns,
    `column = SQL` with the parameters `:at`, `:actor`, `:assignee`, `:reason`, `:location`.
    """

    when: str = ""
    moves: Mapping[CaseStatus, CaseStatus] = field(default_factory=dict)
    status_sql: str = ""
    sets: tuple[str, ...] = ()

    def set_clause(self) -> str:
        """The UPDATE's SET list: status, the other columns, and always the card's version (a card whose
        case changed is behind, and the poster redraws it)."""
        status = self.status_sql or _status_case(self.moves)
        parts = ([f"status = {status}"] if status else []) + list(self.sets)
        return ", ".join([*parts, "updated_at = :now", "card_version = card_version + 1"])


def _status_case(moves: Mapping[CaseStatus, CaseStatus]) -> str:
    if not moves:
        return ""
    arms = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in moves.items())
    return f"CASE status {arms} ELSE status END"


# The first response is the earliest answer: one sent on x.com may be found after Perch's own.
_FIRST_RESPONSE = (
    "first_response_at = CASE WHEN first_response_at IS NULL OR first_response_at > :at THEN :at "
    "ELSE first_response_at END"
)
_ANSWERED = {CaseStatus.NEW: CaseStatus.REPLIED, CaseStatus.CLAIMED: CaseStatus.REPLIED}
_TO_DM = dict.fromkeys((CaseStatus.NEW, CaseStatus.CLAIMED, CaseStatus.REPLIED), CaseStatus.IN_DM)

TRANSITIONS: dict[EventKind, Transition] = {
    EventKind.CLAIMED: Transition(
        when=f"assignee IS NULL AND {NOT_RESOLVED}",
        moves={CaseStatus.NEW: CaseStatus.CLAIMED},
        sets=("assignee = :assignee", "claimed_at = COALESCE(claimed_at, :at)"),
    ),
    EventKind.UNCLAIMED: Transition(
        when="assignee IS NOT NULL AND (assignee = :actor OR :as_manager = 1)",
        moves={CaseStatus.CLAIMED: CaseStatus.NEW},
        sets=("assignee = NULL",),
    ),
    EventKind.REASSIGNED: Transition(
        when=f"{NOT_RESOLVED} AND assignee IS NOT :assignee",
        moves={CaseStatus.NEW: CaseStatus.CLAIMED},
        sets=("assignee = :assignee", "claimed_at = COALESCE(claimed_at, :at)"),
    ),
    EventKind.REPLIED: Transition(moves=_ANSWERED, sets=(_FIRST_RESPONSE,)),
    EventKind.DM_SENT: Transition(moves=_TO_DM, sets=(_FIRST_RESPONSE,)),
    EventKind.MOVED_TO_DM: Transition(moves=dict.fromkeys(OPEN_STATUSES, CaseStatus.IN_DM)),
    EventKind.ESCALATED: Transition(
        moves=dict.fromkeys(OPEN_STATUSES, CaseStatus.ESCALATED),
        sets=(
            "location = :location",
            "assignee = COALESCE(assignee, :assignee)",
            "claimed_at = COALESCE(claimed_at, :at)",
        ),
    ),
    EventKind.RESOLVED: Transition(
        when=NOT_RESOLVED,
        moves=dict.fromkeys(OPEN_STATUSES, CaseStatus.RESOLVED),
        sets=(
            "resolved_at = :at",
            "resolved_by = :actor",
            "assignee = COALESCE(assignee, :actor)",
            "reason = COALESCE(:reason, reason)",
        ),
    ),
    EventKind.REOPENED: Transition(
        when=f"status = '{CaseStatus.RESOLVED}'",
        status_sql=f"CASE WHEN assignee IS NULL THEN '{CaseStatus.NEW}' ELSE '{CaseStatus.CLAIMED}' END",
        sets=("reopened_count = reopened_count + 1",),
    ),
}
# Every other kind (a follow-up, a DM in, a draft held or decided, an escalation's news, personal data
# sent) changes no status or holder: it is logged and the card is marked behind.
NO_CHANGE = Transition()
# Kinds that are logged without touching the card: a card posted, a reminder sent, a survey's steps
# (they come after the case is resolved, and the resolved card does not show them).
LOG_ONLY = frozenset(
    {
        EventKind.OPENED,
        EventKind.POSTED,
        EventKind.REMINDED,
        EventKind.PERSONAL_DATA_SENT,
        EventKind.CSAT_SENT,
        EventKind.CSAT_NOT_SENT,
        EventKind.CSAT_ANSWERED,
        EventKind.CSAT_SKIPPED,
    }
)


def transition(kind: EventKind) -> Transition:
    return TRANSITIONS.get(kind, NO_CHANGE)


def why_not(kind: EventKind, status: str, holder: str | None, actor: str) -> Outcome:
    """Why a change was refused, from the case as it is now (someone else may have just acted)."""
    if kind is EventKind.CLAIMED:
        if status == CaseStatus.RESOLVED:
            return Outcome.RESOLVED
        return Outcome.YOURS if holder == actor else Outcome.TAKEN
    if kind is EventKind.UNCLAIMED:
        return Outcome.UNCLAIMED if holder is None else Outcome.NOT_YOURS
    if kind is EventKind.REASSIGNED:
        return Outcome.RESOLVED if status == CaseStatus.RESOLVED else Outcome.SAME
    if kind is EventKind.REOPENED:
        return Outcome.OPEN
    return Outcome.RESOLVED
