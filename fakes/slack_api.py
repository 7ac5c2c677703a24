"""A local stand-in for Slack's Web API (form or JSON posts to `/api/<method>`).

It keeps channels of messages with `ts`, threads and message metadata, answers history and replies
the way Slack does (metadata only with `include_all_metadata`), and checks every message against
Block Kit's limits so a test fails when the bot would have been refused. `pings()` lists every
mention Slack would have notified (`<!channel>`, `<!here>`, `<@U…>`, `<!subteam^…>`).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fakes.server import FakeServer, Recorded, Response

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

    def as_api(self, with_metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts,
                               "blocks": self.blocks}
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata:
            out["metadata"] = self.metadata
        return out


class FakeSlack(FakeServer):
    def __init__(self, channels: tuple[str, ...] = ("C0QUEUE",), bot_token_prefix: str = "xoxb-") -> None:
        super().__init__()
        self.channels = set(channels)
        self.messages: list[Message] = []
        self.ephemerals: list[Message] = []
        self.updates: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.token_prefix = bot_token_prefix
        self._clock = itertools.count(1)
        self.block_errors: list[str] = []
        self.notifications: list[str] = []
        self.usergroups: dict[str, set[str]] = {}
        self.uploads: dict[str, bytes] = {}
        self.file_names: dict[str, str] = {}
        self.files: list[dict[str, Any]] = []
        self.homes: dict[str, dict[str, Any]] = {}
        self.socket_url: str | None = None
        self.views: list[dict[str, Any]] = []
        # Slack's chat.postMessage limit: about one message per second per channel. None: not enforced.
        self.channel_interval: float | None = None
        self.rate_limited: list[str] = []  # the channel of every message refused with 429
        self._last_post: dict[str, float] = {}

    # -- assertions helpers --------------------------------------------------------------------
    def top_level(self, channel: str | None = None) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if not m.thread_ts and (channel is None or m.channel == channel)]

    def thread(self, ts: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m.thread_ts == ts]

    def ephemerals_to(self, user: str) -> list[str]:
        with self.lock:
            return [m.text for m in self.ephemerals if m.ephemeral_to == user]

    def pings(self) -> list[str]:
        """Every mention Slack would have turned into a notification: those in new channel messages
        (not those added by an edit, nor those in an ephemeral message only its recipient sees)."""
        with self.lock:
            return list(self.notifications)

    def _notify(self, message: Message) -> None:
        self.notifications += PING.findall(message.text) + PING.findall(json.dumps(message.blocks))

    # -- routing -------------------------------------------------------------------------------
    def handle(self, request: Recorded) -> Response:
        if request.path.startswith("/upload/"):  # files upload v2: the file's bytes, not form fields
            with self.lock:
                self.uploads[request.path.removeprefix("/upload/")] = request.body
            return Response(200, "OK - 1")
        params = _params(request)
        request.params = params
        method = request.path.removeprefix("/api/")
        if request.path.startswith("/response_url/"):
            with self.lock:
                self.responses.append(params)
            return Response(200, "ok")

        auth = request.headers.get("authorization", "") or ""
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token", "")
        if not token.startswith((self.token_prefix, "xapp-")):
            return Response(200, {"ok": False, "error": "not_authed"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return Response(200, {"ok": False, "error": "unknown_method"})
        if method == "chat.postMessage" and self._over_channel_limit(params.get("channel", "")):
            return Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
        return Response(200, handler(params))

    def _over_channel_limit(self, channel: str) -> bool:
        """Refuse a message that arrives sooner than `channel_interval` after the last one accepted."""
        if self.channel_interval is None:
            return False
        with self.lock:
            now = time.monotonic()
            if now - self._last_post.get(channel, -1e9) < self.channel_interval:
                self.rate_limited.append(channel)
                return True
            self._last_post[channel] = now
            return False

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://perch-demo.slack.com/", "team": "Perch demo", "user": "perch",
                "team_id": "T0PERCH", "user_id": "UPERCHBOT", "bot_id": "BPERCH"}

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = params.get("channel", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        problem = check_message(params)
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        thread_ts = params.get("thread_ts") or None
        with self.lock:
            if thread_ts and not any(m.ts == thread_ts and m.channel == channel for m in self.messages):
                return {"ok": False, "error": "thread_not_found"}
            message = Message(channel, self._next_ts(), params.get("text", ""), _json(params.get("blocks")) or [],
                              thread_ts, _json(params.get("metadata")))
            self.messages.append(message)
            self._notify(message)
        return {"ok": True, "channel": channel, "ts": message.ts, "message": message.as_api(True)}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = params.get("channel", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        message = Message(channel, self._next_ts(), params.get("text", ""), _json(params.get("blocks")) or [],
                          ephemeral_to=params["user"])
        with self.lock:
            self.ephemerals.append(message)  # seen by one person only: a mention in it notifies nobody
        return {"ok": True, "message_ts": message.ts}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        problem = check_message(params)
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        with self.lock:
            for message in self.messages:
                if message.channel == params.get("channel") and message.ts == params.get("ts"):
                    message.text = params.get("text", message.text)
                    if "blocks" in params:
                        message.blocks = _json(params["blocks"]) or []
                    if params.get("metadata"):
                        message.metadata = _json(params["metadata"])
                    self.updates.append(params)
                    return {"ok": True, "channel": message.channel, "ts": message.ts}
        return {"ok": False, "error": "message_not_found"}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or 9e12)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self.lock:
            found = [m for m in self.messages
                     if m.channel == channel and not m.thread_ts and oldest < float(m.ts) <= latest]
        found.sort(key=lambda m: float(m.ts), reverse=True)
        return self._page(params, [m.as_api(with_metadata) for m in found])

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel", ""), params.get("ts", "")
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self.lock:
            parent = [m for m in self.messages if m.channel == channel and m.ts == ts]
            replies = [m for m in self.messages if m.channel == channel and m.thread_ts == ts]
        if not parent:
            return {"ok": False, "error": "thread_not_found"}
        replies.sort(key=lambda m: float(m.ts))
        return self._page(params, [m.as_api(with_metadata) for m in parent + replies])

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("usergroup", "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": sorted(self.usergroups[group])}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = _json(params.get("view")) or {}
        problem = check_view(view)
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [problem]}}
        with self.lock:
            stored = {**view, "id": f"V{next(self._clock):08d}", "hash": f"h{next(self._clock)}",
                      "state": {"values": {}}}
            self.views.append(stored)
        return {"ok": True, "view": stored}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = _json(params.get("view")) or {}
        if view.get("type") != "home" or not params.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        problem = check_message({"text": "home", "blocks": view.get("blocks") or []})
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_blocks"}
        with self.lock:
            self.homes[params["user_id"]] = view
        return {"ok": True, "view": view}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view = _json(params.get("view")) or {}
        problem = check_view(view)
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [problem]}}
        with self.lock:
            for index, stored in enumerate(self.views):
                if stored["id"] == params.get("view_id"):
                    if params.get("hash") and params["hash"] != stored["hash"]:
                        return {"ok": False, "error": "hash_conflict"}
                    self.views[index] = {**view, "id": stored["id"], "hash": f"h{next(self._clock)}",
                                         "state": {"values": {}}}
                    return {"ok": True, "view": self.views[index]}
        return {"ok": False, "error": "not_found"}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", ""))
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel = "D" + users.split(",")[0][1:]
        self.channels.add(channel)
        return {"ok": True, "channel": {"id": channel}}

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        file_id = f"F{next(self._clock):08d}"
        with self.lock:
            self.file_names[file_id] = params.get("filename", "")
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        files = _json(params.get("files")) or []
        channel = params.get("channel_id")
        if channel and channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        with self.lock:
            for item in files:
                if item["id"] not in self.uploads:
                    return {"ok": False, "error": "file_not_found"}
                self.files.append({"id": item["id"], "title": item.get("title"), "channel": channel,
                                   "filename": self.file_names.get(item["id"]), "content": self.uploads[item["id"]],
                                   "initial_comment": params.get("initial_comment")})
        return {"ok": True, "files": [{"id": item["id"], "title": item.get("title")} for item in files]}

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """Socket Mode: an app-level token gets the WebSocket URL (when a socket fake is attached)."""
        if self.socket_url is None:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.socket_url}

    @staticmethod
    def _page(params: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
        limit = max(1, min(int(params.get("limit") or 100), 999))
        offset = int(params.get("cursor") or 0) if str(params.get("cursor") or "0").isdigit() else 0
        page = items[offset:offset + limit]
        more = offset + limit < len(items)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(offset + limit) if more else ""}}

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._clock):06d}"


def _params(request: Recorded) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    content_type = request.headers.get("content-type", "")
    if request.body:
        if "json" in content_type:
            params.update(json.loads(request.body))
        else:
            params.update(dict(parse_qsl(request.body.decode(), keep_blank_values=True)))
    return params


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _text_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_message(params: dict[str, Any]) -> str | None:
    """The Block Kit and message limits Slack enforces on chat.postMessage / chat.update."""
    text = params.get("text", "") or ""
    blocks = _json(params.get("blocks")) or []
    if not text and not blocks:
        return "no_text"
    if _text_length(text) > 40000:
        return "msg_too_long"
    if len(blocks) > 50:
        return "more than 50 blocks"
    for index, block in enumerate(blocks):
        if len(block.get("block_id", "")) > 255:
            return f"block {index}: block_id over 255"
        kind = block.get("type")
        if kind == "section":
            fields = block.get("fields") or []
            if len(fields) > 10 or any(not 1 <= _text_length(f.get("text", "")) <= 2000 for f in fields):
                return f"block {index}: a section has at most 10 fields of 1-2000 characters"
            section_text = (block.get("text") or {}).get("text", "")
            if (section_text or not fields) and not 1 <= _text_length(section_text) <= 3000:
                return f"block {index}: section text must be 1-3000 characters"
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10:
                return f"block {index}: context needs 1-10 elements"
            for element in elements:
                if "text" in element and not 1 <= _text_length(element["text"]) <= 3000:
                    return f"block {index}: context text must be 1-3000 characters"
        elif kind == "actions":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 25:
                return f"block {index}: actions needs 1-25 elements"
            for element in elements:
                if element.get("type") == "button":
                    if not 1 <= _text_length(element["text"]["text"]) <= 75:
                        return f"block {index}: button text must be 1-75 characters"
                    if len(element.get("action_id", "")) > 255 or len(element.get("value", "")) > 2000:
                        return f"block {index}: button action_id/value too long"
        elif kind == "header" and not 1 <= _text_length((block.get("text") or {}).get("text", "")) <= 150:
            return f"block {index}: header text must be 1-150 characters"
    metadata = _json(params.get("metadata"))
    if metadata and (not metadata.get("event_type") or "event_payload" not in metadata):
        return "invalid_metadata_format"
    return None


def check_view(view: dict[str, Any]) -> str | None:
    """The modal limits Slack enforces on views.open / views.update."""
    if view.get("type") != "modal":
        return "view type must be modal"
    for name, limit in (("title", 24), ("submit", 24), ("close", 24)):
        if name in view and not 1 <= _text_length(view[name].get("text", "")) <= limit:
            return f"view {name} must be 1-{limit} characters"
    if len(view.get("private_metadata", "")) > 3000:
        return "private_metadata over 3000 characters"
    blocks = view.get("blocks") or []
    if not 1 <= len(blocks) <= 100:
        return "a modal needs 1-100 blocks"
    for index, block in enumerate(blocks):
        if block.get("type") == "input":
            element = block.get("element") or {}
            if len(element.get("initial_value", "")) > element.get("max_length", 3000):
                return f"block {index}: initial_value longer than max_length"
            if _text_length(block.get("label", {}).get("text", "")) > 2000:
                return f"block {index}: label too long"
            if _text_length((block.get("hint") or {}).get("text", "")) > 2000:
                return f"block {index}: hint too long"
        elif block.get("type") == "actions":
            for element in block.get("elements", []):
                if element.get("type") == "static_select" and not 1 <= len(element.get("options", [])) <= 100:
                    return f"block {index}: a select needs 1-100 options"
    return check_message({"text": "view", "blocks": [b for b in blocks if b.get("type") != "input"]})
