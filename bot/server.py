"""HTTP mode: Bolt's WSGI adapter at `/slack/events`, a health check and the metrics, served by waitress.

Anyone on the internet can reach `/slack/events`, so a request is refused before anything parses it
unless it is signed with the app's signing secret (401), small enough (413) and well-formed (400): one
short log line each, never a traceback. "Well-formed" is judged on exactly what Bolt will parse (its own
parser, so two `payload` fields cannot show the screen one and Bolt another), nested at most
`MAX_DEPTH` deep, and shaped as Bolt and the listeners read it. Bolt then verifies the signature again.

Slack retries a request it thinks was not answered in time (`X-Slack-Retry-Num`). A retry of a body
already received is never handled twice: it gets the first delivery's answer (waiting briefly if that
is still being worked out), so the person is told once and a form closes as the first answer said.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import parse_body
from waitress.channel import HTTPChannel
from waitress.server import create_server

from bot.acks import Deliveries, Delivery, RequestsInFlight

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus' text format
MAX_BODY = 1_000_000  # Slack's largest payloads (a modal's state) are far smaller
MAX_DEPTH = 64  # Slack's deepest payloads (rich text inside a message inside a click) nest about 12 deep
SIGNATURE_MAX_AGE = 300  # seconds, as Slack's own verifiers allow
RETRY_WAIT = 2.5  # seconds a retry waits for its first delivery's answer (Slack gives up after 3)

log = logging.getLogger(__name__)


def wsgi_app(
    app: App,
    health: Callable[[], dict[str, Any]],
    signing_secret: str | None = None,
    in_flight: RequestsInFlight | None = None,
    metrics: Callable[[], bytes] | None = None,
) -> Callable:
    """One WSGI callable: `GET /healthz` and `GET /metrics` answer here, everything else goes to Bolt,
    once it passes the checks above (when a signing secret is given); `in_flight` counts the requests
    being answered."""
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)
    secret = signing_secret.encode() if signing_secret else None
    counted = in_flight or RequestsInFlight()
    deliveries = Deliveries()

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return _answer(start_response, "200 OK", json.dumps(health()).encode(), "application/json")
        if metrics and environ.get("PATH_INFO") == METRICS_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return _answer(start_response, "200 OK", metrics(), METRICS_TYPE)
        with counted.answering():
            return answer(environ, start_response)

    def answer(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if secret is None or environ.get("REQUEST_METHOD") != "POST":
            return bolt(environ, start_response)
        status, body = _screen(environ, secret)
        if status is not None:
            log.warning("Refused a request to %s: %s", environ.get("PATH_INFO"), status)
            return _answer(start_response, status, status.encode(), "text/plain")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        delivery, new = deliveries.arrive(body)
        if not new and environ.get("HTTP_X_SLACK_RETRY_NUM"):
            return _replay(delivery, start_response, environ["HTTP_X_SLACK_RETRY_NUM"])
        if not new:  # the same body again, not as a retry (a double submission): handled as before
            return bolt(environ, start_response)
        return _handle_once(bolt, delivery, environ, start_response)

    return application


def _handle_once(
    bolt: Callable, delivery: Delivery, environ: dict[str, Any], start_response: Callable
) -> Iterable[bytes]:
    """Bolt's answer to a first delivery, kept for its retries."""
    said: list[Any] = []

    def keep(status: str, headers: list[tuple[str, str]], *rest: Any) -> Callable:
        said[:] = [status, headers]
        return start_response(status, headers, *rest)

    try:
        body = b"".join(bolt(environ, keep))
        if said:
            delivery.answer = (said[0], said[1], body)
        return [body]
    finally:
        delivery.answered.set()


def _replay(delivery: Delivery, start_response: Callable, retry: str) -> list[bytes]:
    """Slack's retry of a delivery already received: its answer again, never a second handling."""
    delivery.answered.wait(RETRY_WAIT)
    log.info("Slack's retry %s of a request already received: answered as the first, not handled again", retry)
    if delivery.answer is None:  # still being worked on (or it failed): acknowledged, and nothing more
        return _answer(start_response, "200 OK", b"", "text/plain")
    status, headers, body = delivery.answer
    start_response(status, headers)
    return [body]


