"""Customer satisfaction: one survey per case at most, who may be asked, their answer, and its figures.

A survey is claimed here before the question goes to X (a row per case: never twice per case, even
across reopen and resolve), and only when the customer was not asked within the cool-down. Whether the
question went out is the outbox's row (`replies`, by the survey's key), settled by the outbox like any
send. The answer is the customer's first DM within `ANSWER_WINDOW` of the question that begins with a
score from 1 to 5 (docs/metrics.md, "Satisfaction").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.cases import change, get_card
from storage.db import from_iso, to_iso, utc_now, writing
from storage.engine import Database
from storage.lifecycle import CaseStatus, EventKind
from storage.report_cases import REASON_JOIN

ANSWER_WINDOW = timedelta(hours=24)
COMMENT_LIMIT = 1000

# `5`, `4/5`, `5 - thanks!`: a digit 1-5 first, perhaps "/5"; never `10`, `5/10`, `4.5`, or a range `1-5`.
_SCORE = re.compile(r"\s*([1-5])(?:\s*/\s*5)?(?![0-9]|\s*[-–—/.,]\s*[0-9])(.*)", re.DOTALL)
_LEADING = re.compile(r"^[\s\-–—:;,.!)*]+")

# A survey counts as asked (for the cool-down) when its question was sent or is being sent; not when an
# agent chose no survey or X refused it. (`storage/cases.py` reads the same for the card.)
_ASKED = (
    "s.reply_key IS NOT NULL AND "
    "COALESCE((SELECT r.status FROM replies r WHERE r.idempotency_key = s.reply_key), 'sending') != 'failed'"
)


def survey_key(case_id: int) -> str:
    """The outbox's idempotency key for a case's question: one send per case, across restarts."""
    return f"csat:{case_id}"


def parse_score(text: str) -> tuple[int, str] | None:
    """(score, comment) when the DM begins with a score from 1 to 5; None for anything else."""
    found = _SCORE.fullmatch(text or "")
    if found is None:
        return None
    return int(found.group(1)), _LEADING.sub("", found.group(2)).strip()[:COMMENT_LIMIT]


@dataclass(frozen=True)
class Survey:
    """A claimed survey: the case, the customer (X user id) and the outbox key of its question."""

    case_id: int
    customer_id: str
    reply_key: str


def claim_survey(db: Database, case_id: int, actor: str, cooldown: timedelta, now: datetime) -> Survey | None:
    """Claim the case's survey, if one is due: the conversation went to DM, the case was never surveyed,
    and the customer was not asked within `cooldown`. None when none is due (or another request won)."""
    card = get_card(db, case_id)
    if card is None or not card.in_dm or not card.author_id:
        return None
    key = survey_key(case_id)
    with writing(db):
        inserted = db.execute(
            "INSERT OR IGNORE INTO csat_surveys (case_id, customer_id, reply_key, requested_by, requested_at) "
            "SELECT :case_id, :customer, :key, :actor, :now WHERE NOT EXISTS (SELECT 1 FROM csat_surveys s "
            f"WHERE s.customer_id = :customer AND s.requested_at >= :cutoff AND {_ASKED})",
            {
                "case_id": case_id,
                "customer": card.author_id,
                "key": key,
                "actor": actor,
                "now": to_iso(now),
                "cutoff": to_iso(now - cooldown),
            },
        ).rowcount
    return Survey(case_id, card.author_id, key) if inserted else None


def surveys_cut_off(db: Database, since: str) -> list[tuple[int, str, Survey | None]]:
    """Surveys a crash may have cut off since `since`: a case resolved then whose survey was never
    claimed (`(case, resolver, None)`: claim it now, if one is due), or one claimed whose question never
    reached the outbox (`(case, who, its Survey)`: ask it now). The outbox's key keeps either to one send."""
    unclaimed = db.execute(
        "SELECT e.case_id, e.actor FROM events e JOIN cases c ON c.id = e.case_id "
        f"WHERE e.kind = '{EventKind.RESOLVED}' AND e.at >= ? AND c.status = '{CaseStatus.RESOLVED}' "
        "AND NOT EXISTS (SELECT 1 FROM csat_surveys s WHERE s.case_id = e.case_id) ORDER BY e.id",
        [since],
    ).fetchall()
    unsent = db.execute(
        "SELECT s.case_id, s.requested_by, s.customer_id, s.reply_key FROM csat_surveys s "
        "WHERE s.requested_at >= ? AND s.reply_key IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM replies r WHERE r.idempotency_key = s.reply_key) ORDER BY s.case_id",
        [since],
    ).fetchall()
    return [(case_id, actor, None) for case_id, actor in dict(unclaimed).items()] + [
        (case_id, actor, Survey(case_id, customer, key)) for case_id, actor, customer, key in unsent
    ]


