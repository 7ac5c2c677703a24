"""Which queue each new case goes to: the team's routes (`/perch routes`) tried in order, once per case.

Called for the cases an ingest just opened, after triage (a route may ask for a location or a
priority), and by the post job for any case its ingest never routed (a crash in between): a case's
card is posted only once it is routed (`storage.cards.cases_to_post`). The rules are in
`bot/domain/routing.py`; what each case was routed to is kept by `storage/routes.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.domain.routing import Condition, Facts, Route, first_match
from bot.jobs.sources import SEARCH_PREFIX
from storage.db import Store
from storage.routes import StoredRoute, list_routes, routing_facts, set_queues, unrouted_cases

log = logging.getLogger(__name__)


def as_route(stored: StoredRoute) -> Route:
    return Route(stored.channel, tuple(Condition(k, v) for k, v in stored.condition_list()), stored.team)


class CaseRouter:
    """`account` names the brand account the cases came to (`X_ACCOUNTS`' name, else its handle)."""

    def __init__(self, store: Store, account: Callable[[], str]) -> None:
        self.store = store
        self.account = account

    def route(self, case_ids: list[int]) -> None:
        """Give each case not routed yet its queue: the first route it meets, else the default (None)."""
        db = self.store.db
        pending = routing_facts(db, case_ids)
        if not pending:
            return
        stored = list_routes(db)
        routes = [as_route(r) for r in stored]
        account = self.account()
        queues: dict[int, tuple[str | None, str | None, int | None]] = {}
        for case in pending:
            source = case.source or ""
            search = source.removeprefix(SEARCH_PREFIX) if source.startswith(SEARCH_PREFIX) else None
            facts = Facts(
                account=account,
                search=search,
                lang=case.lang,
                text=case.text,
                location=case.location,
                priority=case.priority or "normal",
                by_dm=bool(case.by_dm),
            )
            try:
                index = first_match(routes, facts)
            except Exception:  # a case routing cannot read goes to the default queue, never nowhere
                log.exception("Case %s could not be routed; it goes to the default queue", case.case_id)
                index = None
            queues[case.case_id] = (None, None, None) if index is None else _queue(stored[index])
        set_queues(db, queues)

    def route_stragglers(self) -> None:
        """Cases opened a while ago that no ingest routed (it stopped in between)."""
        stragglers = unrouted_cases(self.store.db)
        if stragglers:
            log.warning("Routing %d cases their ingest did not route", len(stragglers))
            self.route(stragglers)


def _queue(route: StoredRoute) -> tuple[str | None, str | None, int | None]:
    return route.channel, route.team, route.id
