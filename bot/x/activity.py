"""X's Activity API: the brand's subscriptions, and one streamed event as Perch's items.

Perch subscribes the brand account to `dm.received` (the customer's DM, in seconds rather than after
the next of the 15 DM reads X allows per 15 minutes) and `post.mention.create` (a latency add-on: the
mentions timeline still reads the implicit mentions and anything missed). Subscriptions belong to the
X app and outlive a process: `ensure` lists them first and creates only what is missing, so a restart
adds none. Listing uses the app-only token; creating uses the brand's user context (OAuth 1.0a), as
private events require. A subscription X refuses (plan, permissions) is kept as a sentence, and the
polls carry on without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import requests
import tweepy

from bot.x.answers import error_summary
from bot.x.dms import parse_v1_dm_events
from bot.x.tweets import parse_tweets
from storage.dms import DirectMessage
from storage.tweets import Tweet

log = logging.getLogger(__name__)

DM_RECEIVED = "dm.received"
MENTION_CREATED = "post.mention.create"
EVENT_TYPES = (DM_RECEIVED, MENTION_CREATED)
SUBSCRIPTIONS_PATH = "/2/activity/subscriptions"
STREAM_PATH = "/2/activity/stream"
STREAM_SOURCE = "activity"  # the stream's name beside the polled sources (`/perch status`)
MENTION_SOURCE = "mentions"  # a mention the stream brought is stored as the mentions poll stores it
PLAN_WORDS = {
    401: "X did not accept Perch's credentials for the Activity API",
    403: "X's plan or the app's permissions do not include it (the Activity API needs a paid plan, and DM "
    "events the app's *Read and write and Direct message* permission)",
    429: "X's limit on subscriptions is reached",
}


@dataclass
class Subscriptions:
    """What `ensure` found or made: each event type's subscription id, or why X refused it."""

    ids: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # event type → X's refusal in plain words
    created: list[str] = field(default_factory=list)
    error: str | None = None  # the list itself could not be read (the stream is not tried then)


@dataclass(frozen=True)
class Activity:
    """One event from the stream: its envelope's uuid and type, and the items it carries."""

    uuid: str
    event_type: str
    user_id: str
    dms: list[DirectMessage] = field(default_factory=list)
    tweets: list[Tweet] = field(default_factory=list)


class ActivityAPI:
    """The subscription endpoints, called with plain requests (tweepy 4.17 has none of them)."""

    def __init__(
        self,
        base_url: str,
        *,
        bearer_token: str,
        api_key: str,
        api_secret: str,
        access_token: str,
        access_token_secret: str,
        timeout: float = 15.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.bearer = {"Authorization": f"Bearer {bearer_token}"}
        # OAuth 1.0a signing as tweepy does it for its own calls (requests_oauthlib underneath)
        self.user_auth = tweepy.OAuth1UserHandler(api_key, api_secret, access_token, access_token_secret).apply_auth()
        self.timeout = timeout
        self.session = requests.Session()

    def stream_request(self, backfill_minutes: int, read_deadline: float) -> requests.Response:
        """Open `GET /2/activity/stream` (app-only, as X requires), unread: the reader reads it, and a
        read that waits longer than `read_deadline` for a byte fails (a stalled stream)."""
        params = {"backfill_minutes": str(backfill_minutes)} if backfill_minutes else None
        return requests.get(
            self.base_url + STREAM_PATH,
            headers=self.bearer,
            params=params,
            stream=True,
            timeout=(self.timeout, read_deadline),
        )

    def list(self) -> list[dict[str, Any]]:
        """Every subscription of the app (`GET /2/activity/subscriptions`, every page)."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params = {"max_results": "1000", **({"pagination_token": token} if token else {})}
            response = self.session.get(
                self.base_url + SUBSCRIPTIONS_PATH, headers=self.bearer, params=params, timeout=self.timeout
            )
            body = _body(response)
            found += [s for s in body.get("data") or [] if isinstance(s, dict)]
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return found

    def create(self, event_type: str, user_id: str) -> str:
        """`POST /2/activity/subscriptions` for the brand (user context); the new subscription's id."""
        response = self.session.post(
            self.base_url + SUBSCRIPTIONS_PATH,
            json={"event_type": event_type, "filter": {"user_id": user_id}, "tag": f"perch {event_type}"},
            auth=self.user_auth,
            timeout=self.timeout,
        )
        data = _body(response).get("data") or {}
        made = data.get("subscription", data) if isinstance(data, dict) else {}  # the spec nests it, the docs not
        return str(made.get("subscription_id", ""))

    def ensure(self, user_id: str, event_types: tuple[str, ...] = EVENT_TYPES) -> Subscriptions:
        """The brand's subscriptions, found again or created once; a refusal is said, not raised."""
        result = Subscriptions()
        try:
            existing = self.list()
        except ActivityRefused as refused:
            result.error = str(refused)
            return result
        for sub in existing:
            kept = str((sub.get("filter") or {}).get("user_id", "")) == user_id
            if kept and sub.get("event_type") in event_types:
                result.ids.setdefault(str(sub["event_type"]), str(sub.get("subscription_id", "")))
        for event_type in event_types:
            if event_type in result.ids:
                continue
            try:
                result.ids[event_type] = self.create(event_type, user_id)
                result.created.append(event_type)
            except ActivityRefused as refused:
                result.refused[event_type] = str(refused)
                log.warning("X refused the %s subscription: %s; polling carries on", event_type, refused)
        return result


class ActivityRefused(Exception):
    """X said no (or did not answer): the sentence says what and what to do."""


def _body(response: requests.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        meaning = PLAN_WORDS.get(response.status_code, f"X answered {response.status_code}")
        raise ActivityRefused(f"{meaning} ({response.status_code}: {error_summary(response)})")
    try:
        body = response.json()
    except ValueError:
        raise ActivityRefused("X's answer was not JSON") from None
    return body if isinstance(body, dict) else {}


def parse_activity(message: dict[str, Any]) -> Activity | None:
    """One line of the stream as an `Activity`; None for an error line or an event Perch does not use.

    Read by hand, not validated against the description: X's own `dm.received` sample has a negative
    `event_uuid` and a v1.1 payload that the 2.167 schema does not allow, and a reader that drops what
    does not fit the schema drops the customers' DMs."""
    data = message.get("data")
    if not isinstance(data, dict):
        if message.get("errors"):
            log.warning("X's activity stream sent an error: %s", str(message["errors"])[:300])
        return None
    uuid, event_type = str(data.get("event_uuid") or ""), str(data.get("event_type") or "")
    payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
    user_id = str((data.get("filter") or {}).get("user_id") or "") if isinstance(data.get("filter"), dict) else ""
    if event_type == DM_RECEIVED:
        return Activity(uuid, event_type, user_id, dms=parse_v1_dm_events(payload or {}))
    if event_type == MENTION_CREATED:
        includes = data.get("includes") if isinstance(data.get("includes"), dict) else {}
        tweets = parse_tweets({"data": [payload], "includes": includes or {}}, MENTION_SOURCE)
        return Activity(uuid, event_type, user_id, tweets=tweets)
    return None
