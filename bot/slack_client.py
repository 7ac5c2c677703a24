"""The Slack Web API client every part of the bot shares."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.config import Settings


def web_client(settings: Settings, *, timeout: int = 15) -> WebClient:
    """A client on `SLACK_API_URL` that waits out 429s (`Retry-After`) and retries them.

    Connection errors are deliberately *not* retried here: a `chat.postMessage` whose response was lost
    may have been posted, and only the poster's reconciliation can tell. 5xx answers likewise surface
    to the caller, which retries on its next run.
    """
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
    )
