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
from bot.x.outbox import Outbox, Sent
from storage.csat import claim_survey, record_survey_outcome
from storage.db import Store, writing
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
    db = store.db
    survey = claim_survey(db, case_id, actor, policy.cooldown, now or datetime.now(UTC))
    if survey is None:
        return None
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
            add_case_note(db, case_id, f"⚠️ The satisfaction survey was not sent: {why} The customer was not asked.")
    if sync is not None:
        sync(case_id)
    return sent
