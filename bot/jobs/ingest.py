"""The ingest job: poll each source on X, store what is new, open or join cases, advance cursors.

A poll asks only for what is newer than the source's cursor (`since_id`): X bills every post it
returns. X can index a post late, with an id lower than one already seen, so each source also reads its
past by time in contiguous *slices* (`bot/jobs/sources.py`): `[sliced_to, now - POLL_OVERLAP_SECONDS)`
once that is `SLICE_SECONDS` long. A post X shows at most the overlap late is in one slice read by
then: found within overlap + `SLICE_SECONDS` of its creation, and each post is read twice (its fast
poll, its slice), whatever the pace. The first poll after start-up catches up by time from the cursor
less the overlap and a slice (where the slices before a restart may have stopped); the slices start the
overlap before it. Over the month's X budget the slices stop, as tracked searches do. A cursor (or
`sliced_to`) moves only when every page was read and stored. Rate limits and outages pause the source
(`bot/jobs/sources.py`); a slice due then waits, never skipped. Case triage: `bot/jobs/case_triage.py`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial

from bot.domain.detect import Detector
from bot.domain.pii import PiiDetector
from bot.domain.summoned import summons
from bot.jobs.case_routing import CaseRouter
from bot.jobs.case_triage import CaseTriage
from bot.jobs.dms import KEEP_IN_HAND, newest_dm, read_dm_events
from bot.jobs.sources import SEARCH_PREFIX, SLICE_SECONDS, SourceState, Window, whole_second
from bot.x.client import (
    DM_EVENTS,
    MENTIONS_ENDPOINT,
    MENTIONS_TIMELINE_CAP,
    OWN_ENDPOINT,
    SEARCH_ENDPOINT,
    Account,
    Fetch,
    XClient,
)
from bot.x.errors import XError
from bot.x.tweets import half_empty
from storage.db import Store, from_iso
from storage.dms import DM_SOURCE, store_dms
from storage.replies import record_outside_replies
from storage.tweets import Cursor, StoreResult, Tweet, advance_cursor, get_cursor, store_tweets, tweet_order
from storage.usage import DM_READ, OWNED_READ, POST_READ, record_reads

log = logging.getLogger(__name__)

MENTIONS = "mentions"
OWN = "own"
Fetcher = Callable[[Window], Fetch]
Storer = Callable[[list[Tweet], Cursor | None, "IngestReport"], None]
TICK_SECONDS = 0.5  # with no POLL_INTERVAL_SECONDS, the ingest job runs this often; X's headers pace each source


@dataclass(frozen=True)
class DMSweep:
    """A DM sweep that stopped before reaching the cursor: where it goes on, and the newest DM it saw."""

    token: str
    newest: Cursor | None


@dataclass
class IngestReport:
    stored: int = 0
    cases_opened: int = 0
    follow_ups: int = 0
    skipped: int = 0
    outside_replies: int = 0
    dms: int = 0
    sources_polled: list[str] = field(default_factory=list)


class Ingestor:
    """One instance per process; the scheduler runs `poll(source)` for each source apart (never two
    polls of one source at once: `bot/jobs/scheduler.py`), `run()` polls them all in turn. New cases go to
    triage (`detector`, `pii`); `on_stored` is rung whenever something new was stored (the post job's
    wake-up: the new cards go out while the other sources are polled)."""

    def __init__(
        self,
        store: Store,
        x: XClient,
        *,
        search_queries: tuple[str, ...] = (),
        poll_interval: float | None = None,
        overlap_seconds: float = 30.0,
        backfill_seconds: float = 86400.0,
        clock: Callable[[], float] = time.time,
        detector: Callable[[], Detector] | None = None,
        read_dms: bool = True,
        pii: PiiDetector | None = None,
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.x = x
        self.search_queries = search_queries
        self.poll_interval = poll_interval
        self.overlap = timedelta(seconds=overlap_seconds)
        self.backfill = timedelta(seconds=backfill_seconds)
        self.clock = clock
        self.on_stored = on_stored
        self.account: Account | None = None
        self.states: dict[str, SourceState] = {}
        self.read_dms = read_dms
        self.triage = CaseTriage(store, detector, pii or PiiDetector(), CaseRouter(store, self.account_name))
        self._dm_sweep: DMSweep | None = None
        self._account_lock = threading.Lock()
        # Over the monthly X budget (the health job decides): tracked searches and the slices for
        # late-indexed posts stop, the brand's own mentions and DMs (customers who asked) go on.
        self.over_budget = False

    def sources(self) -> list[str]:
        """Every source this process polls: the mentions, each tracked search, the brand's own posts,
        the DMs. The scheduler polls each in its own thread (`poll`), so a slow one holds up no other."""
        searches = [f"{SEARCH_PREFIX}{query}" for query in self.search_queries]
        return [MENTIONS, *searches, OWN, *([DM_SOURCE] if self.read_dms else [])]

    def run(self) -> IngestReport:
        """Every source once, one after another: what a test or a script drives by hand."""
        report = IngestReport()
        for source in self.sources():
            self.poll(source, report)
        return report

    def poll(self, source: str, report: IngestReport | None = None) -> IngestReport:
        """One source, when its pacing allows (the brand account is asked of X first, once)."""
        report = report if report is not None else IngestReport()
        account = self._account()
        if account is None:
            return report
        if source == MENTIONS:
            self._poll(MENTIONS, MENTIONS_ENDPOINT, lambda window: self._mentions(account, window), report)
        elif source.startswith(SEARCH_PREFIX):
            query = source.removeprefix(SEARCH_PREFIX)
            self._poll(source, SEARCH_ENDPOINT, partial(self._search, query), report)
        elif source == OWN:
            own = partial(self._own, account)
            self._poll(OWN, OWN_ENDPOINT, own, report, store=self._store_own)
        elif source == DM_SOURCE:
            self._poll_dms(account, report)
        return report

    def account_name(self) -> str:
        """The brand account's name in routes (`account=`): its handle, lower case ("" until X said it)."""
        return self.account.username.lower() if self.account else ""

    @staticmethod
    def endpoint_of(source: str) -> str | None:
        """The X endpoint a source polls (whose rate limit paces it)."""
        if source.startswith(SEARCH_PREFIX):
            return SEARCH_ENDPOINT
        return {MENTIONS: MENTIONS_ENDPOINT, OWN: OWN_ENDPOINT, DM_SOURCE: DM_EVENTS}.get(source)

    def _poll_dms(self, account: Account, report: IngestReport) -> None:
        """The brand's DMs, paced by X's DM read limit (15 / 15 min): the headers say when to ask again."""
        state = self.states.setdefault(DM_SOURCE, SourceState())
        if self.clock() < state.not_before:
            return
        db = self.store.db
        sweep = self._dm_sweep
        fetch = read_dm_events(self.x, self._window_start(get_cursor(db, DM_SOURCE)), sweep.token if sweep else None)
        report.sources_polled.append(DM_SOURCE)
        record_reads(db, DM_READ, (e.id for e in fetch.events), self._day())
        seen = [c for c in (sweep.newest if sweep else None, newest_dm(fetch.events)) if c is not None]
        newest = max(seen, key=lambda c: (c.newest_at, int(c.newest_id))) if seen else None
        self._dm_sweep = DMSweep(fetch.resume_token, newest) if fetch.resume_token else None
        result = store_dms(db, fetch.events, account.id, newest if fetch.complete else None)
        report.dms += result.stored
        report.cases_opened += len(result.cases_opened)
        self.triage.new_cases(result.cases_opened)
        if result.stored:
            self.on_stored()
            log.info("Stored %d new DM events (%d cases opened)", result.stored, len(result.cases_opened))
        if fetch.error is not None:
            state.failed(DM_SOURCE, fetch.error, self.clock(), self.poll_interval)
            return
        state.recovered()
        state.last_success = self.clock()
        state.polled(self.clock())
        state.not_before = self.clock() + (self.x.spacing(DM_EVENTS, reserve=KEEP_IN_HAND) or 0.0)

    def _search(self, query: str, window: Window) -> Fetch:
        return self.x.search(query, window.start, window.end, since_id=window.since_id)

    def _own(self, account: Account, window: Window) -> Fetch:
        return self.x.own_tweets(account.id, window.start, window.since_id, window.end)

    def _account(self) -> Account | None:
        """The brand account (asked of X once, then kept); polling waits until it is known."""
        with self._account_lock:  # the sources' threads ask X once between them
            state = self.states.setdefault("users/me", SourceState())
            if self.clock() < state.not_before:
                return None
            try:
                account = self.x.me()
            except XError as error:
                state.failed("users/me", error, self.clock(), self.poll_interval)
                return None
            if self.account is None:
                log.info("Polling mentions of @%s (id %s)", account.username, account.id)
            state.recovered()
            self.account = account
            return account

    def _store_own(self, tweets: list[Tweet], cursor: Cursor | None, report: IngestReport) -> None:
        """The brand's own replies, sent on x.com rather than through Perch, answer their cases."""
        db = self.store.db
        touched = record_outside_replies(db, tweets)
        report.outside_replies += len(touched)
        if cursor is not None:
            advance_cursor(db, cursor)

    def _mentions(self, account: Account, window: Window) -> Fetch:
        """The mentions timeline, with a gap fill from recent search when it hit its 800 cap."""
        start = window.start
        fetch = self.x.mentions(account.id, start, window.since_id, window.end)
        oldest = fetch.oldest_at
        if fetch.complete and len(fetch.tweets) >= MENTIONS_TIMELINE_CAP and oldest and from_iso(oldest) > start:
            log.warning(
                "The mentions timeline stopped at %d tweets; filling the gap back to %s from search",
                len(fetch.tweets),
                start.isoformat(),
            )
            gap = self.x.search(f"@{account.username}", start, from_iso(oldest) + timedelta(seconds=1), source=MENTIONS)
            fetch.tweets.extend(gap.tweets)
            fetch.pages += gap.pages
            fetch.complete, fetch.error = gap.complete, gap.error
        return fetch

    def _poll(
        self, source: str, endpoint: str, fetcher: Fetcher, report: IngestReport, store: Storer | None = None
    ) -> None:
        """One turn of a source: after start-up a catch-up by time, then the fast poll and the slice due
        (`SourceState.turn`), both while the endpoint has calls to spare, else one per turn."""
        state = self.states.setdefault(source, SourceState())
        if self.clock() < state.not_before or (self.over_budget and endpoint == SEARCH_ENDPOINT):
            return
        read = partial(self._read, source, endpoint, fetcher, report, store or self.store_customers)
        cursor, calls = get_cursor(self.store.db, source), 1
        if cursor is None or state.sliced_to is None:  # catch up by time, back to where the last slice may be
            caught_up_at = self._now()
            if read(Window(self._window_start(cursor) - timedelta(seconds=SLICE_SECONDS))).error is not None:
                return
            state.sliced_to = whole_second(caught_up_at - self.overlap)  # later ones may not be indexed yet
        else:
            fast = Window(min(from_iso(cursor.newest_at), self._now()), since_id=cursor.newest_id)
            for n, window in enumerate(state.turn(fast, self._now(), self.overlap, self.over_budget)):
                if n and not self.x.calls.spare(endpoint):
                    state.slice_waiting = window.end is not None
                    break
                calls, fetch = n + 1, read(window)
                if fetch.error is not None:
                    return
                if window.end is not None:
                    state.sliced(window.end, fetch.complete)
        self._pace(state, endpoint, calls)

    def _read(
        self, source: str, endpoint: str, fetcher: Fetcher, report: IngestReport, store: Storer, window: Window
    ) -> Fetch:
        """One read: what X returned is counted (X bills it) and stored; the cursor moves when every page
        came, except after a slice (it holds older posts); a failure pauses the source."""
        state = self.states[source]
        fetch = fetcher(window)
        report.sources_polled.append(source)
        state.polled(self.clock())
        kind = POST_READ if endpoint == SEARCH_ENDPOINT else OWNED_READ
        record_reads(self.store.db, kind, (t.id for t in fetch.tweets), self._day())
        new_cursor = _newest(source, fetch.tweets) if fetch.complete and window.end is None else None
        store(fetch.tweets, new_cursor, report)
        state.answered(source, fetch.error, self.clock(), self.poll_interval)
        return fetch

    def _pace(self, state: SourceState, endpoint: str, calls: int) -> None:
        """The next turn waits as long as X's remaining budget for the endpoint allows for the `calls`
        this one made, shared by the sources that call it (the tracked searches share one): no 429, and
        the calls stay evenly spread over X's window."""
        sharing = max(1, len(self.search_queries)) if endpoint == SEARCH_ENDPOINT else 1
        state.pace(self.x.spacing(endpoint), sharing * calls, self.clock(), TICK_SECONDS)

    def store_customers(self, tweets: list[Tweet], cursor: Cursor | None, report: IngestReport) -> None:
        wanted = [self._with_summons(t) for t in self._mended([t for t in tweets if self._wanted(t)])]
        report.skipped += len(tweets) - len(wanted)
        result: StoreResult = store_tweets(self.store.db, wanted, cursor)
        report.stored += result.stored
        report.cases_opened += len(result.cases_opened)
        report.follow_ups += result.follow_ups
        self.triage.new_cases(result.cases_opened + result.mended)
        self.triage.follow_ups(result.joined)
        if result.stored:
            self.on_stored()  # the cards go out while the other sources are polled
            log.info(
                "Stored %d new tweets (%d cases opened, %d follow-ups)",
                result.stored,
                len(result.cases_opened),
                result.follow_ups,
            )

    def _mended(self, tweets: list[Tweet]) -> list[Tweet]:
        """Posts X served half-empty, looked up again (`GET /2/tweets`) before their cards are drawn; one
        the lookup cannot mend is stored as it came, and mended when a whole copy comes (a slice)."""
        broken = [t.id for t in tweets if half_empty(t)]
        if not broken:
            return tweets
        fetch = self.x.lookup(broken, source="lookup")
        record_reads(self.store.db, POST_READ, (t.id for t in fetch.tweets), self._day())
        whole = {t.id: t for t in fetch.tweets if not half_empty(t)}
        log.warning("X served %d posts without text or author; %d mended by a lookup", len(broken), len(whole))
        return [replace(whole[t.id], source=t.source) if t.id in whole else t for t in tweets]

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _day(self) -> str:
        """Today's UTC date: X bills an item once per UTC day."""
        return self._now().strftime("%Y-%m-%d")

    def _window_start(self, cursor: Cursor | None) -> datetime:
        now = self._now()
        if cursor is None:
            return now - self.backfill
        return min(from_iso(cursor.newest_at), now) - self.overlap

    def _with_summons(self, tweet: Tweet) -> Tweet:
        """The tweet, marked with whether it @mentions or quotes the brand (X's rule for replies)."""
        if self.account is None:
            return tweet
        summoned = summons(
            tweet.text, self.account.username, quoted_author_id=tweet.quoted_author_id, brand_id=self.account.id
        )
        return replace(tweet, summoned=summoned)

    def _wanted(self, tweet: Tweet) -> bool:
        """Customers only: not the brand's own tweets, not plain retweets."""
        return not tweet.is_retweet and (self.account is None or tweet.author_id != self.account.id)


def _newest(source: str, tweets: list[Tweet]) -> Cursor | None:
    if not tweets:
        return None
    newest = max(tweets, key=tweet_order)
    return Cursor(source=source, newest_id=newest.id, newest_at=newest.created_at)
