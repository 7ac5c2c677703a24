"""A small threaded HTTP server on 127.0.0.1 with a request log and scripted faults.

The X and Slack stand-ins build on it. A test scripts the next answers for a path
(`server.script("chat.postMessage", status=429, headers={"Retry-After": "1"})`), and asserts on
`server.requests` afterwards. Used by the tests, the demo and the benchmarks; never by the bot.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None  # None: JSON for a dict or list, text for str or bytes


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived
    query_pairs: list[tuple[str, str]] = field(default_factory=list)  # as sent, repeats included
    response: Response | None = None  # what the fake answered (None: connection dropped)


@dataclass
class Fault:
    """A scripted answer. `mode="apply_then"` lets the real handler run first (e.g. a message is
    stored) and then answers with `status`/`body` instead — a success whose response is lost;
    `mode="slow"` gives the real answer, late (after `delay` or once `hold` is set).
    `delay` holds the answer back (a time-out); `drop_connection` closes the socket unanswered."""

    pattern: re.Pattern
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    delay: float = 0.0
    mode: str = "replace"
    drop_connection: bool = False
    hold: threading.Event | None = None  # answer only once the test sets it (a slow service, no timing)
    drip: float = 0.0  # seconds between two bytes of the body (a stalled answer that never quite stops)
    taken: int = 0  # requests answered this way so far


class _Listener(ThreadingHTTPServer):
    """A listen backlog like a real service's: socketserver's default of 5 drops the connections of a
    burst of simultaneous requests, which then wait out TCP's SYN retries (seconds)."""

    request_queue_size = 512


class FakeServer:
    """Subclasses implement `handle(recorded) -> Response`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: without TCP_NODELAY, Nagle's algorithm holds the
            # body until the client's delayed ACK (~40 ms a call on Linux), as no real service does.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                fake._serve(self)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = _Listener(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name=type(self).__name__
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the fake first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- faults --------------------------------------------------------------------------------
    def script(
        self,
        path_pattern: str,
        status: int = 500,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        delay: float = 0.0,
        mode: str = "replace",
        drop_connection: bool = False,
        hold: threading.Event | None = None,
        drip: float = 0.0,
    ) -> Fault:
        """Answer the next `times` requests whose path matches `path_pattern` (a regex) this way.
        `hold`: the answer waits until the test sets the event (a slow service, without timing).
        Returns the fault, whose `taken` says how many requests it has answered so far."""
        with self.lock:
            fault = Fault(
                re.compile(path_pattern),
                status,
                body,
                headers or {},
                times,
                delay,
                mode,
                drop_connection,
                hold,
                drip,
            )
            self.faults.append(fault)
        return fault

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(path):
                    fault.times -= 1
                    fault.taken += 1
                    return fault
        return None

    def requests_to(self, path_pattern: str) -> list[Recorded]:
        pattern = re.compile(path_pattern)
        with self.lock:
            return [r for r in self.requests if pattern.search(r.path)]

    # -- serving -------------------------------------------------------------------------------
    def handle(self, request: Recorded) -> Response:
        raise NotImplementedError

    def finish(self, request: Recorded, response: Response) -> Response:
        """Last touch on every answer, scripted faults included (the X fake adds rate-limit headers)."""
        return response

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        request = Recorded(
            handler.command,
            parts.path,
            dict(pairs),
            {k.lower(): v for k, v in handler.headers.items()},
            body,
            query_pairs=pairs,
        )
        with self.lock:
            self.requests.append(request)
        fault = self._take_fault(parts.path)
        if fault is None or fault.mode in ("apply_then", "slow"):
            response = self.handle(request)
        if fault is not None and fault.hold is not None:
            fault.hold.wait(timeout=60)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)  # after the real work in "apply_then" mode: a slow, lost answer
        if fault is not None and fault.mode != "slow":
            if fault.drop_connection:
                handler.close_connection = True
                handler.wfile.flush()
                handler.connection.close()
                return
            response = Response(fault.status, fault.body, fault.headers)
        response = self.finish(request, response)
        request.response = response
        self._write(handler, response, drip=fault.drip if fault is not None else 0.0)

    @staticmethod
    def _write(handler: BaseHTTPRequestHandler, response: Response, *, drip: float = 0.0) -> None:
        if isinstance(response.body, bytes | str):
            payload = response.body.encode() if isinstance(response.body, str) else response.body
            content_type = response.content_type or "text/plain; charset=utf-8"
        else:
            payload = json.dumps(response.body if response.body is not None else {}).encode()
            content_type = response.content_type or "application/json; charset=utf-8"
        try:
            handler.send_response(response.status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if not drip:
                handler.wfile.write(payload)
                return
            for index in range(len(payload)):
                handler.wfile.write(payload[index : index + 1])
                handler.wfile.flush()
                time.sleep(drip)
        except (BrokenPipeError, ConnectionResetError):
            pass
