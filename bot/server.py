"""HTTP mode: Bolt's WSGI adapter at `/slack/events` and a health check, served by waitress."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.channel import HTTPChannel
from waitress.server import create_server

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_app(app: App, health: Callable[[], dict[str, Any]]) -> Callable:
    """One WSGI callable: `GET /healthz` answers here, everything else goes to Bolt."""
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body = json.dumps(health()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return bolt(environ, start_response)

    return application


def http_server(app: App, health: Callable[[], dict[str, Any]], *, host: str, port: int, threads: int = 16):
    """A waitress server (several worker threads; Bolt's own dev server handles one request at a time)."""
    return create_server(
        wsgi_app(app, health), host=host, port=port, threads=threads, ident="perch", clear_untrusted_proxy_headers=True
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
