"""The fake X's Activity API: subscriptions and the persistent `GET /2/activity/stream`.

Requests are held to X's 2.167 description (`specs/x/x-api-v2-openapi-2.167.json`, the first with the
`dm.received` and `post.mention.create` subscriptions): undeclared parameters, `backfill_minutes`
outside 0–5 and a subscription body that does not fit `CreateActivitySubscriptionRequest` get X's
`400 Invalid Request`. Beyond it, what X does: the stream takes the app-only token only, a private
event's subscription (DMs, mentions) needs the user's context, the same subscription twice is refused
(409), an app has at most 2 connections (a third is 429 `TooManyConnections`). The stream is chunked
JSON lines with an empty line as keep-alive every `keepalive` seconds; events are in X's envelope, a
`dm.received` payload v1.1-shaped as X's own sample, with X's signed `event_uuid`s. A test can stall
the open connections (no bytes at all), end them cleanly, cut them, refuse a subscription or the next
connects, and reconnect with `backfill_minutes` to get again what was sent in those minutes.
"""

from __future__ import annotations

import itertools
import json
import queue
import select
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from fakes.server import Recorded, Response
from fakes.x_openapi import XOpenAPI, invalid_request, problem

if TYPE_CHECKING:
    from fakes.x_api import FakeX

SPEC_2167 = Path(__file__).resolve().parents[1] / "specs" / "x" / "x-api-v2-openapi-2.167.json"
STREAM_PATH = "/2/activity/stream"
SUBSCRIPTIONS_PATH = "/2/activity/subscriptions"
PRIVATE_EVENTS = ("dm.", "chat.", "post.mention.", "like.", "mute.", "block.")
PROBLEM_JSON = "application/problem+json"


@cache
def activity_openapi() -> XOpenAPI:
    """X's 2.167 description, for the activity endpoints only."""
    return XOpenAPI(json.loads(SPEC_2167.read_text(encoding="utf-8")))


@dataclass
class Connection:
    """One open stream: what is waiting to be written, and whether the test stalled it."""

    outbox: queue.Queue[tuple[str, bytes]] = field(default_factory=queue.Queue)
    stalled: threading.Event = field(default_factory=threading.Event)


