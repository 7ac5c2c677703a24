"""A thin layer over `tweepy.Client`: the base URL, time-outs, paging, rate limits and error kinds.

tweepy hard-codes `https://api.twitter.com`; `bot.x.transport.BaseURLSession` routes its requests to
`X_API_URL` (a proxy, or a local fake in tests) and gives every request a time-out; every request goes
through `bot.x.calls.Caller` (rate limits, error kinds). Callers get plain `Tweet`s and mostly one of
three errors: `XRateLimited` (wait until `reset_at`), `XUnavailable` (5xx, time-out, malformed
body: back off and retry later) or `XAuthError` (credentials or access level: a human must act).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import requests
import tweepy

from bot.x.calls import Caller
from bot.x.dms import DM_EVENT_FIELDS, DM_EXPANSIONS, DM_USER_FIELDS
from bot.x.errors import XError, XUnavailable
from bot.x.transport import BaseURLSession
from bot.x.tweets import parse_tweets
from storage.db import from_iso
from storage.tweets import Tweet

PAGE_SIZE = 100
DM_EVENTS = "dm_events"
MENTIONS_ENDPOINT, OWN_ENDPOINT, SEARCH_ENDPOINT = "users/mentions", "users/tweets", "tweets/search/recent"
LOOKUP_ENDPOINT = "tweets/lookup"  # `GET /2/tweets`: its own rate limit, apart from sending (`POST /2/tweets`)
MENTIONS_TIMELINE_CAP = 800  # the mentions timeline never returns more than the newest 800
SEARCH_RECENT_REACH = timedelta(days=7)
X_EPOCH_MS = 1288834974657  # the start of X's snowflake ids
SEARCH_END_TIME_LAG = timedelta(seconds=11)  # X refuses an end_time less than 10 s before the request
Moment = datetime | None  # a timeline's `start_time` or `end_time`, or none sent

TWEET_FIELDS = [
    "created_at",
    "conversation_id",
    "author_id",
    "referenced_tweets",
    "in_reply_to_user_id",
    "entities",
    "lang",
    "note_tweet",
]
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
USER_FIELDS = ["username", "name", "public_metrics", "verified"]


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    name: str


@dataclass
class Fetch:
    """What one poll of one source returned. `complete` is False when paging stopped early."""

    tweets: list[Tweet] = field(default_factory=list)
    complete: bool = True
    error: XError | None = None
    pages: int = 0

    @property
    def oldest_at(self) -> str | None:
        return min((t.created_at for t in self.tweets), default=None)


class XClient:
    """Reads mentions and searches for the brand account; remembers each endpoint's rate limit."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        api_secret: str,
        access_token: str,
        access_token_secret: str,
        bearer_token: str | None = None,
        timeout: float = 15.0,
        write_timeout: float = 2.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.user_client = tweepy.Client(
            consumer_key=api_key,
            consumer_secret=api_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            return_type=requests.Response,
        )
        self.user_client.session = BaseURLSession(base_url, timeout)
        self.app_client: tweepy.Client | None = None
        if bearer_token:
            self.app_client = tweepy.Client(bearer_token=bearer_token, return_type=requests.Response)
            self.app_client.session = BaseURLSession(base_url, timeout)
        # Writes wait for an agent: a short time-out, so the modal can say so within Slack's 3 seconds.
        self.write_client = tweepy.Client(
            consumer_key=api_key,
            consumer_secret=api_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            return_type=requests.Response,
        )
        self.write_client.session = BaseURLSession(base_url, write_timeout)
        self.calls = Caller(lambda: self.clock())  # the client's clock at each call, so one clock drives both
        self._account: Account | None = None

    # -- account -------------------------------------------------------------------------------
    def me(self) -> Account:
        """The brand account (`GET /2/users/me`), asked once and then kept: its id tells our own
        tweets from customers', and is the recipient of the DM links we send."""
        if self._account is None:
            body = self.calls.call("users/me", lambda: self.user_client.get_me(user_auth=True))
            data = body.get("data")
            if not isinstance(data, dict) or not str(data.get("id", "")).isdigit():
                raise XUnavailable("GET /2/users/me returned no user id")
            self._account = Account(
                id=str(data["id"]), username=str(data.get("username", "")), name=str(data.get("name", ""))
            )
        return self._account

    @property
    def account(self) -> Account | None:
        """The brand account if it is known already (no call to X)."""
        return self._account

    def own_tweets(
        self, user_id: str, start_time: Moment, since_id: str | None = None, end_time: Moment = None
    ) -> Fetch:
        """The brand's own tweets (`GET /2/users/:id/tweets`): replies an agent sent on x.com. With
        `since_id`, only what is newer (then `start_time` is not sent); `end_time` is exclusive."""

        def page(token: str | None) -> requests.Response:
            return self.user_client.get_users_tweets(
                user_id,
                user_auth=True,
                start_time=None if since_id else start_time,
                end_time=end_time,
                since_id=since_id,
                max_results=PAGE_SIZE,
                pagination_token=token,
                tweet_fields=TWEET_FIELDS,
                exclude=["retweets"],
            )

        return self._paged(OWN_ENDPOINT, page, source="own")

    # -- writes --------------------------------------------------------------------------------
    def reply(self, text: str, in_reply_to: str) -> str:
        """`POST /2/tweets` as a reply; returns the new tweet's id."""
        body = self.calls.call(
            "tweets",
            lambda: self.write_client.create_tweet(text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True),
            write=True,
        )
        tweet_id = str((body.get("data") or {}).get("id", ""))
        if not tweet_id.isdigit():
            raise XUnavailable("X accepted the reply but sent no tweet id")
        return tweet_id

    def send_dm(self, participant_id: str, text: str) -> str:
        """`POST /2/dm_conversations/with/:participant_id/messages`; returns the DM event id."""
        body = self.calls.call(
            "dm_conversations",
            lambda: self.write_client.create_direct_message(participant_id=participant_id, text=text, user_auth=True),
            write=True,
        )
        return str((body.get("data") or {}).get("dm_event_id", ""))

    def dm_sent_since(self, participant_id: str, text: str, since: datetime) -> str | None:
        """The id of a DM the brand sent `participant_id` since `since` with this text, if X has one
        (`GET /2/dm_conversations/with/:participant_id/dm_events`): an unconfirmed DM went out after all."""
        account = self.me()
        body = self.calls.call(
            "dm_conversations/with/dm_events",
            lambda: self.user_client.get_direct_message_events(
                participant_id=participant_id,
                dm_event_fields=["created_at", "sender_id", "text"],
                event_types="MessageCreate",
                max_results=50,
                user_auth=True,
            ),
        )
        for event in body.get("data") or []:
            if not isinstance(event, dict) or str(event.get("sender_id")) != account.id:
                continue
            try:
                sent_at = from_iso(str(event.get("created_at", "")))
            except ValueError:
                continue
            if event.get("text") == text and sent_at >= since:
                return str(event.get("id"))
        return None

    def dm_page(self, token: str | None, max_results: int = PAGE_SIZE) -> dict[str, Any]:
        """One page of the brand's DM events, newest first (`GET /2/dm_events`): `bot.x.dms` pages."""
        return self.calls.call(
            DM_EVENTS,
            lambda: self.user_client.get_direct_message_events(
                dm_event_fields=DM_EVENT_FIELDS,
                event_types="MessageCreate",
                expansions=DM_EXPANSIONS,
                user_fields=DM_USER_FIELDS,
                max_results=max_results,
                pagination_token=token,
                user_auth=True,
            ),
        )

    def probe_search(self, query: str) -> None:
        """One small recent search with the app-only token (at most ten posts): does the token work?"""
        client = self.app_client or self.user_client
        self.calls.call(
            SEARCH_ENDPOINT,
            lambda: client.search_recent_tweets(query, max_results=10, user_auth=self.app_client is None),
        )

    def spacing(self, endpoint: str, reserve: int | None = None) -> float | None:
        """Seconds to leave before the next call to `endpoint` (`Caller.spacing`)."""
        return self.calls.spacing(endpoint, reserve)

    @property
    def limits(self) -> dict[str, tuple[int, float]]:
        """Each endpoint's calls left and when they reset (Unix seconds), as X last said."""
        return self.calls.limits

    @property
    def ceilings(self) -> dict[str, int]:
        """Each endpoint's calls per rate-limit window, as X last said."""
        return self.calls.ceilings

    # -- timelines -----------------------------------------------------------------------------
    def mentions(self, user_id: str, start_time: Moment, since_id: str | None = None, end_time: Moment = None) -> Fetch:
        """Every page of the account's mentions since `start_time` (before `end_time`, exclusive, if
        given), or newer than `since_id` (newest first, as X pages them)."""

        def page(token: str | None) -> requests.Response:
            return self.user_client.get_users_mentions(
                user_id,
                user_auth=True,
                start_time=None if since_id else start_time,
                end_time=end_time,
                since_id=since_id,
                max_results=PAGE_SIZE,
                pagination_token=token,
                tweet_fields=TWEET_FIELDS,
                expansions=EXPANSIONS,
                user_fields=USER_FIELDS,
            )

        return self._paged(MENTIONS_ENDPOINT, page, source="mentions")

    def search(
        self,
        query: str,
        start_time: datetime | None,
        end_time: datetime | None = None,
        *,
        source: str | None = None,
        since_id: str | None = None,
    ) -> Fetch:
        """Every page of recent search for `query`, within what X serves: back seven days at most, and up
        to 10 s before now at the latest. An `end_time` later than that is pulled back and the fetch is
        marked incomplete, so the caller keeps its cursor and asks again once X can answer for it."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        earliest = now - SEARCH_RECENT_REACH + timedelta(minutes=1)
        if since_id and post_time(since_id) < earliest:  # X refuses a since_id older than its 7 days
            since_id = None
        if start_time is None or start_time < earliest:
            start_time = earliest
        pulled_back = end_time is not None and end_time > now - SEARCH_END_TIME_LAG
        if pulled_back:
            end_time = now - SEARCH_END_TIME_LAG
            if end_time <= start_time:
                return Fetch(complete=False)
        client = self.app_client or self.user_client
        user_auth = self.app_client is None

        def page(token: str | None) -> requests.Response:
            return client.search_recent_tweets(
                query,
                user_auth=user_auth,
                start_time=None if since_id else start_time,
                end_time=end_time,
                since_id=since_id,
                max_results=PAGE_SIZE,
                next_token=token,
                tweet_fields=TWEET_FIELDS,
                expansions=EXPANSIONS,
                user_fields=USER_FIELDS,
            )

        fetch = self._paged(SEARCH_ENDPOINT, page, source=source or f"search:{query}")
        fetch.complete = fetch.complete and not pulled_back
        return fetch

    def lookup(self, ids: list[str], *, source: str) -> Fetch:
        """The posts `ids` again, with their authors (`GET /2/tweets`, 100 a call): for posts a timeline
        served half-empty (`text: null`, an author missing from `includes`)."""
        fetch = Fetch()
        for start in range(0, len(ids), PAGE_SIZE):
            batch = ids[start : start + PAGE_SIZE]
            call = partial(
                self.user_client.get_tweets,
                batch,
                user_auth=True,
                tweet_fields=TWEET_FIELDS,
                expansions=EXPANSIONS,
                user_fields=USER_FIELDS,
            )
            try:
                body = self.calls.call(LOOKUP_ENDPOINT, call)
            except XError as error:
                fetch.complete, fetch.error = False, error
                return fetch
            fetch.pages += 1
            fetch.tweets.extend(parse_tweets(body, source))
        return fetch

    def _paged(self, endpoint: str, page: Callable[[str | None], requests.Response], *, source: str) -> Fetch:
        fetch = Fetch()
        token: str | None = None
        while True:
            try:
                body = self.calls.call(endpoint, partial(page, token))
            except XError as error:
                fetch.complete, fetch.error = False, error
                return fetch
            fetch.pages += 1
            fetch.tweets.extend(parse_tweets(body, source))
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return fetch


def post_time(post_id: str) -> datetime:
    """When X made a post id (snowflake: milliseconds since X's epoch in the top bits)."""
    try:
        return datetime.fromtimestamp(((int(post_id) >> 22) + X_EPOCH_MS) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, UTC)
