"""Acknowledgements before follow-up work.

Slack waits at most 3 seconds for a request's acknowledgement, and a listener's work after its ack()
(writing the case, drawing and updating the card, Slack calls) takes the same interpreter as everyone
else's acknowledgements. When many clicks arrive together, each listener's follow-up work therefore
waits, once it has acknowledged, until no request is waiting for its own answer any more (or for a
bounded time, so a steady stream of requests never holds follow-ups back for long).

A request is also acknowledged once only: Slack's retry of a body already received is answered with
the first delivery's answer (`Deliveries`, used by the web server), never handled a second time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, BoltResponse

FOLLOW_UP_WAIT = 0.25  # seconds a follow-up may be held back behind others' acknowledgements, at most
REMEMBERED = 5_000  # deliveries whose answers are kept for Slack's retries (it retries within minutes)


class RequestsInFlight:
    """How many requests the web server is answering now (from the app being called to its answer)."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    @contextmanager
    def answering(self) -> Iterator[None]:
        with self._changed:
            self._count += 1
        try:
            yield
        finally:
            with self._changed:
                self._count -= 1
                if not self._count:
                    self._changed.notify_all()

    def wait_until_quiet(self, at_most: float) -> None:
        """Return once no request is being answered, or after `at_most` seconds."""
        deadline = time.monotonic() + at_most
        with self._changed:
            while self._count and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)


class AckFirst(Ack):
    """Bolt's ack() for one request. Called from the listener's own thread, it sets the answer, then
    holds the listener's follow-up work until the requests in flight (its own included) are answered.
    Called from the request's thread (Bolt acknowledges events itself), it only sets the answer."""

    def __init__(self, in_flight: RequestsInFlight) -> None:
        super().__init__()
        self._in_flight = in_flight
        self._request_thread = threading.get_ident()

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = super().__call__(*args, **kwargs)
        if threading.get_ident() != self._request_thread:
            self._in_flight.wait_until_quiet(FOLLOW_UP_WAIT)
        return response


@dataclass
class Delivery:
    """One request body as first received, and the answer it got once there is one."""

    answered: threading.Event = field(default_factory=threading.Event)
    answer: tuple[str, list[tuple[str, str]], bytes] | None = None


class Deliveries:
    """The bodies received lately, so a retry of one is answered without being handled again."""

    def __init__(self, keep: int = REMEMBERED) -> None:
        self._keep = keep
        self._seen: OrderedDict[bytes, Delivery] = OrderedDict()
        self._lock = threading.Lock()

    def arrive(self, body: bytes) -> tuple[Delivery, bool]:
        """The delivery of `body`, and whether it is new (not received before)."""
        digest = hashlib.sha256(body).digest()
        with self._lock:
            seen = self._seen.get(digest)
            if seen is not None:
                return seen, False
            delivery = self._seen[digest] = Delivery()
            while len(self._seen) > self._keep:
                self._seen.popitem(last=False)
            return delivery, True
