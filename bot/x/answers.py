"""What X's answers say, in words for people: refusals of a send, problem types and summaries."""

from __future__ import annotations

from typing import Any

import requests

NOT_X_ANSWER = "the answer was not from X's API (a web page, not JSON), so nothing was sent; try again shortly"


REFUSALS = {
    402: "X's credits are used up (402 credits depleted): top up in the X developer console",
    413: "X found the request too large (413)",
    422: "X could not process it (422)",
}


def refusal(status: int, response: requests.Response | None) -> str:
    """X's refusal in plain words: what X said, and for the statuses that need it, what it means."""
    detail = error_summary(response)
    if status == 403 and any(word in detail.lower() for word in ("mentioned", "engaged", "summon")):
        return (
            "X lets an app reply only to posts that @mention the brand or quote it, and this one does neither "
            f"(403: {detail}). Move the customer to DM, or answer on X yourself"
        )
    meaning = REFUSALS.get(status)
    if meaning is None:
        return detail
    return meaning if detail == "no details" else f"{meaning}: {detail}"


def problem_type(response: requests.Response | None) -> str:
    try:
        body = response.json() if response is not None else {}
    except ValueError:
        return ""
    return str(body.get("type") or "") if isinstance(body, dict) else ""


def error_summary(response: requests.Response | None) -> str:
    try:
        body = response.json() if response is not None else {}
    except ValueError:
        return "no details"
    if not isinstance(body, dict):
        return "no details"
    return str(body.get("detail") or body.get("title") or "no details")[:200]


def describe_error(problem: Any) -> str:
    if not isinstance(problem, dict):
        return str(problem)[:200]
    return str(problem.get("detail") or problem.get("title") or problem)[:200]
