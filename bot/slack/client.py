"""The Slack Web API client every part of the bot shares."""

from __future__ import annotations

import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.web import SlackResponse

PACED_METHODS = frozenset({"chat.postMessage"})


class ChannelPacer:
    """At most one message per `interval` seconds into each channel, counted from the end of the last call.

    Slack allows about one `chat.postMessage` per second per channel; going faster earns 429s, and a
    burst of cards and thread messages would earn a storm of them. Each channel has its own lock, held
    across the call, so the gap Slack sees between two arrivals is never shorter than `interval`,
    whatever the network latency, and posts to other channels are not held up.
    """

    def __init__(self, interval: float, clock: Any = time.monotonic, sleep: Any = time.sleep) -> None:
        self.interval = interval
        self._clock, self._sleep = clock, sleep
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._next: dict[str, float] = {}
        self.waited = 0.0  # seconds spent waiting, for benchmarks

    def call(self, channel: str, send: Any) -> Any:
        with self._guard:
            lock = self._locks.setdefault(channel, threading.Lock())
        with lock:
            delay = self._next.get(channel, 0.0) - self._clock()
            if delay > 0:
                self.waited += delay
                self._sleep(delay)
            try:
                return send()
            finally:
                self._next[channel] = self._clock() + self.interval


class CountedRateLimits(RateLimitErrorRetryHandler):
    """Waits out Slack's 429s as slack_sdk's handler does, counting each one (`GET /metrics`)."""

    seen = 0

    def can_retry(self, **kwargs: Any) -> bool:
        response = kwargs.get("response")
        self.seen += response is not None and response.status_code == 429
        return RetryHandler.can_retry(self, **kwargs)


class PacedWebClient(WebClient):
    """A WebClient whose messages into one channel are paced by a `ChannelPacer`."""

    def __init__(self, *args: Any, pacer: ChannelPacer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pacer = pacer

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        body = kwargs.get("json") or kwargs.get("data") or kwargs.get("params") or {}
        channel = body.get("channel") if isinstance(body, dict) else None
        if api_method not in PACED_METHODS or not channel:
            return super().api_call(api_method, **kwargs)
        return self.pacer.call(str(channel), lambda: super(PacedWebClient, self).api_call(api_method, **kwargs))


def web_client(token: str, base_url: str, *, post_interval: float, timeout: int = 15) -> PacedWebClient:
    """A client on `SLACK_API_URL` that paces messages per channel and waits out 429s (`Retry-After`).

    Connection errors are deliberately *not* retried here: a `chat.postMessage` whose response was lost
    may have been posted, and only the poster's reconciliation can tell. 5xx answers likewise surface
    to the caller, which retries on its next run.
    """
    return PacedWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[CountedRateLimits(max_retry_count=3)],
        pacer=ChannelPacer(post_interval),
    )