class FakeActivity:
    def __init__(self, x: FakeX) -> None:
        self.x = x
        self.api = activity_openapi()
        self.keepalive = 20.0
        self.max_connections = 2
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.refused: dict[str, tuple[int, str]] = {}  # event type → (status, detail): a plan without it
        self.connect_refusals: list[tuple[int, str]] = []  # the next connects' answers
        self.connections: list[Connection] = []
        self.connects = 0
        self.delivered: list[tuple[float, dict[str, Any]]] = []  # (fake clock, message): backfill's source
        self._ids = itertools.count(1976325569252868096)
        self._uuids = itertools.count(2080761390344937796, 7919)

    # -- the test's handles --------------------------------------------------------------------
    def refuse(self, event_type: str, status: int = 403, detail: str = "") -> None:
        """X refuses this subscription (a plan or a permission without it)."""
        self.refused[event_type] = (status, detail or f"Your plan does not include {event_type} subscriptions.")

    def stall(self) -> None:
        """The open connections go silent: no event, no keep-alive, until the client gives up."""
        for connection in list(self.connections):
            connection.stalled.set()

    def end(self) -> None:
        """X ends the open streams cleanly (the last chunk sent)."""
        for connection in list(self.connections):
            connection.outbox.put(("end", b""))

    def cut(self) -> None:
        """The open streams are cut mid-way (no last chunk)."""
        for connection in list(self.connections):
            connection.outbox.put(("cut", b""))

    # -- events --------------------------------------------------------------------------------
    def emit(self, event_type: str, user_id: str, payload: dict[str, Any], includes: dict | None = None) -> bool:
        """Deliver an event to every open stream if a subscription matches it; True if one did."""
        subs = [s for s in self.subscriptions.values() if s["event_type"] == event_type]
        sub = next((s for s in subs if s["filter"].get("user_id") == user_id), None)
        if sub is None:
            return False
        number = next(self._uuids)
        data: dict[str, Any] = {
            "event_uuid": str(-number if number % 2 else number),  # X's uuids are signed 64-bit numbers
            "filter": {"user_id": user_id},
            "event_type": event_type,
            "tag": sub.get("tag", ""),
            "payload": payload,
        }
        if includes:
            data["includes"] = includes
        message = {"data": data}
        with self.x.lock:
            self.delivered.append((self.x.clock(), message))
            for connection in self.connections:
                connection.outbox.put(("event", json.dumps(message).encode() + b"\r\n"))
        return True

    def dm_received(
        self, event_id: str, text: str, sender: dict[str, Any], recipient: dict[str, Any], at: datetime
    ) -> None:
        """`dm.received` as X's sample sends it: v1.1 `message_create`, `created_timestamp` in ms."""
        event = {
            "type": "message_create",
            "id": event_id,
            "created_timestamp": str(int(at.timestamp() * 1000)),
            "message_create": {
                "target": {"recipient_id": recipient["id"]},
                "sender_id": sender["id"],
                "message_data": {
                    "text": text,
                    "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
                },
            },
        }
        users = {u["id"]: {"data": _user_v2(u)} for u in (sender, recipient)}
        self.emit("dm.received", recipient["id"], {"direct_message_events": [event], "users": users})

    def mention(self, post: dict[str, Any], author: dict[str, Any], brand: dict[str, Any]) -> None:
        """`post.mention.create`: the post (v2 object), its author and the brand in `includes.users`."""
        self.emit("post.mention.create", brand["id"], post, {"users": [_user_v2(author), _user_v2(brand)]})

    # -- subscriptions -------------------------------------------------------------------------
    def handle(self, request: Recorded) -> Response:
        op, known = self.api.find(request.method, request.path)
        if op is None:
            return _problem(405 if known else 404, "Not Found Error", f"no {request.method} route for {request.path}")
        errors = self.api.check_request(
            op, request.path, request.query_pairs, request.body, request.headers.get("content-type", "")
        )
        if errors:
            return Response(400, invalid_request(errors), content_type=PROBLEM_JSON)
        auth = request.headers.get("authorization", "")
        if op.operation_id == "getActivitySubscriptions":
            data = list(self.subscriptions.values())
            body: dict[str, Any] = {"meta": {"total_subscriptions": len(data)}}
            if data:
                body["data"] = data
            return Response(200, body)
        if op.operation_id == "createActivitySubscription":
            return self._create(json.loads(request.body), auth)
        if op.operation_id == "deleteActivitySubscription":
            gone = self.subscriptions.pop(request.path.rsplit("/", 1)[1], None)
            return Response(200, {"data": {"deleted": gone is not None}})
        return _problem(404, "Not Found Error", f"the fake does not serve {op.template}")

    def _create(self, body: dict[str, Any], auth: str) -> Response:
        event_type, user_id = body["event_type"], body["filter"].get("user_id", "")
        if event_type.startswith(PRIVATE_EVENTS) and not auth.startswith("OAuth "):
            return _unsupported_auth("OAuth 2.0 Application-Only", "[OAuth 1.0a User Context, OAuth 2.0 User Context]")
        if event_type in self.refused:
            status, detail = self.refused[event_type]
            return _problem(status, "Forbidden" if status == 403 else "Client Error", detail)
        if any(s["event_type"] == event_type and s["filter"] == body["filter"] for s in self.subscriptions.values()):
            return _problem(409, "Conflict", f"A subscription for {event_type} with this filter already exists.")
        now = _x_time(datetime.fromtimestamp(self.x.clock(), UTC))
        made = {
            "subscription_id": str(next(self._ids)),
            "event_type": event_type,
            "filter": {"user_id": user_id},
            "created_at": now,
            "updated_at": now,
            **({"tag": body["tag"]} if "tag" in body else {}),
        }
        self.subscriptions[made["subscription_id"]] = made
        return Response(200, {"data": {"subscription": made}})

    # -- the stream ----------------------------------------------------------------------------
    def serve_stream(self, handler: BaseHTTPRequestHandler) -> None:
        """One `GET /2/activity/stream`: checked, then held open and written as events come."""
        parts = urlsplit(handler.path)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        request = Recorded(handler.command, parts.path, dict(pairs), headers, b"", query_pairs=pairs)
        with self.x.lock:
            self.x.requests.append(request)
            self.connects += 1
        refusal = self._refusal(request)
        if refusal is not None:
            request.response = refusal
            self.x._write(handler, refusal)
            return
        connection = Connection()
        with self.x.lock:
            self.connections.append(connection)
            minutes = int(request.query.get("backfill_minutes", "0") or 0)
            since = self.x.clock() - minutes * 60
            for _at, message in (m for m in self.delivered if minutes and m[0] >= since):
                connection.outbox.put(("event", json.dumps(message).encode() + b"\r\n"))
        request.response = Response(200, None)
        try:
            self._stream(handler, connection)
        finally:
            with self.x.lock:
                self.connections.remove(connection)

    def _refusal(self, request: Recorded) -> Response | None:
        op, _known = self.api.find("GET", STREAM_PATH)
        assert op is not None
        errors = self.api.check_request(op, STREAM_PATH, request.query_pairs, b"", "")
        if errors:
            return Response(400, invalid_request(errors), content_type=PROBLEM_JSON)
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return _unsupported_auth("OAuth 1.0a User Context", "[OAuth 2.0 Application-Only]")
        if self.connect_refusals:
            status, detail = self.connect_refusals.pop(0)
            return _problem(status, "Service Unavailable" if status >= 500 else "Too Many Requests", detail)
        if len(self.connections) >= self.max_connections:
            return Response(
                429,
                {
                    "title": "ConnectionException",
                    "detail": "This stream is currently at the maximum allowed connection limit.",
                    "connection_issue": "TooManyConnections",
                    "type": "https://api.x.com/2/problems/streaming-connection",
                },
                content_type=PROBLEM_JSON,
            )
        return None

    def _stream(self, handler: BaseHTTPRequestHandler, connection: Connection) -> None:
        """Chunked writes: each event a line, an empty line each keep-alive period; stalled, nothing."""
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.close_connection = True
        try:
            while True:
                if connection.stalled.is_set():
                    if _client_gone(handler, self.keepalive):
                        return
                    continue
                try:
                    kind, data = connection.outbox.get(timeout=self.keepalive)
                except queue.Empty:
                    kind, data = "event", b"\r\n"  # the keep-alive
                if kind == "end":
                    handler.wfile.write(b"0\r\n\r\n")
                    handler.wfile.flush()
                    return
                if kind == "cut":
                    handler.connection.shutdown(socket.SHUT_RDWR)
                    return
                if connection.stalled.is_set():
                    continue  # a stalled stream loses what comes meanwhile: backfill brings it again
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return


