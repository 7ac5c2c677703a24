"""A local stand-in for the X API v2, speaking its JSON: users/me, timelines, recent search, posts, DMs.

Every request is first held to X's own OpenAPI description (`fakes/x_openapi.py`): an undeclared or
repeated query parameter, a field or expansion X does not have, `max_results` out of range or a body
that does not fit its schema gets X's `400 Invalid Request` problem, as X answers it. Beyond the
description it keeps what the real API does that the bot must cope with: newest-first pages of at most
`max_results` with an opaque token (`pagination_token` on timelines and DMs, `next_token` in search),
the `includes` expansions, only the requested fields, the 800-tweet reach of the mentions timeline,
recent search's seven-day reach and its refusal of an `end_time` less than 10 s old, `end_time`
exclusive, a per-endpoint 15-minute window whose `x-rate-limit-*` headers come with every answer
(errors included) and that answers 429 once spent, and a tweet that is indexed late (`visible=False`
until `publish()`, or `visible_at` a moment on the fake's clock), with an id lower than ones already served.
The Activity API (subscriptions, the stream) is `fakes/x_activity.py`, held to X's 2.167 description:
a DM to the brand and a post that @mentions it are delivered there too when subscribed.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fakes.server import FakeServer, Recorded, Response
from fakes.x_activity import STREAM_PATH, FakeActivity
from fakes.x_openapi import NOT_FOUND, Operation, invalid_request, problem, x_openapi

TWITTER_EPOCH_MS = 1288834974657
MENTIONS_CAP = 800
WINDOW_SECONDS = 900
SEARCH_REACH = timedelta(days=7)
SEARCH_END_TIME_LAG = timedelta(seconds=10)
PROBLEM_JSON = "application/problem+json"
STREAMED_FIELDS = {"tweet.fields": "created_at,author_id,conversation_id,referenced_tweets,in_reply_to_user_id,lang"}
DM_READ_LIMIT = 15  # GET /2/dm_events and a conversation's events: 15 requests / 15 min per user (2026)


def snowflake(moment: datetime, sequence: int = 0) -> str:
    """An X-style id for a tweet created at `moment` (ids grow with time)."""
    return str(((int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22) + (sequence & 0x3FFFFF))


def snowflake_time(post_id: str) -> datetime:
    """When an X id was made (its top bits are milliseconds since X's epoch)."""
    return datetime.fromtimestamp(((int(post_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)


def x_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def endpoint_of(op: Operation) -> str:
    """The rate-limit bucket of an operation: its path without `/2/` and path parameters."""
    return "/".join(part for part in op.template.removeprefix("/2/").split("/") if not part.startswith("{"))


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
    visible_at: datetime | None = None  # indexed late: X shows it from then on (the fake's clock)
    lang: str = "en"  # X's guess at the post's language (BCP 47)

    def shown(self, now: datetime) -> bool:
        return self.visible and (self.visible_at is None or self.visible_at <= now)


@dataclass
class FakeDM:
    """One `MessageCreate` DM event between the brand and one other user."""

    id: str
    text: str
    sender_id: str
    recipient_id: str
    created_at: datetime
    referenced_tweet: str | None = None
    media_keys: list[str] = field(default_factory=list)

    @property
    def conversation_id(self) -> str:
        return dm_conversation_id(self.sender_id, self.recipient_id)


def dm_conversation_id(a: str, b: str) -> str:
    """X names a one-to-one conversation by its two user ids, lower first."""
    low, high = sorted((a, b), key=int)
    return f"{low}-{high}"


class FakeX(FakeServer):
    def __init__(self, brand_username: str = "Delta", brand_name: str = "Delta", brand_id: str = "5920532") -> None:
        super().__init__()
        self.api = x_openapi()
        self.brand = {"id": brand_id, "username": brand_username, "name": brand_name}
        self.users: dict[str, dict[str, Any]] = {
            brand_id: {
                **self.brand,
                "public_metrics": {
                    "followers_count": 1_900_000,
                    "following_count": 800,
                    "tweet_count": 1_200_000,
                    "listed_count": 9000,
                },
            }
        }
        self.tweets: dict[str, FakeTweet] = {}
        self.posted: list[dict[str, Any]] = []
        self.dms: list[dict[str, Any]] = []  # DMs the bot sent, as sent
        self.dm_events: dict[str, FakeDM] = {}  # every DM event of the brand's account, both ways
        self.closed_dms: set[str] = set()  # users who do not accept DMs from the brand
        self.deleted: set[str] = set()
        self._sequence = itertools.count(1)
        self._user_ids = itertools.count(1000)
        self.rate_limits: dict[str, list[int]] = {}
        self.rate_limit_per_window = 10_000
        self.endpoint_limits: dict[str, int] = {
            "dm_events": DM_READ_LIMIT,
            "dm_conversations/with/dm_events": DM_READ_LIMIT,
        }
        self.mentions_cap: int | None = MENTIONS_CAP
        self.clock: Callable[[], float] = time.time  # tests may drive it, as they drive the bot's
        self.reply_anywhere = False  # an Enterprise plan: replies to posts that do not summon the brand
        self.activity = FakeActivity(self)  # the Activity API: subscriptions and the stream

    # -- test helpers --------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        name: str | None = None,
        followers: int = 120,
        user_id: str | None = None,
        verified: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            for user in self.users.values():
                if user["username"].lower() == username.lower():
                    return user
            user_id = user_id or str(next(self._user_ids))
            user = {
                "id": user_id,
                "username": username,
                "name": name if name is not None else username,
                "public_metrics": {
                    "followers_count": followers,
                    "following_count": 10,
                    "tweet_count": 100,
                    "listed_count": 0,
                },
                "verified": verified,
            }
            self.users[user_id] = user
            return user

    def add_tweet(
        self,
        text: str,
        author: dict[str, Any] | str,
        *,
        created_at: datetime | None = None,
        tweet_id: str | None = None,
        reply_to: str | None = None,
        retweet_of: str | None = None,
        quote_of: str | None = None,
        visible: bool = True,
        visible_at: datetime | None = None,
        lang: str = "en",
    ) -> str:
        """Publish a tweet (or keep it unindexed with `visible=False`, or until `visible_at` on the
        fake's clock: indexed late) and return its id."""
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
            self.tweets[tweet_id] = FakeTweet(
                tweet_id,
                text,
                author["id"],
                created_at,
                conversation_id,
                referenced,
                reply_user,
                visible,
                visible_at,
                lang,
            )
        brand = self.users[self.brand["id"]]
        if author["id"] != brand["id"] and re.search(rf"@{re.escape(brand['username'])}\b", text, re.I):
            self.activity.mention(self._tweet_json(self.tweets[tweet_id], STREAMED_FIELDS), author, brand)
        return tweet_id

    def add_dm(
        self,
        text: str,
        sender: dict[str, Any] | str,
        *,
        to: str | None = None,
        created_at: datetime | None = None,
        referenced_tweet: str | None = None,
        media_keys: list[str] | None = None,
    ) -> str:
        """A DM event in the brand's account: from `sender` to the brand (or to `to`); returns its id."""
        if isinstance(sender, str):
            sender = self.add_user(sender)
        created_at = created_at or datetime.now(UTC)
        with self.lock:
            event_id = snowflake(created_at, next(self._sequence))
            self.dm_events[event_id] = FakeDM(
                event_id,
                text,
                sender["id"],
                to or self.brand["id"],
                created_at,
                referenced_tweet,
                list(media_keys or []),
            )
        recipient = self.users.get(to or self.brand["id"])
        if recipient is not None and recipient["id"] == self.brand["id"]:
            self.activity.dm_received(event_id, text, sender, recipient, created_at)
        return event_id

    def publish(self, tweet_id: str) -> None:
        with self.lock:
            self.tweets[tweet_id].visible = True

    # -- routing -------------------------------------------------------------------------------
    def _serve(self, handler: Any) -> None:
        """The activity stream is held open and written as events come; the rest answers at once."""
        if handler.command == "GET" and handler.path.split("?", 1)[0] == STREAM_PATH:
            self.activity.serve_stream(handler)
            return
        super()._serve(handler)

    def handle(self, request: Recorded) -> Response:
        if request.path.startswith("/2/activity/"):
            if not request.headers.get("authorization", "").startswith(("OAuth ", "Bearer ")):
                return _problem(401, "Unauthorized", "Unauthorized")
            return self.activity.handle(request)
        op, known = self.api.find(request.method, request.path)
        if op is None:
            status, title = (405, "Method Not Allowed") if known else (404, "Not Found Error")
            return _problem(
                status,
                title,
                f"no {request.method} route for {request.path}",
                NOT_FOUND if status == 404 else "about:blank",
            )
        if not request.headers.get("authorization", "").startswith(("OAuth ", "Bearer ")):
            return _problem(401, "Unauthorized", "Unauthorized")
        errors = self.api.check_request(
            op, request.path, request.query_pairs, request.body, request.headers.get("content-type", "")
        )
        errors = errors or self._time_window_errors(op, request.query)
        if errors:
            return Response(400, invalid_request(errors), content_type=PROBLEM_JSON)
        if not self._count(endpoint_of(op)):
            return _problem(429, "Too Many Requests", "Too Many Requests")
        return self._dispatch(op, request)

    def _dispatch(self, op: Operation, request: Recorded) -> Response:
        q = request.query
        match = op.pattern.match(request.path)
        path_id = match.group(1) if match and match.groups() else ""
        match op.operation_id:
            case "getUsersMe":
                return Response(200, {"data": self._user(self.brand["id"], q)})
            case "getUsersMentions":
                return self._timeline(request, self._mentions_of(path_id))
            case "getUsersPosts":
                excluded = set(q.get("exclude", "").split(","))
                own = [
                    t
                    for t in self._visible()
                    if t.author_id == path_id
                    and not ("retweets" in excluded and any(r["type"] == "retweeted" for r in t.referenced))
                    and not ("replies" in excluded and any(r["type"] == "replied_to" for r in t.referenced))
                ]
                return self._timeline(request, own)
            case "getPostsByIds":
                return self._lookup(q)
            case "searchPostsRecent":
                query = q.get("query", "")
                return self._timeline(request, [t for t in self._visible() if _matches(query, t, self)])
            case "createPosts":
                return self._post_tweet(request)
            case "createDirectMessagesByParticipantId":
                return self._send_dm(request, path_id)
            case "getDirectMessagesEvents":
                return self._dm_page(q, list(self.dm_events.values()))
            case "getDirectMessagesEventsByParticipantId":
                conversation = dm_conversation_id(self.brand["id"], path_id)
                return self._dm_page(q, [e for e in self.dm_events.values() if e.conversation_id == conversation])
        return _problem(404, "Not Found Error", f"the fake does not serve {op.template}", NOT_FOUND)

    def finish(self, request: Recorded, response: Response) -> Response:
        """Every answer, errors and scripted faults included, says where the endpoint's window stands."""
        op, _known = self.api.find(request.method, request.path)
        if op is None or "x-rate-limit-remaining" in {name.lower() for name in response.headers}:
            return response
        limit, remaining, reset = self._window(endpoint_of(op))
        response.headers = {
            **response.headers,
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset),
        }
        return response

    def _window(self, endpoint: str) -> tuple[int, int, int]:
        limit = self.endpoint_limits.get(endpoint, self.rate_limit_per_window)
        now = int(self.clock())
        with self.lock:
            window = self.rate_limits.get(endpoint)
            if window is None or now >= window[1]:
                window = self.rate_limits[endpoint] = [limit, now + WINDOW_SECONDS]
            return limit, window[0], window[1]

    def _count(self, endpoint: str) -> bool:
        """Spend one call of the endpoint's 15-minute window; False when it is already spent (a 429)."""
        self._window(endpoint)
        with self.lock:
            window = self.rate_limits[endpoint]
            if window[0] <= 0:
                return False
            window[0] -= 1
            return True

    def _time_window_errors(self, op: Operation, q: dict[str, str]) -> list[dict[str, Any]]:
        """What X checks of `start_time`/`end_time` beyond their format."""
        errors: list[dict[str, Any]] = []
        now = datetime.fromtimestamp(self.clock(), UTC)
        start = _parse_time(q["start_time"]) if "start_time" in q else None
        end = _parse_time(q["end_time"]) if "end_time" in q else None
        if op.operation_id == "searchPostsRecent":
            earliest = now - SEARCH_REACH
            if start is not None and start < earliest:
                errors.append(
                    {
                        "parameters": {"start_time": [q["start_time"]]},
                        "message": f"Invalid 'start_time':'{q['start_time']}'. 'start_time' must be on or "
                        f"after {earliest:%Y-%m-%dT%H:%MZ}",
                    }
                )
            since = q.get("since_id", "")
            if since.isdigit() and snowflake_time(since) < earliest:
                errors.append(
                    {
                        "parameters": {"since_id": [since]},
                        "message": f"Invalid 'since_id':'{since}'. 'since_id' must be a post id created after "
                        f"{earliest:%Y-%m-%dT%H:%MZ}",
                    }
                )
            if end is not None and end > now - SEARCH_END_TIME_LAG:
                errors.append(
                    {
                        "parameters": {"end_time": [q["end_time"]]},
                        "message": f"Invalid 'end_time':'{q['end_time']}'. 'end_time' must be a minimum of "
                        f"10 seconds prior to the request time.",
                    }
                )
        if start is not None and end is not None and start >= end:
            errors.append(
                {
                    "parameters": {"start_time": [q["start_time"]], "end_time": [q["end_time"]]},
                    "message": f"Invalid 'start_time':'{q['start_time']}'. 'start_time' must be before "
                    f"'end_time':'{q['end_time']}'",
                }
            )
        return errors

    def _visible(self) -> list[FakeTweet]:
        now = datetime.fromtimestamp(self.clock(), UTC)
        with self.lock:
            return [t for t in self.tweets.values() if t.shown(now)]

    def _mentions_of(self, user_id: str) -> list[FakeTweet]:
        handle = self.users[user_id]["username"].lower() if user_id in self.users else ""
        mentions = [t for t in self._visible() if re.search(rf"@{re.escape(handle)}\b", t.text, re.I)]
        mentions.sort(key=lambda t: int(t.id), reverse=True)
        return mentions[: self.mentions_cap] if self.mentions_cap else mentions

    def _timeline(self, request: Recorded, candidates: list[FakeTweet]) -> Response:
        q = request.query
        max_results = int(q.get("max_results", "10"))
        tweets = sorted(candidates, key=lambda t: int(t.id), reverse=True)
        if "start_time" in q:
            start = _parse_time(q["start_time"])
            tweets = [t for t in tweets if t.created_at >= start]
        if "end_time" in q:  # exclusive, as X documents it
            end = _parse_time(q["end_time"])
            tweets = [t for t in tweets if t.created_at < end]
        if "since_id" in q:
            tweets = [t for t in tweets if int(t.id) > int(q["since_id"])]
        if "until_id" in q:
            tweets = [t for t in tweets if int(t.id) < int(q["until_id"])]
        page, meta = _paginate(tweets, q, max_results)
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [self._tweet_json(t, q) for t in page]
            includes = self._includes(page, q)
            if includes:
                body["includes"] = includes
        return Response(200, body)

    def _tweet_json(self, tweet: FakeTweet, q: dict[str, str]) -> dict[str, Any]:
        fields = set(filter(None, q.get("tweet.fields", "").split(",")))
        long_post = len(tweet.text) > 280  # X sends long posts' full text only in note_tweet
        out: dict[str, Any] = {
            "id": tweet.id,
            "text": tweet.text[:280] if long_post else tweet.text,
            "edit_history_tweet_ids": [tweet.id],
        }
        available = {
            "note_tweet": {"text": tweet.text} if long_post else None,
            "author_id": tweet.author_id,
            "created_at": x_time(tweet.created_at),
            "conversation_id": tweet.conversation_id,
            "referenced_tweets": tweet.referenced or None,
            "in_reply_to_user_id": tweet.in_reply_to_user_id,
            "lang": tweet.lang,
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

    # -- post lookup (GET /2/tweets?ids=), added for issue 28 ------------------------------------
    def _lookup(self, q: dict[str, str]) -> Response:
        """The posts asked for that X has and shows, in the order asked; each missing one is an entry
        in `errors`, as X reports it (`Not Found Error`, its `resource_id`)."""
        ids = q.get("ids", "").split(",")
        now = datetime.fromtimestamp(self.clock(), UTC)
        with self.lock:
            found = [self.tweets[i] for i in ids if i in self.tweets and self.tweets[i].shown(now)]
        body: dict[str, Any] = {}
        if found:
            body["data"] = [self._tweet_json(t, q) for t in found]
            includes = self._includes(found, q)
            if includes:
                body["includes"] = includes
        missing = [i for i in ids if i not in {t.id for t in found}]
        if missing:
            body["errors"] = [
                {
                    "value": i,
                    "detail": f"Could not find tweet with ids: [{i}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": i,
                    "type": NOT_FOUND,
                }
                for i in missing
            ]
        return Response(200, body)

    # -- direct messages -----------------------------------------------------------------------
    def _dm_page(self, q: dict[str, str], candidates: list[FakeDM]) -> Response:
        """DM events newest first; `id`, `event_type` and `text` always, the rest as `dm_event.fields` asks."""
        types = set(q.get("event_types", "MessageCreate").split(","))
        events = sorted((e for e in candidates if "MessageCreate" in types), key=lambda e: int(e.id), reverse=True)
        page, meta = _paginate(events, q, int(q.get("max_results", "100")))
        fields = set(filter(None, q.get("dm_event.fields", "").split(",")))
        expansions = set(filter(None, q.get("expansions", "").split(",")))
        data = []
        for event in page:
            available: dict[str, Any] = {
                "created_at": x_time(event.created_at),
                "sender_id": event.sender_id,
                "dm_conversation_id": event.conversation_id,
                "referenced_tweets": [{"id": event.referenced_tweet}] if event.referenced_tweet else None,
                "attachments": {"media_keys": event.media_keys} if event.media_keys else None,
            }
            item = {"id": event.id, "event_type": "MessageCreate", "text": event.text}
            item.update({name: value for name, value in available.items() if name in fields and value is not None})
            data.append(item)
        body: dict[str, Any] = {"meta": meta}
        if data:
            body["data"] = data
        includes: dict[str, Any] = {}
        if "sender_id" in expansions:
            senders = list(dict.fromkeys(e.sender_id for e in page))
            users = [self._user(uid, q) for uid in senders if uid in self.users]
            if users:
                includes["users"] = users
        if "referenced_tweets.id" in expansions:
            tweets = [
                self._tweet_json(self.tweets[e.referenced_tweet], q) for e in page if e.referenced_tweet in self.tweets
            ]
            if tweets:
                includes["tweets"] = tweets
        if "attachments.media_keys" in expansions:
            media = [{"media_key": key, "type": "photo"} for e in page for key in e.media_keys]
            if media:
                includes["media"] = media
        if includes:
            body["includes"] = includes
        return Response(200, body)

    def _summoned(self, tweet: FakeTweet) -> bool:
        """X's rule since 2026-02-23 for self-serve apps: reply only to a post that @mentions the brand
        or quotes one of its posts (and to the brand's own posts)."""
        brand = self.brand
        if tweet.author_id == brand["id"] or re.search(rf"@{re.escape(brand['username'])}\b", tweet.text, re.I):
            return True
        quoted = [self.tweets.get(r["id"]) for r in tweet.referenced if r["type"] == "quoted"]
        return any(q is not None and q.author_id == brand["id"] for q in quoted)

    def _send_dm(self, request: Recorded, participant_id: str) -> Response:
        payload = json.loads(request.body)
        if participant_id in self.closed_dms:
            return _problem(403, "Forbidden", "You cannot send messages to users who are not following you.")
        event_id = self.add_dm(payload.get("text", ""), self.users[self.brand["id"]], to=participant_id)
        with self.lock:
            self.dms.append({"participant_id": participant_id, **payload, "dm_event_id": event_id})
        return Response(
            201,
            {
                "data": {
                    "dm_conversation_id": dm_conversation_id(self.brand["id"], participant_id),
                    "dm_event_id": event_id,
                }
            },
        )

    def _post_tweet(self, request: Recorded) -> Response:
        payload = json.loads(request.body)
        text = payload.get("text", "")
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to and (reply_to not in self.tweets or reply_to in self.deleted):
            return _problem(
                403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you."
            )
        brand_id = self.brand["id"]
        if reply_to and not self.reply_anywhere and not self._summoned(self.tweets[reply_to]):
            return _problem(
                403,
                "Forbidden",
                "Reply to this conversation is not allowed because you have not been mentioned or otherwise "
                "engaged by the author of the post you are replying to.",
            )
        if any(t.author_id == brand_id and t.text == text for t in self.tweets.values()):
            return _problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        tweet_id = self.add_tweet(text, self.users[self.brand["id"]], reply_to=reply_to)
        self.posted.append(payload)
        return Response(201, {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}})


def _problem(status: int, title: str, detail: str, type_: str = "about:blank") -> Response:
    return Response(status, problem(status, title, detail, type_), content_type=PROBLEM_JSON)


def _paginate(items: list[Any], q: dict[str, str], max_results: int) -> tuple[list[Any], dict[str, Any]]:
    """One page from an opaque token (`pagination_token` or search's `next_token`), and its `meta`."""
    token = q.get("pagination_token") or q.get("next_token")
    offset = _decode_token(token) if token else 0
    page = items[offset : offset + max_results]
    meta: dict[str, Any] = {"result_count": len(page)}
    if offset + max_results < len(items):
        meta["next_token"] = _encode_token(offset + max_results)
    if offset:
        meta["previous_token"] = _encode_token(max(0, offset - max_results))
    return page, meta


def too_many_requests(reset_in: int = 1) -> dict[str, Any]:
    """Arguments for `FakeX.script` that answer like X's 429 (body from X's published example)."""
    return {
        "status": 429,
        "body": {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
        "headers": {
            "x-rate-limit-limit": "180",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(time.time()) + reset_in),
        },
    }


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
    """Opaque, and at least 16 characters as X's base32 DM tokens are."""
    return base64.b32encode(f"perch-page:{offset:08d}".encode()).decode().rstrip("=").lower()


def _decode_token(token: str) -> int:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        return int(base64.b32decode(padded).decode().split(":")[1])
    except (ValueError, IndexError):
        return 0