def skip_survey(db: Database, case_id: int, actor: str) -> bool:
    """Resolve without survey: this case is never surveyed (`csat_skipped`). False if it was claimed already."""
    card = get_card(db, case_id)
    if card is None:
        return False
    with writing(db):
        skipped = db.execute(
            "INSERT OR IGNORE INTO csat_surveys (case_id, customer_id, requested_by, requested_at) VALUES (?, ?, ?, ?)",
            [case_id, card.author_id or "", actor, utc_now()],
        ).rowcount
        if skipped:
            change(db, case_id, EventKind.CSAT_SKIPPED, actor, read_back=False)
    return bool(skipped)


def record_survey_outcome(db: Database, case_id: int, sent: bool, why: str = "") -> None:
    """The question went out (`csat_sent`), or X refused it (`csat_not_sent`, with X's words)."""
    kind = EventKind.CSAT_SENT if sent else EventKind.CSAT_NOT_SENT
    change(db, case_id, kind, "bot", detail={} if sent else {"why": why[:300]}, read_back=False)


def awaiting_answer(db: Database, customer: str, written_at: str) -> int | None:
    """The case whose survey this customer's DM (written at `written_at`) may answer: the question
    went out before it, at most `ANSWER_WINDOW` earlier, and nothing answered it yet."""
    since = to_iso(from_iso(written_at) - ANSWER_WINDOW)
    row = db.execute(
        "SELECT s.case_id FROM csat_surveys s JOIN replies r ON r.idempotency_key = s.reply_key "
        "WHERE s.customer_id = ? AND s.score IS NULL AND r.status = 'sent' AND s.requested_at <= ? "
        "AND r.sent_at >= ? ORDER BY s.requested_at DESC LIMIT 1",
        [customer, written_at, since],
    ).fetchone()
    return int(row[0]) if row else None


def record_answer(db: Database, case_id: int, dm_event_id: str, score: int, comment: str, at: str) -> bool:
    """The customer's score and comment, once (`csat_answered`): it reopens nothing."""
    answered = db.execute(
        "UPDATE csat_surveys SET score = ?, comment = ?, answered_at = ?, answer_dm_id = ? "
        "WHERE case_id = ? AND score IS NULL",
        [score, comment, at, dm_event_id, case_id],
    ).rowcount
    if answered:
        detail = {"score": score, "dm_event_id": dm_event_id}
        change(db, case_id, EventKind.CSAT_ANSWERED, "bot", detail=detail, at=at or utc_now(), read_back=False)
    return bool(answered)


# -- the report's figures (docs/metrics.md, "Satisfaction") ---------------------------------------


@dataclass(frozen=True)
class Csat:
    """Surveys whose question went out, answers, answers of 4 or 5, and the sum of the scores."""

    sent: int = 0
    answers: int = 0
    satisfied: int = 0
    score_sum: int = 0

    @property
    def share_satisfied(self) -> float | None:
        """CSAT: the share of 4 and 5 among the answers."""
        return self.satisfied / self.answers if self.answers else None

    @property
    def average(self) -> float | None:
        return self.score_sum / self.answers if self.answers else None

    @property
    def answer_rate(self) -> float | None:
        """Answers per survey sent."""
        return self.answers / self.sent if self.sent else None

    @classmethod
    def of(cls, rows: Iterable[tuple[bool, int | None]]) -> Csat:
        """From (question sent, score or None) per survey."""
        sent = answers = satisfied = total = 0
        for went, score in rows:
            sent += bool(went)
            if score is not None:
                answers, satisfied, total = answers + 1, satisfied + (score >= 4), total + score
        return cls(sent, answers, satisfied, total)


def _survey_rows(db: Database, group: str, where: str, params: list) -> list[tuple]:
    """(group, question sent, score) for each survey of the report's cases (`cases c` by `where`)."""
    return db.execute(
        f"SELECT {group}, r.status = 'sent' OR s.score IS NOT NULL, s.score FROM cases c "
        f"JOIN csat_surveys s ON s.case_id = c.id {REASON_JOIN} "
        f"LEFT JOIN replies r ON r.idempotency_key = s.reply_key WHERE {where}",
        params,
    ).fetchall()


def csat_of(db: Database, where: str, params: list) -> Csat:
    """The satisfaction figures of the report's cases."""
    return Csat.of((went, score) for _, went, score in _survey_rows(db, "NULL", where, params))


def csat_by(db: Database, group: str, where: str, params: list) -> dict[str, Csat]:
    """The same per group: `group` is SQL over `cases c` (its assignee, its reason)."""
    grouped: dict[str, list[tuple[bool, int | None]]] = {}
    for name, went, score in _survey_rows(db, group, where, params):
        grouped.setdefault(name or "", []).append((went, score))
    return {name: Csat.of(rows) for name, rows in grouped.items()}
