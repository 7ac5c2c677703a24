"""The post job: put every case without a card into the queue channel, oldest first, exactly once.

Before each `chat.postMessage` the attempt is written down; after it, the message `ts`. A case with an
attempt and no `ts` (a crash, a time-out, a 5xx whose message may have gone through) is looked up in
the channel history by its `perch_case` metadata before anything is posted again. Slack's 429s are
retried inside slack_sdk after `Retry-After`; any other failure ends the run and the next run resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.cards import CASE_EVENT_TYPE, FOLLOW_UP_EVENT_TYPE, case_card, follow_up_message
from storage.cases import (
    CardData,
    FollowUp,
    cases_to_post,
    follow_ups_to_post,
    mark_follow_up_attempt,
    mark_post_attempts,
    record_follow_up_posted,
    record_posted,
)
from storage.db import Store, from_iso

log = logging.getLogger(__name__)

HISTORY_MARGIN = timedelta(minutes=5)  # clock skew between us and Slack
# Errors about one message's content: skip that message this run, keep posting the others.
MESSAGE_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "invalid_metadata_format",
                  "invalid_metadata_schema", "metadata_too_large", "no_text"}


@dataclass
class PostReport:
    posted: int = 0
    reconciled: int = 0
    follow_ups: int = 0
    failed: int = 0


class Poster:
    def __init__(self, store: Store, client: WebClient, channel: str, *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.client = client
        self.channel = channel
        self.now = now

    def run(self) -> PostReport:
        report = PostReport()
        try:
            self._post_cards(report)
            self._post_follow_ups(report)
        except (SlackClientError, OSError) as error:
            report.failed += 1
            log.warning("Posting to Slack paused until the next run: %s", _describe(error))
        return report

    # -- cards ---------------------------------------------------------------------------------
    def _post_cards(self, report: PostReport) -> None:
        db = self.store.db
        pending = cases_to_post(db)
        if not pending:
            return
        already = self._cards_in_channel([c for c in pending if c.post_attempted_at])
        for case_id in record_posted(db, [(case_id, self.channel, ts) for case_id, ts in already.items()],
                                     reconciled=True):
            report.reconciled += 1
            log.info("Case %s was already in the channel; recorded it instead of posting again", case_id)
        to_post = [card for card in pending if card.case_id not in already]
        mark_post_attempts(db, [card.case_id for card in to_post])
        posted: list[tuple[int, str, str]] = []
        try:
            for card in to_post:
                self._post_card(card, posted, report)
        finally:
            # Recorded once per run: a crash before this line is healed by `_cards_in_channel`.
            report.posted += len(record_posted(db, posted))

    def _post_card(self, card: CardData, posted: list[tuple[int, str, str]], report: PostReport) -> None:
        try:
            response = self.client.chat_postMessage(channel=self.channel, **case_card(card, self.now()))
        except SlackApiError as error:
            if _error_code(error) in MESSAGE_ERRORS:
                report.failed += 1
                log.error("Slack refused the card of case %s (%s); it will be retried",
                          card.case_id, _error_code(error))
                return
            raise
        posted.append((card.case_id, response["channel"], response["ts"]))

    def _cards_in_channel(self, attempted: list[CardData]) -> dict[int, str]:
        """case id → ts of the cards already in the channel, for cases whose post may have gone through."""
        if not attempted:
            return {}
        oldest = min(from_iso(c.post_attempted_at) for c in attempted if c.post_attempted_at) - HISTORY_MARGIN
        wanted = {c.case_id for c in attempted}
        found: dict[int, str] = {}
        for message in self._history(oldest):
            case_id = _payload_id(message, CASE_EVENT_TYPE)
            if case_id in wanted and message.get("thread_ts", message["ts"]) == message["ts"]:
                found.setdefault(case_id, message["ts"])
        return found

    def _history(self, oldest: datetime):
        cursor = None
        while True:
            page = self.client.conversations_history(
                channel=self.channel, oldest=f"{oldest.timestamp():.6f}", include_all_metadata=True,
                limit=200, cursor=cursor,
            )
            yield from page.get("messages", [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    # -- follow-ups ----------------------------------------------------------------------------
    def _post_follow_ups(self, report: PostReport) -> None:
        db = self.store.db
        pending = follow_ups_to_post(db)
        threads_checked: dict[str, dict[str, str]] = {}
        for follow_up in pending:
            if follow_up.post_attempted_at:
                if follow_up.thread_ts not in threads_checked:
                    threads_checked[follow_up.thread_ts] = self._follow_ups_in_thread(follow_up)
                ts = threads_checked[follow_up.thread_ts].get(follow_up.tweet_id)
                if ts:
                    record_follow_up_posted(db, follow_up.tweet_id, ts)
                    report.reconciled += 1
                    continue
            self._post_follow_up(follow_up, report)

    def _post_follow_up(self, follow_up: FollowUp, report: PostReport) -> None:
        db = self.store.db
        mark_follow_up_attempt(db, follow_up.tweet_id)
        response = self.client.chat_postMessage(channel=follow_up.slack_channel, **follow_up_message(follow_up))
        record_follow_up_posted(db, follow_up.tweet_id, response["ts"])
        report.follow_ups += 1

    def _follow_ups_in_thread(self, follow_up: FollowUp) -> dict[str, str]:
        """tweet id → ts of the follow-ups already posted in a case's thread."""
        found: dict[str, str] = {}
        cursor = None
        while True:
            page = self.client.conversations_replies(
                channel=follow_up.slack_channel, ts=follow_up.thread_ts, include_all_metadata=True,
                limit=200, cursor=cursor,
            )
            for message in page.get("messages", []):
                payload = (message.get("metadata") or {})
                if payload.get("event_type") == FOLLOW_UP_EVENT_TYPE:
                    tweet_id = str((payload.get("event_payload") or {}).get("tweet_id", ""))
                    found.setdefault(tweet_id, message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found


def _payload_id(message: dict, event_type: str) -> int | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != event_type:
        return None
    case_id = (metadata.get("event_payload") or {}).get("case_id")
    try:
        return int(case_id)
    except (TypeError, ValueError):
        return None


def _error_code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error", ""))
    except AttributeError:
        return ""


def _describe(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return f"Slack answered {error.response.status_code} {_error_code(error)}"
    return type(error).__name__ + (f": {error}" if str(error) else "")
