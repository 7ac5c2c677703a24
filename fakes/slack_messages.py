"""What the fake Slack keeps of a message and how it reads and pages: a message as Slack returns it,
a request's parameters (form or JSON), a page of history with its cursor, and the mentions that notify."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fakes.server import Recorded

PING = re.compile(r"<(!channel|!here|!everyone|@[UW][A-Z0-9]+|!subteam\^[A-Z0-9]+)[^>]*>")


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    user: str = "UPERCHBOT"
    ephemeral_to: str | None = None

    def as_api(self, with_metadata: bool, replies: list[Message] | None = None) -> dict[str, Any]:
        """The message as Slack returns it; `replies` makes it a thread parent (Slack adds `thread_ts`
        equal to its own `ts`, and the reply counts)."""
        out: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "bot_id": "BPERCH",
            "app_id": "A0PERCH",
            "text": self.text,
            "ts": self.ts,
            "team": "T0PERCH",
        }
        if self.blocks:
            out["blocks"] = self.blocks
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
            out["parent_user_id"] = self.user
        elif replies:
            out.update(
                thread_ts=self.ts,
                reply_count=len(replies),
                reply_users_count=1,
                latest_reply=max(replies, key=lambda m: float(m.ts)).ts,
                reply_users=[self.user],
            )
        if with_metadata and self.metadata:
            out["metadata"] = self.metadata
        return out


def history_page(params: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of `conversations.history` or `.replies`: the cursor is an offset, as opaque to the app."""
    limit = max(1, min(int(params.get("limit") or 100), 999))
    offset = int(params.get("cursor") or 0) if str(params.get("cursor") or "0").isdigit() else 0
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return {
        "ok": True,
        "messages": page,
        "has_more": more,
        "response_metadata": {"next_cursor": str(offset + limit) if more else ""},
    }


def request_params(request: Recorded) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    content_type = request.headers.get("content-type", "")
    if request.body:
        if "json" in content_type:
            params.update(json.loads(request.body))
        else:
            params.update(dict(parse_qsl(request.body.decode(), keep_blank_values=True)))
    return params


def parse_flag(value: Any) -> bool:
    return str(value or "").lower() in ("1", "true")
