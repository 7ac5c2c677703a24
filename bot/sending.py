"""Sending as the brand from Slack's forms (Reply, Reply in DM, Move to DM, the personal-data check):
the checks, personal data, the review hold, the outbox and what is recorded, decided here once.

Listeners hand over a parsed form (`bot/forms.py`) and present the `Outcome`. What X is asked first
happens before the form closes, so a refusal shows on the field; everything a send depends on is
checked before that first request. `finish` does the rest once the form has closed (Move to DM's DM,
the records, the card) and says in words which step did not happen, if one did not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bot.blocks.safety import PUBLIC, personal_data_modal
from bot.domain.pii import PiiDetector, describe
from bot.forms import MoveToDmForm, PersonalDataForm, TextForm
from bot.jobs.review import Reviewer
from bot.slack.ids import Field, View
from bot.slack.permissions import Gatekeeper
from bot.x.outbox import Outbox
from bot.x.outbox import Sent as XSent
from bot.x.tweet_text import dm_problem, tweet_problem, without_leading_mentions
from storage.cases import CardData, get_card, reply_target
from storage.db import Store
from storage.drafts import hold_for_review
from storage.events import record_event
from storage.lifecycle import EventKind
from storage.replies import mark_moved_to_dm

log = logging.getLogger(__name__)

REASON_NEEDED = "Say why it must be public: the reason is kept with the case's history."
BY_DM = "This customer wrote by DM: answer with Reply in DM."
NO_CASE = "Perch has no such case any more."


@dataclass(frozen=True)
class Agent:
    id: str
    name: str


@dataclass(frozen=True)
class Refused:
    """Nothing went out: why, in words, on the form's `field` (X's refusal, or that it did not confirm)."""

    field: str
    words: str


@dataclass(frozen=True)
class Stopped:
    """The text shows personal data: `view` (the check) goes over the form; nothing went out."""

    view: dict[str, Any]


@dataclass(frozen=True)
class Held:
    """Waiting in the card's thread for a lead's review; nothing went to X."""

    case_id: int


@dataclass(frozen=True)
class FirstDm:
    """Move to DM's private message, sent once the form has closed."""

    text: str
    key: str
    handle: str


Record = Literal[EventKind.MOVED_TO_DM, EventKind.PERSONAL_DATA_SENT]  # an event kept once the form closes


@dataclass(frozen=True)
class Sent:
    """Gone to X (`status` `sent` now, `duplicate` before, or `in_flight`: the first request finishes it);
    `record` is kept once the form closes when it went out now; `then` is a DM still to send."""

    case_id: int
    status: str
    record: tuple[Record, dict[str, Any]] | None = None
    then: FirstDm | None = None


Outcome = Refused | Stopped | Held | Sent


@dataclass(frozen=True)
class Notice:
    """Words for the agent after the form closed (a step that did not happen), and where to say them."""

    channel: str | None
    text: str


