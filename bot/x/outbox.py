"""Sending as the brand on X — public replies and DMs — exactly once per Slack submission.

The idempotency key (the modal's view id) is claimed in storage before X is called, so a submission
Slack retries, or an agent double-clicks, sends nothing more. When X does not confirm a send (a
time-out, a 5xx), the next try first looks on X for it and only sends if it is not there.

Such a send is never settled silently: the minute job (`reconcile`) tries again until X answers. A rate
limit keeps it unsettled (the X client holds further calls until X's `x-rate-limit-reset`, then it goes);
a refusal is said in the card's thread, naming who must act, since the agent was told it would go out.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.x.client import XClient
from bot.x.errors import XAuthError, XError, XRateLimited, XRefused, XUnavailable
from storage.db import Store, from_iso, writing
from storage.notes import add_case_note
from storage.replies import (
    CSAT_SOURCE,
    begin_send,
    mark_failed,
    mark_sent,
    reply_created_at,
    retry_unknown,
    sends_to_reconcile,
)

log = logging.getLogger(__name__)

SURVEY_NOT_SENT = "⚠️ The satisfaction survey was not sent: {why} The customer was not asked."

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
        self.outcomes: Counter[str] = Counter()  # sends by outcome (`Sent.status`), for `GET /metrics`

    def reply(
        self,
        case_id: int,
        in_reply_to: str,
        text: str,
        *,
        key: str,
        agent: str,
        agent_name: str,
        source: str = "perch",
        settling: bool = False,
    ) -> Sent:
        """A public reply to the customer's latest tweet. `settling`: the minute job's retry of an unknown
        send, which a rate limit leaves unknown (to go after the reset) rather than failed."""
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
            begin,
            text,
            lambda: self.x.reply(text, in_reply_to),
            lambda since: self._find_reply(in_reply_to, since),
            settling=settling,
        )

    def dm(
        self,
        case_id: int,
        participant: str,
        text: str,
        *,
        key: str,
        agent: str,
        agent_name: str,
        source: str = "perch",
        settling: bool = False,
    ) -> Sent:
        """A private message to the customer (refused when they do not accept DMs from the brand);
        `source` `csat` for the satisfaction question, which answers nothing (storage.replies)."""
        begin = begin_send(
            self.store.db,
            key,
            case_id,
            "dm",
            text,
            agent=agent,
            agent_name=agent_name,
            participant=participant,
            source=source,
        )
        return self._send(
            begin,
            text,
            lambda: self.x.send_dm(participant, text),
            lambda since: self.x.dm_sent_since(participant, text, since),
            settling=settling,
        )

    def reconcile(self) -> int:
        """Settle every send whose outcome nobody knows (the process died while X was answering, or X
        never confirmed it): look for it on X, record it as sent if it is there, else send it again, once.
        A rate limit leaves it for a later run; a refusal is said in the card's thread. The scheduler
        runs this at start-up and then every minute; returns how many it settled (sent or said)."""
        settled = 0
        for row in sends_to_reconcile(self.store.db):
            sent = self._settle(row)
            if sent is None:
                continue
            if sent.status in ("rate_limited", "unknown", "in_flight"):
                log.warning(
                    "Unconfirmed send %s (case %s) not settled yet: %s", row["id"], row["case_id"], sent.message
                )
                continue
            log.info("Unconfirmed send %s (case %s) settled: %s", row["id"], row["case_id"], sent.status)
            if sent.status == "refused":
                self._say_not_sent(row, sent.message)
            settled += sent.delivered or sent.status == "refused"
        return settled

    def _settle(self, row: dict) -> Sent | None:
        agent, agent_name = row["sent_by"] or "bot", row["sent_by_name"] or ""
        if row["kind"] == "dm" and row["dm_participant_id"]:
            return self.dm(
                row["case_id"],
                row["dm_participant_id"],
                row["text"],
                key=row["idempotency_key"],
                agent=agent,
                agent_name=agent_name,
                source=row["source"] or "perch",
                settling=True,
            )
        if row["in_reply_to_tweet_id"]:
            return self.reply(
                row["case_id"],
                row["in_reply_to_tweet_id"],
                row["text"],
                key=row["idempotency_key"],
                agent=agent,
                agent_name=agent_name,
                source=row["source"] or "perch",
                settling=True,
            )
        return None

    def _say_not_sent(self, row: dict, why: str) -> None:
        """In the card's thread: the send the agent was told would go out did not, and who must act (the
        satisfaction question has nobody to act: it is said as the survey job says it)."""
        if row["source"] == CSAT_SOURCE:
            with writing(self.store.db):
                add_case_note(self.store.db, row["case_id"], SURVEY_NOT_SENT.format(why=_plain(why)))
            return
        what = "DM" if row["kind"] == "dm" else "reply"
        agent = row["sent_by"] or ""
        who = f"<@{agent}>" if agent[:1] in ("U", "W") and agent.isalnum() else "Someone on the team"
        with writing(self.store.db):
            add_case_note(
                self.store.db,
                row["case_id"],
                f"⚠️ The {what} X did not confirm did not go out when Perch sent it again: {_plain(why)} "
                f"{who}, answer the customer again.",
            )

    def _send(self, *args: Any, **kwargs: Any) -> Sent:
        sent = self._send_once(*args, **kwargs)
        self.outcomes[sent.status] += 1
        return sent

    def _send_once(self, begin, text: str, send, find, *, settling: bool = False) -> Sent:
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
            mark_failed(db, begin.reply_id, str(error), unknown=settling)  # settling: again after the reset
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
        except XError as error:  # credits used up, a usage cap: X took nothing
            mark_failed(db, begin.reply_id, str(error))
            return Sent("refused", f"X did not take it ({error}). Nothing was sent.")
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


def _plain(text: str) -> str:
    """X's words as plain mrkdwn (no mention or link can ride in on them)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")[:300]
