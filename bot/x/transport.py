"""How Perch's requests reach X: the configured base URL instead of tweepy's, one deadline for the
whole answer, and a bound on its size."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import requests

TWEEPY_HOST = "https://api.twitter.com"


MAX_ANSWER_BYTES = 20_000_000  # a page of 100 posts with expansions is well under 1 MB


class BaseURLSession(requests.Session):
    """Sends tweepy's requests to the configured base URL, each within a time-out for the whole answer
    (not only between two bytes: an answer dripping a byte every few seconds would hold the poll for
    ever) and a bound on its size once decompressed (a small gzip can unpack to gigabytes)."""

    def __init__(self, base_url: str, timeout: float, max_bytes: int = MAX_ANSWER_BYTES) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_bytes = max_bytes

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self.base_url + url[len(TWEEPY_HOST) :]
        kwargs.setdefault("timeout", self.timeout)
        kwargs["stream"] = True
        verb = method.decode() if isinstance(method, bytes) else method
        response = super().request(verb, url, *args, **kwargs)
        # A read blocks until its bytes arrive: past the deadline, cut the connection under it.
        watchdog = threading.Timer(self.timeout, _cut, args=(response,))
        watchdog.daemon = True
        watchdog.start()
        too_slow = requests.Timeout(f"X's answer took longer than {self.timeout:g} s")
        body = bytearray()
        try:
            for chunk in response.iter_content(chunk_size=65536):
                body += chunk
                if len(body) > self.max_bytes:
                    raise AnswerTooLarge(f"X's answer passed {self.max_bytes:,} bytes")
        except (requests.RequestException, OSError):
            if _was_cut(response):
                raise too_slow from None
            raise
        finally:
            watchdog.cancel()
            response.close()
        if _was_cut(response):  # cut as the last bytes came: the body may be short
            raise too_slow
        response._content = bytes(body)
        return response


def _cut(response: requests.Response) -> None:
    """Shut the socket under a response that is still being read (the read then fails at once)."""
    response.__dict__["_perch_cut"] = True
    sock = getattr(getattr(response.raw, "_connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _was_cut(response: requests.Response) -> bool:
    return bool(response.__dict__.get("_perch_cut"))


class AnswerTooLarge(requests.RequestException):
    """More than Perch reads of one answer: not what X sends."""
