"""Sending as the brand on X — public replies and DMs — exactly once per Slack submission.

The idempotency key (the modal's view id) is claimed in storage before X is called, so a submission
Slack retries, or an agent double-clicks, sends nothing more. When X does not confirm a send (a
time-out, a 5xx), the next try first looks on X for it and only sends if it is not there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.x.client import XClient
from bot.x.errors import XAuthError, XError, XRateLimited, XRefused, XUnavailable
from storage.db import Store, from_iso
from storage.replies import begin_send, mark_failed, mark_sent, reply_created_at, retry_unknown, sends_to_reconcile

log = logging.getLogger(__name__)

LOOKBACK = timedelta(minutes=2)  # clock skew between us and X when looking for an unconfirmed send


@dataclass(frozen=True)
class Sent:
    """`sent` (now), `duplicate` (already sent), `in_flight`, `refused`, `rate_limited` or `unknown`."""

    status: str
    message: str = ""
    x_id: str | None = None
    retry_at: float | None = None  # rate_limited: when X's limit resets (epoch seconds)

    @property
    def delivered(self) -> bool:
        return self.status in ("sent", "duplicate")


class Outbox:
    def __init__(self, store: Store, x: XClient) -> None:
        self.store = store
        self.x = x

    def reply(
        self, case_id: int, in_reply_to: str, text: str, *, key: str, agent: str, agent_name: str, source: str = "perch"
    ) -> Sent:
        """A public reply to the customer's latest tweet."""
        begin = begin_send(
            self.store.db,
            key,
            case_id,
            "reply",
            text,
            agent=agent,
            agent_name=agent_name,
            in_reply_to=in_reply_to,
            source=source,
        )
        return self._send(
            begin, text, lambda: self.x.reply(text, in_reply_to), lambda since: self._find_reply(in_reply_to, since)
        )

    def dm(self, case_id: int, participant: str, text: str, *, key: str, agent: str, agent_name: str) -> Sent:
        """A private message to the customer (refused when they do not accept DMs from the brand)."""
        begin = begin_send(
            self.store.db, key, case_id, "dm", text, agent=agent, agent_name=agent_name, participant=participant
        )
        return self._send(
            begin,
            text,
            lambda: self.x.send_dm(participant, text),
            lambda since: self.x.dm_sent_since(participant, text, since),
        )

    def reconcile(self) -> int:
        """Settle every send whose outcome nobody knows (the process died while X was answering, or X
        never confirmed it): look for it on X, record it as sent if it is there, else send it again, once.
        The scheduler runs this at start-up and then every minute; returns how many it settled."""
        settled = 0
        for row in sends_to_reconcile(self.store.db):
            key = row["idempotency_key"]
            if row["kind"] == "dm" and row["dm_participant_id"]:
                sent = self.dm(
                    row["case_id"],
                    row["dm_participant_id"],
                    row["text"],
                    key=key,
                    agent=row["sent_by"] or "bot",
                    agent_name=row["sent_by_name"] or "",
                )
            elif row["in_reply_to_tweet_id"]:
                sent = self.reply(
                    row["case_id"],
                    row["in_reply_to_tweet_id"],
                    row["text"],
                    key=key,
                    agent=row["sent_by"] or "bot",
                    agent_name=row["sent_by_name"] or "",
                    source=row["source"] or "perch",
                )
            else:
                continue
            log.info("Unconfirmed send %s (case %s) settled: %s", row["id"], row["case_id"], sent.status)
            settled += sent.delivered
        return settled

    def _send(self, begin, text: str, send, find) -> Sent:
        db = self.store.db
        if begin.outcome == "sent":
            return Sent("duplicate", x_id=begin.x_id)
        if begin.outcome == "in_flight":
            return Sent("in_flight", "This is being sent already.")
        if begin.outcome == "check":
            since = from_iso(reply_created_at(db, begin.reply_id)) - LOOKBACK
            try:
                found = find(since)
            except XError as error:
                return Sent("unknown", f"Perch could not check X for the earlier try ({error}). Try again shortly.")
            if found:
                mark_sent(db, begin.reply_id, found)
                return Sent("sent", x_id=found)
            if not retry_unknown(db, begin.reply_id, text):
                return Sent("in_flight", "This is being sent already.")
        try:
            x_id = send()
        except XRefused as error:
            mark_failed(db, begin.reply_id, error.detail)
            return Sent("refused", f"X refused it: {error.detail}")
        except XRateLimited as error:
            mark_failed(db, begin.reply_id, str(error))
            reset = datetime.fromtimestamp(error.reset_at, UTC).strftime("%H:%M UTC")
            return Sent(
                "rate_limited",
                f"X's rate limit for this is used up until {reset}. Nothing was sent.",
                retry_at=error.reset_at,
            )
        except XAuthError as error:
            mark_failed(db, begin.reply_id, str(error))
            return Sent(
                "refused",
                "X did not accept Perch's credentials for sending; nothing was sent. "
                "Ask an admin to check the X access tokens.",
            )
        except XUnavailable as error:
            mark_failed(db, begin.reply_id, str(error), unknown=True)
            log.warning("Send for reply %s not confirmed: %s", begin.reply_id, error)
            return Sent(
                "unknown",
                "X did not confirm it in time. Submitting again is safe: Perch checks X "
                "first and sends only if it did not go out.",
            )
        mark_sent(db, begin.reply_id, x_id)
        return Sent("sent", x_id=x_id)

    def _find_reply(self, in_reply_to: str, since: datetime) -> str | None:
        """A brand reply to `in_reply_to` posted since `since`: the unconfirmed send went out after all."""
        account = self.x.me()
        fetch = self.x.own_tweets(account.id, since)
        if fetch.error is not None:
            raise fetch.error
        for tweet in fetch.tweets:
            if tweet.in_reply_to_tweet_id == in_reply_to and from_iso(tweet.created_at) >= since:
                return tweet.id
        return None
