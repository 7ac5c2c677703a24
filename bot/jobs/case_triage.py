"""What Perch guesses about each new case as it is stored: its location, its priority, a contact reason,
and the personal data its customer's public posts show (a follow-up's too).

The ingest job (`bot/jobs/ingest.py`) hands over the cases it opened or joined; the rules are in
`bot/domain/` (`detect`, `triage`, `reasons`, `pii`), the answers written back by `storage/triage.py`.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.blocks.mrkdwn import decode_x
from bot.domain.detect import Detector
from bot.domain.pii import PiiDetector
from bot.domain.reasons import ReasonRule, parse_keywords, suggest
from bot.domain.triage import assess
from bot.jobs.case_routing import CaseRouter
from storage.db import Store
from storage.reasons import reason_list, set_suggested_reasons
from storage.triage import case_texts, flag_personal_data, set_suggestions, set_triage


class CaseTriage:
    """`detector` gives the locations configured now (None: no triage of new cases); `pii` what
    personal data a customer's public post shows; `router` gives each new case its queue, after triage
    (a route may ask for a location or a priority)."""

    def __init__(
        self, store: Store, detector: Callable[[], Detector] | None, pii: PiiDetector, router: CaseRouter
    ) -> None:
        self.store = store
        self.detector = detector
        self.pii = pii
        self.router = router

    def new_cases(self, case_ids: list[int]) -> None:
        """Triage, then the queue: a case's card waits for both (`storage.cards.cases_to_post`)."""
        self._triage(case_ids)
        self.router.route(case_ids)

    def _triage(self, case_ids: list[int]) -> None:
        """Guess each new case's location (`📍 JFK?`) and its priority (signals shown on the card)."""
        db = self.store.db
        if self.detector is None or not case_ids:
            return
        detector = self.detector()  # the locations configured now, once per batch
        reasons = [ReasonRule(name, parse_keywords(keywords)) for name, keywords in reason_list(db)]
        suggestions, triage, why = {}, {}, {}
        for case_id, (raw, followers, verified, public) in case_texts(db, case_ids).items():
            text = decode_x(raw)
            code = detector.suggest(text)
            if code:
                suggestions[case_id] = code
            reason = suggest(text, reasons) if reasons else None
            if reason:
                why[case_id] = reason
            personal = tuple(self.pii.kinds(text)) if public else ()
            verdict = assess(text, followers=followers, location=code, verified=verified, personal_data=personal)
            triage[case_id] = (verdict.priority, " · ".join(verdict.signals), ", ".join(personal) or None)
        if suggestions:
            set_suggestions(db, suggestions)
        if why:
            set_suggested_reasons(db, why)
        set_triage(db, triage)

    def follow_ups(self, joined: list[tuple[int, str]]) -> None:
        """A follow-up post that shows the customer's personal data flags its case like a first post."""
        flags: dict[int, list[str]] = {}
        for case_id, raw in joined:
            kinds = self.pii.kinds(decode_x(raw))
            if kinds:
                flags.setdefault(case_id, []).extend(kinds)
        if flags:
            flag_personal_data(self.store.db, flags)