class Sender:
    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        review: Reviewer,
        gate: Gatekeeper,
        pii: PiiDetector,
        sync_case: Callable[[int], object],
        *,
        summoned_only: bool,
    ) -> None:
        self.db = store.db
        self.outbox = outbox
        self.review = review
        self.gate = gate
        self.pii = pii
        self.sync_case = sync_case
        self.summoned_only = summoned_only

    def reply(self, form: TextForm, agent: Agent) -> Outcome:
        """A public reply; one that shows personal data stops at the check instead."""
        case = self._case(form.case_id, agent, form.field, tweet_problem(form.text))
        if isinstance(case, Refused):
            return case
        if case.dm_only:
            return Refused(form.field, BY_DM)
        findings = self.pii.find(form.text)
        if findings:
            meta = {"case_id": case.case_id, "key": form.key, "text": form.text}
            stop = personal_data_modal(View.PERSONAL_DATA, findings, meta, handle=case.author_handle)
            return Stopped(stop) if stop else Refused(form.field, f"This shows {describe(findings)}: take it out.")
        return self._reply(case, form.text, f"view:{form.key}", form.field, agent)

    def reply_dm(self, form: TextForm, agent: Agent) -> Outcome:
        case = self._case(form.case_id, agent, form.field, dm_problem(form.text, required=True))
        if isinstance(case, Refused):
            return case
        return self._dm(case, form.text.strip(), f"view:{form.key}", form.field, agent)

    def personal_data(self, form: PersonalDataForm, agent: Agent) -> Outcome:
        """The agent's way past the check: publicly with a reason (recorded), or the same text as a DM."""
        choice = str(Field.PERSONAL_DATA_CHOICE)
        kinds = list(dict.fromkeys(f.kind for f in self.pii.find(form.text)))
        if form.choice == PUBLIC:
            if not form.reason:
                return Refused(Field.PERSONAL_DATA_REASON, REASON_NEEDED)
            case = self._case(form.case_id, agent, choice, None)
            if isinstance(case, Refused):
                return case
            outcome = self._reply(case, form.text, f"view:{form.key}", choice, agent)
            return _recording(outcome, EventKind.PERSONAL_DATA_SENT, {"kinds": kinds, "reason": form.reason})
        private = without_leading_mentions(form.text)
        case = self._case(form.case_id, agent, choice, dm_problem(private, required=True))
        if isinstance(case, Refused):
            return case
        outcome = self._dm(case, private, f"view:{form.key}:dm", choice, agent, "Go back to send it another way.")
        return _recording(outcome, EventKind.MOVED_TO_DM, {"dm": "sent", "public": False, "kinds": kinds})

    def move_to_dm(self, form: MoveToDmForm, agent: Agent) -> Outcome:
        """The public handoff now, its DM once the form closes: both are checked before either is sent."""
        public_field, private_field = str(Field.HANDOFF_PUBLIC), str(Field.HANDOFF_PRIVATE)
        private = form.private.strip()
        if form.public is None:  # X allows no public reply to this post: the DM is the whole of it
            case = self._case(form.case_id, agent, private_field, dm_problem(private, required=True))
            if isinstance(case, Refused):
                return case
            outcome = self._dm(case, private, f"view:{form.key}:dm", private_field, agent)
            return _recording(outcome, EventKind.MOVED_TO_DM, {"dm": "sent", "public": False})
        case = self._case(form.case_id, agent, public_field, tweet_problem(form.public))
        if isinstance(case, Refused):
            return case
        private_problem = dm_problem(form.private)
        if private_problem:
            return Refused(private_field, private_problem)
        found = self.pii.find(form.public)
        if found:  # the handoff is public; the private message below it is where such details belong
            return Refused(public_field, f"This shows {describe(found)}: put it in the DM instead.")
        public_key, dm_key = f"view:{form.key}:public", f"view:{form.key}:dm"
        dm_draft = [("dm", private, dm_key)] if private else []
        if self._held(case, agent, [("reply", form.public, public_key), *dm_draft]):
            return Held(case.case_id)
        target = reply_target(self.db, case.case_id) or case.tweet_id
        handoff = self.outbox.reply(
            case.case_id, target, form.public, key=public_key, agent=agent.id, agent_name=agent.name
        )
        if not _delivered(handoff):
            return Refused(public_field, handoff.message)
        then = FirstDm(private, dm_key, case.author_handle) if private else None
        return Sent(case.case_id, handoff.status, (EventKind.MOVED_TO_DM, {"dm": "none"}), then)

    def finish(self, outcome: Outcome, agent: Agent) -> Notice | None:
        """After the form closed: Move to DM's DM, the records, the card; words when a step did not happen."""
        if isinstance(outcome, Held):
            self.sync_case(outcome.case_id)
        if not isinstance(outcome, Sent):
            return None
        case, dm, said = None, None, None
        try:
            case = get_card(self.db, outcome.case_id)
            dm = self._first_dm(outcome.then, case, agent) if outcome.then and case else None
            if outcome.then and dm is not None and not _delivered(dm):
                said = f"The public reply to @{outcome.then.handle} went out, but the DM did not: {dm.message}"
            self._record(outcome, dm, agent)
        except Exception as error:  # X has the first step already: say so, never "that did not happen"
            log.exception("After a send for case %s", outcome.case_id)
            said = _unfinished(outcome, dm, type(error).__name__)
        self.sync_case(outcome.case_id)
        return Notice(case.slack_channel if case else None, said) if said else None

    def _first_dm(self, first: FirstDm, case: CardData, agent: Agent) -> XSent:
        return self.outbox.dm(
            case.case_id, case.author_id, first.text, key=first.key, agent=agent.id, agent_name=agent.name
        )

    def _record(self, outcome: Sent, dm: XSent | None, agent: Agent) -> None:
        """What a send changed in the case's history, kept when it went out now (not a retry's duplicate)."""
        if outcome.record is None or outcome.status != "sent":
            return
        kind, detail = outcome.record
        if kind is EventKind.MOVED_TO_DM:
            mark_moved_to_dm(self.db, outcome.case_id, agent.id, {**detail, "dm": dm.status} if dm else detail)
        else:
            record_event(self.db, outcome.case_id, kind, agent.id, detail)

    def _reply(self, case: CardData, text: str, key: str, field: str, agent: Agent) -> Outcome:
        """The public reply, once per form (`key`), unless it waits for review."""
        if self._held(case, agent, [("reply", text, key)]):
            return Held(case.case_id)
        target = reply_target(self.db, case.case_id, summoned_only=self.summoned_only) or case.tweet_id
        sent = self.outbox.reply(case.case_id, target, text, key=key, agent=agent.id, agent_name=agent.name)
        if not _delivered(sent):
            return Refused(field, sent.message)
        return Sent(case.case_id, sent.status)

    def _dm(self, case: CardData, text: str, key: str, field: str, agent: Agent, after_refusal: str = "") -> Outcome:
        """The DM, once per form (`key`), unless it waits for review; X's refusal (and `after_refusal`)."""
        if self._held(case, agent, [("dm", text, key)]):
            return Held(case.case_id)
        sent = self.outbox.dm(case.case_id, case.author_id, text, key=key, agent=agent.id, agent_name=agent.name)
        if not _delivered(sent):
            return Refused(field, (sent.message + " " + after_refusal).strip())
        return Sent(case.case_id, sent.status)

    def _held(self, case: CardData, agent: Agent, drafts: list[tuple[str, str, str]]) -> bool:
        """A new agent's sends, or those past their daily limit, wait for a lead (one draft per `key`)."""
        why = self.review.hold_reason(agent.id)
        if why is None:
            return False
        for kind, text, key in drafts:
            hold_for_review(self.db, key, case.case_id, kind, text, agent.id, agent.name, why)
        return True

    def _case(self, case_id: int, agent: Agent, field: str, problem: str | None) -> CardData | Refused:
        """The case the form may be sent for, or the first thing wrong (on `field`)."""
        if problem:
            return Refused(field, problem)
        case = get_card(self.db, case_id)
        verdict = self.gate.may_act(agent.id, case.queue_team if case else None)
        if not verdict.allowed:
            return Refused(field, verdict.reason)
        return case if case is not None else Refused(field, NO_CASE)


def _unfinished(outcome: Sent, dm: XSent | None, failed: str) -> str:
    """Which steps went out when Perch failed after the first one."""
    if outcome.then is None:
        return f"It went out on X, but Perch failed to record it ({failed})."
    if dm is None:
        return (
            f"The public reply went out, but Perch failed before the DM was confirmed ({failed}): if the card's "
            "thread does not show the DM, send it with Reply in DM."
        )
    both = "The public reply and the DM" if _delivered(dm) else "The public reply (not the DM)"
    return f"{both} went out, but Perch failed to record the move to DM ({failed})."


def _recording(outcome: Outcome, kind: Record, detail: dict[str, Any]) -> Outcome:
    """`outcome`, carrying what to record once the form closes if it is a send."""
    return Sent(outcome.case_id, outcome.status, (kind, detail)) if isinstance(outcome, Sent) else outcome


def _delivered(sent: XSent) -> bool:
    """A send that is done (now or before); `in_flight` counts too: the first request will finish it."""
    return sent.delivered or sent.status == "in_flight"
