"""What can keep a call to X from succeeding, as one exception tree: catch `XError`, or the kind you
can act on (wait for a rate limit, back off from an outage, tell a human about credentials, say no)."""

from __future__ import annotations

from datetime import UTC, datetime


class XError(Exception):
    """Anything that kept a call to X from succeeding."""


class XRateLimited(XError):
    def __init__(self, reset_at: float, endpoint: str) -> None:
        super().__init__(
            f"X rate limit reached on {endpoint}; resets at {datetime.fromtimestamp(reset_at, UTC):%H:%M:%S} UTC"
        )
        self.reset_at = reset_at


class XCreditsDepleted(XError):
    """402: the X app's pay-per-use credits are used up. An operator tops them up; retrying is pointless."""


class XUsageCapped(XError):
    """429 `UsageCapExceeded`: the plan's monthly read cap is reached (not a 15-minute rate limit)."""


class XUnavailable(XError):
    """5xx, a time-out, a dropped connection or a body that is not what X sends."""


class XAuthError(XError):
    """401/403: wrong credentials, or an access level that does not include the endpoint."""


class XRefused(XError):
    """X understood a write and said no (duplicate content, deleted tweet, DMs closed...): `detail` says why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"X refused it ({status}): {detail}")
        self.status = status
        self.detail = detail