def _client_gone(handler: BaseHTTPRequestHandler, wait: float) -> bool:
    """Whether the client closed its end (its socket reads as ended), waiting at most `wait`."""
    readable, _, _ = select.select([handler.connection], [], [], min(wait, 0.1))
    if not readable:
        return False
    try:
        return handler.connection.recv(1, 2) == b""  # MSG_PEEK
    except OSError:
        return True


def _user_v2(user: dict[str, Any]) -> dict[str, Any]:
    metrics = user.get("public_metrics") or {}
    return {
        "id": user["id"],
        "name": user["name"],
        "username": user["username"],
        "protected": False,
        "verified": bool(user.get("verified", False)),
        "public_metrics": {**metrics, **{f"{k}_str": str(v) for k, v in metrics.items()}},
    }


def _x_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _problem(status: int, title: str, detail: str) -> Response:
    return Response(status, problem(status, title, detail), content_type=PROBLEM_JSON)


def _unsupported_auth(used: str, supported: str) -> Response:
    body = {
        "title": "Unsupported Authentication",
        "detail": f"Authenticating with {used} is forbidden for this endpoint.  Supported authentication types "
        f"are {supported}.",
        "type": "https://api.x.com/2/problems/unsupported-authentication",
        "status": 403,
    }
    return Response(403, body, content_type=PROBLEM_JSON)
