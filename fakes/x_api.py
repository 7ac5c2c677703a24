"""A local stand-in for the X API v2, speaking its JSON: users/me, mentions timeline, recent search.

It keeps what the real API does that the bot must cope with: newest-first pages of at most
`max_results` with an opaque `next_token`, the `includes.users` expansion, only the requested
`tweet.fields`, the 800-tweet reach of the mentions timeline, `x-rate-limit-*` headers, and a tweet
that is indexed late (`visible=False` until `publish()`), with an id lower than ones already served.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fakes.server import FakeServer, Recorded, Response

TWITTER_EPOCH_MS = 1288834974657
MENTIONS_CAP = 800
WINDOW_SECONDS = 900


def snowflake(moment: datetime, sequence: int = 0) -> str:
    """An X-style id for a tweet created at `moment` (ids grow with time)."""
    return str(((int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22) + (sequence & 0x3FFFFF))


def x_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class FakeTweet:
    id: str
    text: str
    author_id: str
    created_at: datetime
    conversation_id: str
    referenced: list[dict[str, str]] = field(default_factory=list)
    in_reply_to_user_id: str | None = None
    visible: bool = True


class FakeX(FakeServer):
    def __init__(self, brand_username: str = "Delta", brand_name: str = "Delta", brand_id: str = "5920532") -> None:
        super().__init__()
        self.brand = {"id": brand_id, "username": brand_username, "name": brand_name}
        self.users: dict[str, dict[str, Any]] = {brand_id: {**self.brand, "public_metrics": {
            "followers_count": 1_900_000, "following_count": 800, "tweet_count": 1_200_000, "listed_count": 9000}}}
        self.tweets: dict[str, FakeTweet] = {}
        self.posted: list[dict[str, Any]] = []
        self.dms: list[dict[str, Any]] = []
        self.closed_dms: set[str] = set()  # users who do not accept DMs from the brand
        self.deleted: set[str] = set()
        self._sequence = itertools.count(1)
        self._user_ids = itertools.count(1000)
        self.rate_limits: dict[str, list[int]] = {}
        self.rate_limit_per_window = 10_000
        self.mentions_cap: int | None = MENTIONS_CAP

    # -- test helpers --------------------------------------------------------------------------
    def add_user(self, username: str, name: str | None = None, followers: int = 120,
                 user_id: str | None = None, verified: bool = False) -> dict[str, Any]:
        with self.lock:
            for user in self.users.values():
                if user["username"].lower() == username.lower():
                    return user
            user_id = user_id or str(next(self._user_ids))
            user = {"id": user_id, "username": username, "name": name if name is not None else username,
                    "public_metrics": {"followers_count": followers, "following_count": 10,
                                       "tweet_count": 100, "listed_count": 0}, "verified": verified}
            self.users[user_id] = user
            return user

    def add_tweet(self, text: str, author: dict[str, Any] | str, *, created_at: datetime | None = None,
                  tweet_id: str | None = None, reply_to: str | None = None, retweet_of: str | None = None,
                  quote_of: str | None = None, visible: bool = True) -> str:
        """Publish a tweet (or keep it unindexed with `visible=False`) and return its id."""
        if isinstance(author, str):
            author = self.add_user(author)
        created_at = created_at or datetime.now(UTC)
        with self.lock:
            tweet_id = tweet_id or snowflake(created_at, next(self._sequence))
            referenced, conversation_id, reply_user = [], tweet_id, None
            if reply_to:
                parent = self.tweets.get(reply_to)
                referenced.append({"type": "replied_to", "id": reply_to})
                conversation_id = parent.conversation_id if parent else reply_to
                reply_user = parent.author_id if parent else None
            if retweet_of:
                referenced.append({"type": "retweeted", "id": retweet_of})
            if quote_of:
                referenced.append({"type": "quoted", "id": quote_of})
            self.tweets[tweet_id] = FakeTweet(tweet_id, text, author["id"], created_at, conversation_id,
                                              referenced, reply_user, visible)
        return tweet_id

    def publish(self, tweet_id: str) -> None:
        with self.lock:
            self.tweets[tweet_id].visible = True

    # -- routing -------------------------------------------------------------------------------
    def handle(self, request: Recorded) -> Response:
        if not request.headers.get("authorization", "").startswith(("OAuth ", "Bearer ")):
            return Response(401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                                  "detail": "Unauthorized"})
        path = request.path
        if request.method == "GET" and path == "/2/users/me":
            return self._limited("users/me", {"data": self._user(self.brand["id"], request.query)})
        match = re.fullmatch(r"/2/users/(\d+)/mentions", path)
        if request.method == "GET" and match:
            return self._timeline(request, self._mentions_of(match.group(1)), "users/mentions")
        match = re.fullmatch(r"/2/users/(\d+)/tweets", path)
        if request.method == "GET" and match:
            excluded = set(request.query.get("exclude", "").split(","))
            own = [t for t in self._visible() if t.author_id == match.group(1)
                   and not ("retweets" in excluded and any(r["type"] == "retweeted" for r in t.referenced))
                   and not ("replies" in excluded and any(r["type"] == "replied_to" for r in t.referenced))]
            return self._timeline(request, own, "users/tweets")
        match = re.fullmatch(r"/2/dm_conversations/with/(\d+)/messages", path)
        if request.method == "POST" and match:
            return self._send_dm(request, match.group(1))
        if request.method == "GET" and path == "/2/tweets/search/recent":
            query = request.query.get("query", "")
            return self._timeline(request, [t for t in self._visible() if _matches(query, t, self)],
                                  "tweets/search/recent")
        if request.method == "POST" and path == "/2/tweets":
            return self._post_tweet(request)
        return Response(404, {"title": "Not Found Error", "detail": f"no route for {path}",
                              "type": "https://api.twitter.com/2/problems/resource-not-found"})

    def _visible(self) -> list[FakeTweet]:
        with self.lock:
            return [t for t in self.tweets.values() if t.visible]

    def _mentions_of(self, user_id: str) -> list[FakeTweet]:
        handle = self.users[user_id]["username"].lower() if user_id in self.users else ""
        mentions = [t for t in self._visible() if re.search(rf"@{re.escape(handle)}\b", t.text, re.I)]
        mentions.sort(key=lambda t: int(t.id), reverse=True)
        return mentions[:self.mentions_cap] if self.mentions_cap else mentions

    def _timeline(self, request: Recorded, candidates: list[FakeTweet], endpoint: str) -> Response:
        q = request.query
        try:
            max_results = int(q.get("max_results", "10"))
        except ValueError:
            max_results = -1
        low = 10 if endpoint == "tweets/search/recent" else 5
        if not low <= max_results <= 100:
            return Response(400, {"title": "Invalid Request", "detail": "max_results out of range",
                                  "errors": [{"parameters": {"max_results": [q.get("max_results")]},
                                              "message": f"The `max_results` query parameter value "
                                                         f"[{q.get('max_results')}] is not between {low} and 100"}]})
        tweets = sorted(candidates, key=lambda t: int(t.id), reverse=True)
        if "start_time" in q:
            start = _parse_time(q["start_time"])
            tweets = [t for t in tweets if t.created_at >= start]
        if "end_time" in q:
            end = _parse_time(q["end_time"])
            tweets = [t for t in tweets if t.created_at <= end]
        if "since_id" in q:
            tweets = [t for t in tweets if int(t.id) > int(q["since_id"])]
        if "until_id" in q:
            tweets = [t for t in tweets if int(t.id) < int(q["until_id"])]
        token = q.get("pagination_token") or q.get("next_token")
        offset = _decode_token(token) if token else 0
        page = tweets[offset:offset + max_results]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if offset + max_results < len(tweets):
            meta["next_token"] = _encode_token(offset + max_results)
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [self._tweet_json(t, q) for t in page]
            includes = self._includes(page, q)
            if includes:
                body["includes"] = includes
        return self._limited(endpoint, body)

    def _tweet_json(self, tweet: FakeTweet, q: dict[str, str]) -> dict[str, Any]:
        fields = set(filter(None, q.get("tweet.fields", "").split(",")))
        long_post = len(tweet.text) > 280  # X sends long posts' full text only in note_tweet
        out: dict[str, Any] = {"id": tweet.id, "text": tweet.text[:280] if long_post else tweet.text,
                               "edit_history_tweet_ids": [tweet.id]}
        available = {
            "note_tweet": {"text": tweet.text} if long_post else None,
            "author_id": tweet.author_id,
            "created_at": x_time(tweet.created_at),
            "conversation_id": tweet.conversation_id,
            "referenced_tweets": tweet.referenced or None,
            "in_reply_to_user_id": tweet.in_reply_to_user_id,
            "lang": "en",
        }
        for name in fields:
            if available.get(name) is not None:
                out[name] = available[name]
        return out

    def _includes(self, page: list[FakeTweet], q: dict[str, str]) -> dict[str, Any]:
        expansions = set(filter(None, q.get("expansions", "").split(",")))
        includes: dict[str, Any] = {}
        author_ids = []
        if "author_id" in expansions:
            author_ids = list(dict.fromkeys(t.author_id for t in page))
        if "referenced_tweets.id" in expansions:
            referenced = [self.tweets[r["id"]] for t in page for r in t.referenced if r["id"] in self.tweets]
            if referenced:
                includes["tweets"] = [self._tweet_json(t, q) for t in referenced]
                if "referenced_tweets.id.author_id" in expansions:
                    author_ids += [t.author_id for t in referenced if t.author_id not in author_ids]
        users = [self._user(uid, q) for uid in author_ids if uid in self.users]
        if users:
            includes["users"] = users
        return includes

    def _user(self, user_id: str, q: dict[str, str]) -> dict[str, Any]:
        user = self.users[user_id]
        fields = set(filter(None, q.get("user.fields", "").split(",")))
        out = {"id": user["id"], "name": user["name"], "username": user["username"]}
        if "public_metrics" in fields:
            out["public_metrics"] = user["public_metrics"]
        if "verified" in fields:
            out["verified"] = bool(user.get("verified", False))
        return out

    def _send_dm(self, request: Recorded, participant_id: str) -> Response:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return Response(400, {"title": "Invalid Request", "detail": "body is not JSON"})
        if participant_id in self.closed_dms:
            return Response(403, {"detail": "You cannot send messages to users who are not following you.",
                                  "type": "about:blank", "title": "Forbidden", "status": 403})
        event_id = str(next(self._sequence) + 1_800_000_000_000_000_000)
        with self.lock:
            self.dms.append({"participant_id": participant_id, **payload, "dm_event_id": event_id})
        return self._limited("dm_conversations", {"data": {"dm_conversation_id": f"{self.brand['id']}-{participant_id}",
                                                           "dm_event_id": event_id}}, status=201)

    def _post_tweet(self, request: Recorded) -> Response:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return Response(400, {"title": "Invalid Request", "detail": "body is not JSON"})
        text = payload.get("text", "")
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to and (reply_to not in self.tweets or reply_to in self.deleted):
            return Response(403, {"detail": "You attempted to reply to a Tweet that is deleted or not visible to "
                                            "you.", "type": "about:blank", "title": "Forbidden", "status": 403})
        brand_id = self.brand["id"]
        if any(t.author_id == brand_id and t.text == text for t in self.tweets.values()):
            return Response(403, {"detail": "You are not allowed to create a Tweet with duplicate content.",
                                  "type": "about:blank", "title": "Forbidden", "status": 403})
        tweet_id = self.add_tweet(text, self.users[self.brand["id"]], reply_to=reply_to)
        self.posted.append(payload)
        return self._limited("tweets", {"data": {"id": tweet_id, "text": text,
                                                 "edit_history_tweet_ids": [tweet_id]}}, status=201)

    def _limited(self, endpoint: str, body: Any, status: int = 200) -> Response:
        """Count the call against its 15-minute window and say so in `x-rate-limit-*` headers."""
        now = int(time.time())
        with self.lock:
            window = self.rate_limits.get(endpoint)
            if window is None or now >= window[1]:
                window = self.rate_limits[endpoint] = [self.rate_limit_per_window, now + WINDOW_SECONDS]
            window[0] = max(0, window[0] - 1)
            remaining, reset = window
        headers = {"x-rate-limit-limit": str(self.rate_limit_per_window),
                   "x-rate-limit-remaining": str(remaining), "x-rate-limit-reset": str(reset)}
        return Response(status, body, headers)


def too_many_requests(reset_in: int = 1) -> dict[str, Any]:
    """Arguments for `FakeX.script` that answer like X's 429 (body from X's published example)."""
    return {"status": 429, "body": {"title": "Too Many Requests", "detail": "Too Many Requests",
                                    "type": "about:blank", "status": 429},
            "headers": {"x-rate-limit-limit": "180", "x-rate-limit-remaining": "0",
                        "x-rate-limit-reset": str(int(time.time()) + reset_in)}}


def _matches(query: str, tweet: FakeTweet, fake: FakeX) -> bool:
    """A small subset of X's search syntax: words and "phrases" (AND), @mentions, from:, -is:retweet."""
    text = tweet.text.lower()
    for negate, phrase, word in re.findall(r'(-?)(?:"([^"]*)"|(\S+))', query):
        term = (phrase or word).lower()
        if term == "is:retweet":
            hit = any(r["type"] == "retweeted" for r in tweet.referenced)
        elif term.startswith("from:"):
            hit = fake.users.get(tweet.author_id, {}).get("username", "").lower() == term[5:]
        elif term.startswith("@"):
            hit = re.search(rf"{re.escape(term)}\b", text) is not None
        else:
            hit = term in text
        if hit == bool(negate):
            return False
    return True


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _encode_token(offset: int) -> str:
    return base64.b32encode(f"page:{offset}".encode()).decode().rstrip("=").lower()


def _decode_token(token: str) -> int:
    padded = token.upper() + "=" * (-len(token) % 8)
    return int(base64.b32decode(padded).decode().split(":")[1])
