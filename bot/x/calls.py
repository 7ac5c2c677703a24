"""One call to X: its endpoint's rate-limit budget first, then X's failures as Perch's error kinds.

Every request the client (`bot/x/client.py`) makes goes through `Caller.call`: a call to an endpoint
whose budget is known to be spent is refused before it is made (`XRateLimited`); X's rate-limit headers
are remembered per endpoint, so the ingest job can space its polls (`spacing`) and `/perch status` can
show them; a failure becomes `XRateLimited`, `XUsageCapped`, `XCreditsDepleted`, `XAuthError`,
`XRefused` (a write X said no to) or `XUnavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests
import tweepy

from bot.x.answers import NOT_X_ANSWER, describe_error, error_summary, problem_type, refusal
from bot.x.errors import XAuthError, XCreditsDepleted, XRateLimited, XRefused, XUnavailable, XUsageCapped

log = logging.getLogger(__name__)


class Caller:
    """Makes each request to X and remembers each endpoint's budget (`limits`: calls left and when they
    reset; `ceilings`: calls per window), as X's headers last said."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.limits: dict[str, tuple[int, float]] = {}
        self.ceilings: dict[str, int] = {}  # each endpoint's calls per window (`x-rate-limit-limit`)

    def spacing(self, endpoint: str, reserve: int | None = None) -> float | None:
        """Seconds to leave before the next call so the endpoint's remaining budget lasts until its
        reset, with `reserve` calls kept in hand (default: 5 % of the window's limit, at least one);
        None before X has said what the budget is."""
        if endpoint not in self.limits:
            return None
        reserve = self._reserve(endpoint) if reserve is None else reserve
        remaining, reset_at = self.limits[endpoint]
        left = max(reset_at - self.clock(), 0.0)
        if remaining <= reserve:
            return left
        return left / (remaining - reserve)

    def spare(self, endpoint: str) -> bool:
        """Whether the endpoint has calls left beyond the reserve (or X has not said yet): a second call
        in one turn, such as a slice after a fast poll, goes only then."""
        remaining, reset_at = self.limits.get(endpoint, (1, 0.0))
        return self.clock() >= reset_at or remaining > self._reserve(endpoint)

    def _reserve(self, endpoint: str) -> int:
        """The calls kept in hand by default: 5 % of the window's limit, at least one."""
        return max(1, -(-self.ceilings.get(endpoint, 0) * 5 // 100))

    def call(self, endpoint: str, call: Callable[[], requests.Response], *, write: bool = False) -> dict[str, Any]:
        """Make one request unless the endpoint is known to be exhausted; map failures to XError kinds.

        For writes, a 4xx means X said no (`XRefused`, nothing was sent), while a 5xx or a time-out
        leaves the outcome unknown (`XUnavailable`).
        """
        remaining, reset_at = self.limits.get(endpoint, (1, 0.0))
        if remaining <= 0 and self.clock() < reset_at:
            raise XRateLimited(reset_at, endpoint)
        try:
            response = call()
        except tweepy.TooManyRequests as error:
            if problem_type(error.response).endswith("usage-capped") or "UsageCapExceeded" in error.response.text:
                raise XUsageCapped(f"X's monthly usage cap is reached on {endpoint}") from None
            self._remember(endpoint, error.response, exhausted=True)
            raise XRateLimited(self.limits[endpoint][1], endpoint) from None
        except tweepy.TwitterServerError as error:
            raise XUnavailable(f"X answered {error.response.status_code} on {endpoint}") from None
        except tweepy.HTTPException as error:
            status = error.response.status_code
            if write and status != 401 and 400 <= status < 500:  # X said no: nothing was sent
                raise XRefused(status, refusal(status, error.response)) from None
            if status == 402:
                raise XCreditsDepleted(f"X's credits are used up (402 on {endpoint})") from None
            if status in (401, 403):
                raise XAuthError(f"X refused {endpoint} ({status}): {error_summary(error.response)}") from None
            raise XUnavailable(f"X answered {status} on {endpoint}: {error_summary(error.response)}") from None
        except requests.RequestException as error:
            raise XUnavailable(f"X did not answer {endpoint}: {type(error).__name__}") from None
        self._remember(endpoint, response)
        try:
            body = response.json()
        except ValueError:
            # Not X's API talking (a proxy's or captive portal's page): the call never reached X's
            # handler, so a write was not made. Reads back off and try again.
            if write:
                raise XRefused(response.status_code, NOT_X_ANSWER) from None
            raise XUnavailable(f"X sent a body that is not JSON on {endpoint}") from None
        if not isinstance(body, dict):
            raise XUnavailable(f"X sent an unexpected body on {endpoint}")
        for problem in body.get("errors") or []:
            log.warning("X reported a partial error on %s: %s", endpoint, describe_error(problem))
        return body

    def _remember(self, endpoint: str, response: requests.Response | None, *, exhausted: bool = False) -> None:
        headers = response.headers if response is not None else {}
        remaining = _int_header(headers, "x-rate-limit-remaining")
        ceiling = _int_header(headers, "x-rate-limit-limit")
        if ceiling is not None:
            self.ceilings[endpoint] = ceiling
        reset_at = _int_header(headers, "x-rate-limit-reset")
        retry_after = _int_header(headers, "retry-after")
        if exhausted:
            remaining = 0
            if reset_at is None:
                reset_at = int(self.clock()) + (retry_after if retry_after is not None else 60)
        if remaining is not None and reset_at is not None:
            self.limits[endpoint] = (remaining, float(reset_at))


def _int_header(headers: Any, name: str) -> int | None:
    value = headers.get(name) if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
