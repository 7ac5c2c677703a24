"""The satisfaction survey on resolve: claimed once per case, sent through the outbox, its fate said.

Called by the Resolve listeners after the case is resolved. The claim (`storage/csat.py`) decides
whether a survey is due; the question goes out as a DM through the outbox under a key per case, so a
retried click or a restart never sends it twice, and a send X leaves unconfirmed is settled by the
outbox's minute job like any other. A refusal (DMs closed, no credits) is recorded and said in the
card's thread: the agent is not waiting on an answer that cannot come.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.blocks.mrkdwn import escape_within, one_line
from bot.x.outbox import SURVEY_NOT_SENT, Outbox, Sent
from storage.csat import Survey, claim_survey, record_survey_outcome, surveys_cut_off
from storage.db import Store, to_iso, writing
from storage.notes import add_case_note
from storage.replies import CSAT_SOURCE

SURVEYOR = "Perch"  # the name the thread's note of the question gives


@dataclass(frozen=True)
class SurveyPolicy:
    """`CSAT_QUESTION` and `CSAT_COOLDOWN_DAYS`, when `CSAT_SURVEY` is on."""

    question: str
    cooldown: timedelta


def survey_policy(enabled: bool, question: str, cooldown_days: float) -> SurveyPolicy | None:
    """None when surveys are off."""
    return SurveyPolicy(question, timedelta(days=cooldown_days)) if enabled else None


def send_survey(
    store: Store,
    outbox: Outbox,
    policy: SurveyPolicy | None,
    case_id: int,
    actor: str,
    *,
    sync: Callable[[int], object] | None = None,
    now: datetime | None = None,
) -> Sent | None:
    """Ask the customer of a just-resolved case for a score, if a survey is due; None when none was.
    `sync`: bring the case's thread up to date after (the question's note, or why it did not go)."""
    if policy is None:
        return None
    survey = claim_survey(store.db, case_id, actor, policy.cooldown, now or datetime.now(UTC))
    if survey is None:
        return None
    return ask(store, outbox, policy, survey, sync=sync)


def ask(
    store: Store, outbox: Outbox, policy: SurveyPolicy, survey: Survey, *, sync: Callable[[int], object] | None = None
) -> Sent:
    """Send a claimed survey's question through the outbox (its key: once, whoever asks) and say its fate."""
    db, case_id = store.db, survey.case_id
    sent = outbox.dm(
        case_id,
        survey.customer_id,
        policy.question,
        key=survey.reply_key,
        agent="bot",
        agent_name=SURVEYOR,
        source=CSAT_SOURCE,
    )
    if sent.delivered:
        record_survey_outcome(db, case_id, True)
    elif sent.status in ("refused", "rate_limited"):  # the outbox gave it up: it will not go
        record_survey_outcome(db, case_id, False, sent.message)
        why = escape_within(one_line(sent.message), 300)
        with writing(db):
            add_case_note(db, case_id, SURVEY_NOT_SENT.format(why=why))
    if sync is not None:
        sync(case_id)
    return sent


class SurveyCatchUp:
    """The minute job that finishes what a crash cut off: a case resolved whose survey was never claimed,
    or claimed but never handed to the outbox (the listener died in between). Looks back `window`; the
    outbox's key per case keeps it to one question even when the listener is still at it."""

    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        policy: SurveyPolicy,
        *,
        window: timedelta = timedelta(hours=1),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.outbox, self.policy, self.window, self.now = store, outbox, policy, window, now

    def run(self) -> int:
        """How many questions went to the outbox now."""
        now = self.now()
        asked = 0
        for case_id, actor, survey in surveys_cut_off(self.store.db, to_iso(now - self.window)):
            if survey is not None:
                ask(self.store, self.outbox, self.policy, survey)
                asked += 1
            elif send_survey(self.store, self.outbox, self.policy, case_id, actor, now=now) is not None:
                asked += 1
        return asked