def _screen(environ: dict[str, Any], secret: bytes) -> tuple[str | None, bytes]:
    """(the refusal, or None, and the body read): size, signature, then what Bolt will parse."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", b""
    if length > MAX_BODY:
        return "413 Payload Too Large", b""
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not _signed(body, timestamp, signature, secret):
        return "401 Unauthorized", body
    problem = _parse_problem(body, environ.get("CONTENT_TYPE", ""))
    if problem is not None:
        log.info("Malformed request: %s", problem)
        return "400 Bad Request", body
    return None, body


def _parse_problem(body: bytes, content_type: str) -> str | None:
    """What is wrong with the document Bolt will read from `body`, or None when it can be handled."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    if not text.startswith("{") and "payload" in text:
        fields = [name for name, _ in parse_qsl(text, keep_blank_values=True)]
        if fields.count("payload") > 1:
            return "more than one payload field"
    try:  # Bolt's own parser, given the content type as Bolt reads it
        document = parse_body(text, content_type.split(";")[0] or None)
    except (ValueError, RecursionError) as error:
        return f"unreadable JSON ({type(error).__name__})"
    if not isinstance(document, dict):
        return "not a JSON object"
    return _too_deep(document) or shape_problem(document)


def _too_deep(document: Any) -> str | None:
    """Nesting beyond `MAX_DEPTH`, found without recursion (a deep document must not exhaust the stack)."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} deep"
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return None


INTERACTIONS = ("block_actions", "block_suggestion", "view_submission", "view_closed", "shortcut", "message_action")
OBJECTS = ("user", "team", "channel", "container", "message", "view", "event", "enterprise", "state")


def shape_problem(document: dict[str, Any]) -> str | None:
    """What Bolt or a listener would trip over in a parsed request (a view without a type, an action
    without an id, form values that are not objects), in a few words; None when it can be handled."""
    kind = document.get("type")
    if kind is not None and not isinstance(kind, str):
        return "type is not a string"
    problem = _objects_problem(document)
    if problem or kind not in INTERACTIONS:
        event = document.get("event")
        return problem or ("event without a type" if kind == "event_callback" and not _has_str(event, "type") else None)
    if not _has_str(document.get("user"), "id"):
        return "no user id"
    if kind in ("block_actions", "block_suggestion") and not _actions_sound(document, kind):
        return "actions without action ids"
    if kind in ("view_submission", "view_closed") and not isinstance(document.get("view"), dict):
        return "no view"
    view = document.get("view")
    return None if view is None else _view_problem(view)


def _objects_problem(document: dict[str, Any]) -> str | None:
    for name in OBJECTS:
        if document.get(name) is not None and not isinstance(document[name], dict):
            return f"{name} is not an object"
    return None


def _has_str(value: Any, key: str) -> bool:
    return isinstance(value, dict) and isinstance(value.get(key), str)


def _actions_sound(document: dict[str, Any], kind: str) -> bool:
    if kind == "block_suggestion":  # a menu's search: one action id and the typed value, at the top
        return isinstance(document.get("action_id"), str) and isinstance(document.get("value", ""), str)
    actions = document.get("actions")
    return (
        isinstance(actions, list)
        and bool(actions)
        and all(_has_str(action, "action_id") and _input_sound(action) for action in actions)
    )


def _view_problem(view: dict[str, Any]) -> str | None:
    """A view as Slack sends it back: a type, string ids and metadata, `state.values` of objects."""
    if not isinstance(view.get("type"), str):
        return "view without a type"
    for name in ("id", "callback_id", "private_metadata", "hash", "external_id"):
        if view.get(name) is not None and not isinstance(view[name], str):
            return f"view {name} is not a string"
    values = (view.get("state") or {}).get("values", {}) if isinstance(view.get("state", {}), dict) else None
    if not isinstance(values, dict):
        return "view state is not an object of values"
    for block in values.values():
        if not isinstance(block, dict) or not all(_input_sound(element) for element in block.values()):
            return "view state values are not objects"
    return None


def _input_sound(element: Any) -> bool:
    """One input or action as the listeners read it: a value is text, an option is an object with text."""
    if not isinstance(element, dict):
        return False
    option, options = element.get("selected_option"), element.get("selected_options", [])
    return (
        isinstance(element.get("value", ""), str | None)
        and isinstance(element.get("selected_user", ""), str | None)
        and (option is None or _has_str(option, "value"))
        and isinstance(options, list)
        and all(_has_str(each, "value") for each in options)
    )


def _signed(body: bytes, timestamp: str, signature: str, secret: bytes) -> bool:
    """Slack's v0 signature over the raw bytes (whatever they are), within five minutes of now."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE:
        return False
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _answer(start_response: Callable, status: str, body: bytes, content_type: str) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def http_server(
    app: App,
    health: Callable[[], dict[str, Any]],
    *,
    host: str,
    port: int,
    threads: int = 48,  # a burst of a team's clicks is answered at once, and counted as in flight
    signing_secret: str | None = None,
    in_flight: RequestsInFlight | None = None,
    metrics: Callable[[], bytes] | None = None,
):
    """A waitress server (several worker threads; Bolt's own dev server handles one request at a time)."""
    return create_server(
        wsgi_app(app, health, signing_secret, in_flight, metrics),
        host=host,
        port=port,
        threads=threads,
        ident="perch",
        clear_untrusted_proxy_headers=True,
    )


def stop_http_server(server, thread: threading.Thread, grace: float = 3.0) -> None:
    """Stop accepting, let requests in flight finish (up to `grace` seconds), then stop the workers.

    The closing runs inside the server's own loop (through its trigger), so the loop never waits on a
    socket another thread closed; idle keep-alive connections are closed, busy ones after their answer.
    """

    def close_in_loop() -> None:
        channels = [c for c in list(server._map.values()) if isinstance(c, HTTPChannel)]
        server.close()
        for channel in channels:
            channel.will_close = True

    try:
        server.trigger.pull_trigger(close_in_loop)
    except OSError:  # the loop's wake-up pipe is gone already (the loop has stopped): close from here
        with contextlib.suppress(OSError):
            close_in_loop()
    thread.join(grace)
    server.task_dispatcher.shutdown()
