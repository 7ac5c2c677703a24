"""HTTP mode: Bolt's WSGI adapter at `/slack/events` and a health check, served by waitress.

Anyone on the internet can reach `/slack/events`, so a request is refused before anything parses it
unless it is signed with the app's signing secret (401), small enough (413) and well-formed (400): one
short log line each, never a traceback. Bolt then verifies the signature again, as it always does.
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
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.channel import HTTPChannel
from waitress.server import create_server

from bot.acks import RequestsInFlight

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1_000_000  # Slack's largest payloads (a modal's state) are far smaller
SIGNATURE_MAX_AGE = 300  # seconds, as Slack's own verifiers allow

log = logging.getLogger(__name__)


def wsgi_app(
    app: App,
    health: Callable[[], dict[str, Any]],
    signing_secret: str | None = None,
    in_flight: RequestsInFlight | None = None,
) -> Callable:
    """One WSGI callable: `GET /healthz` answers here, everything else goes to Bolt, once it passes
    the checks above (when a signing secret is given); `in_flight` counts the requests being answered."""
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)
    secret = signing_secret.encode() if signing_secret else None
    counted = in_flight or RequestsInFlight()

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return _answer(start_response, "200 OK", json.dumps(health()).encode(), "application/json")
        with counted.answering():
            return answer(environ, start_response)

    def answer(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if secret is not None and environ.get("REQUEST_METHOD") == "POST":
            status, body = _screen(environ, secret)
            if status is not None:
                log.warning("Refused a request to %s: %s", environ.get("PATH_INFO"), status)
                return _answer(start_response, status, status.encode(), "text/plain")
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return bolt(environ, start_response)

    return application


def _screen(environ: dict[str, Any], secret: bytes) -> tuple[str | None, bytes]:
    """(the refusal, or None, and the body read): size, signature, then shape."""
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
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "400 Bad Request", body
    if "json" in environ.get("CONTENT_TYPE", ""):
        try:
            document = json.loads(text)
        except ValueError:
            return "400 Bad Request", body
        return (None if isinstance(document, dict) else "400 Bad Request"), body
    payload = parse_qs(text).get("payload")
    if payload:
        try:
            document = json.loads(payload[0])
        except ValueError:
            return "400 Bad Request", body
        if not isinstance(document, dict):
            return "400 Bad Request", body
    return None, body


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
):
    """A waitress server (several worker threads; Bolt's own dev server handles one request at a time)."""
    return create_server(
        wsgi_app(app, health, signing_secret, in_flight),
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
