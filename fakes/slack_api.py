"""A local stand-in for Slack's Web API (form or JSON posts to `/api/<method>`).

It keeps channels of messages with `ts`, threads and message metadata, and answers the way Slack does:
history and replies with metadata only under `include_all_metadata`, `oldest`/`latest` exclusive unless
`inclusive`, thread parents carrying `thread_ts`, `reply_count` and `latest_reply`, keys Slack omits
left out rather than null, `chat.update` echoing `channel`, `ts`, `text` and `message`. Every message,
ephemeral, response_url payload, modal and Home view is checked against Block Kit's limits and the
shapes Slack publishes (`fakes/block_kit.py`), and refused as Slack refuses it (`invalid_blocks`, the
reason in `errors`), so a test fails when the bot would have been refused. `pings()` lists every
mention Slack would have notified (`<!channel>`, `<!here>`, `<@U…>`, `<!subteam^…>`).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

from fakes.block_kit import check_message, check_view, parse_json
from fakes.server import FakeServer, Recorded, Response
from fakes.slack_directory import Directory
from fakes.slack_messages import PING, Message, history_page, parse_flag, request_params
from fakes.slack_render import drawing_problem


class FakeSlack(Directory, FakeServer):
    def __init__(self, channels: tuple[str, ...] = ("C0QUEUE",), bot_token_prefix: str = "xoxb-") -> None:
        super().__init__()
        self.channels = set(channels)
        self.not_member: set[str] = set()  # channels that exist but Perch was not invited to
        # What the bot token was granted (Slack sends it in `x-oauth-scopes` on every Web API answer).
        self.scopes = [
            "chat:write",
            "channels:history",
            "groups:history",
            "channels:read",
            "groups:read",
            "commands",
            "usergroups:read",
        ]
        self.scopes += ["files:write", "im:write"]
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
        params = request_params(request)
        request.params = params
        method = request.path.removeprefix("/api/")
        if request.path.startswith("/response_url/"):
            if self._refused(_message_problem(params)):
                return Response(200, {"ok": False, "error": "invalid_blocks"})  # a response_url says no more
            with self.lock:
                self.responses.append(params)
            return Response(200, {"ok": True})

        auth = request.headers.get("authorization", "") or ""
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token", "")
        if not token.startswith((self.token_prefix, "xapp-")):
            return Response(200, {"ok": False, "error": "not_authed"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return Response(200, {"ok": False, "error": "unknown_method"})
        if method == "chat.postMessage" and self._over_channel_limit(params.get("channel", "")):
            return Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
        if method == "chat.postMessage" and params.get("channel") in self.not_member:
            return Response(200, {"ok": False, "error": "not_in_channel"})
        return Response(200, handler(params), {"x-oauth-scopes": ",".join(self.scopes)})

    def _refused(self, problem: str | None, error: str = "invalid_blocks") -> dict[str, Any] | None:
        """Slack's answer to blocks it will not show, the reason where Slack puts it; None if none."""
        if problem is None:
            return None
        self.block_errors.append(problem)
        return {
            "ok": False,
            "error": error,
            "errors": [problem],
            "response_metadata": {"messages": [f"[ERROR] {problem}"]},
        }

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

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = params.get("channel", "")
        if re.fullmatch(r"[UW][A-Z0-9]+", channel):  # a user id: Slack posts in the app's DM with them
            channel = params["channel"] = "D" + channel[1:]
            self.channels.add(channel)
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if refused := self._refused(_message_problem(params)):
            return refused
        thread_ts = params.get("thread_ts") or None
        with self.lock:
            if thread_ts and not any(m.ts == thread_ts and m.channel == channel for m in self.messages):
                return {"ok": False, "error": "thread_not_found"}
            message = Message(
                channel,
                self._next_ts(),
                params.get("text", ""),
                parse_json(params.get("blocks")) or [],
                thread_ts,
                parse_json(params.get("metadata")),
            )
            self.messages.append(message)
            self._notify(message)
        return {"ok": True, "channel": channel, "ts": message.ts, "message": message.as_api(True)}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = params.get("channel", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        if refused := self._refused(_message_problem(params)):
            return refused
        message = Message(
            channel,
            self._next_ts(),
            params.get("text", ""),
            parse_json(params.get("blocks")) or [],
            ephemeral_to=params["user"],
        )
        with self.lock:
            self.ephemerals.append(message)  # seen by one person only: a mention in it notifies nobody
        return {"ok": True, "message_ts": message.ts}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if refused := self._refused(_message_problem(params)):
            return refused
        with self.lock:
            for message in self.messages:
                if message.channel == params.get("channel") and message.ts == params.get("ts"):
                    message.text = params.get("text", message.text)
                    if "blocks" in params:
                        message.blocks = parse_json(params["blocks"]) or []
                    if params.get("metadata"):
                        message.metadata = parse_json(params["metadata"])
                    self.updates.append(params)
                    return {
                        "ok": True,
                        "channel": message.channel,
                        "ts": message.ts,
                        "text": message.text,
                        "message": {**message.as_api(False), "edited": {"user": message.user, "ts": self._next_ts()}},
                    }
        return {"ok": False, "error": "message_not_found"}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or 9e12)
        inclusive = parse_flag(params.get("inclusive"))
        with_metadata = parse_flag(params.get("include_all_metadata"))

        def within(ts: float) -> bool:
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        with self.lock:
            found = [m for m in self.messages if m.channel == channel and not m.thread_ts and within(float(m.ts))]
            replies = {m.ts: self.thread(m.ts) for m in found}
        found.sort(key=lambda m: float(m.ts), reverse=True)
        return history_page(params, [m.as_api(with_metadata, replies[m.ts]) for m in found])

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel", ""), params.get("ts", "")
        with_metadata = parse_flag(params.get("include_all_metadata"))
        with self.lock:
            parent = [m for m in self.messages if m.channel == channel and m.ts == ts]
            replies = [m for m in self.messages if m.channel == channel and m.thread_ts == ts]
        if not parent:
            return {"ok": False, "error": "thread_not_found"}
        replies.sort(key=lambda m: float(m.ts))
        return history_page(
            params, [parent[0].as_api(with_metadata, replies), *(m.as_api(with_metadata) for m in replies)]
        )

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = parse_json(params.get("view")) or {}
        if refused := self._refused(_view_problem(view), "invalid_arguments"):
            return refused
        with self.lock:
            if self._external_id_taken(view):
                return {"ok": False, "error": "duplicate_external_id"}
            view_id = f"V{next(self._clock):08d}"
            stored = {
                **view,
                "id": view_id,
                "hash": f"h{next(self._clock)}",
                "state": {"values": {}},
                "root_view_id": view_id,  # as Slack answers: a modal opened with views.open is its own root
                "previous_view_id": None,
            }
            self.views.append(stored)
        return {"ok": True, "view": stored}

    def _external_id_taken(self, view: dict[str, Any], but: object = None) -> bool:
        """Slack keeps a view's `external_id` unique in the workspace (and at most 255 characters)."""
        wanted = view.get("external_id")
        if not wanted:
            return False
        return len(str(wanted)) > 255 or any(v.get("external_id") == wanted and v["id"] != but for v in self.views)

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = parse_json(params.get("view")) or {}
        if view.get("type") != "home" or not params.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if refused := self._refused(_view_problem(view)):
            return refused
        with self.lock:
            self.homes[params["user_id"]] = view
        return {"ok": True, "view": view}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view = parse_json(params.get("view")) or {}
        if refused := self._refused(_view_problem(view), "invalid_arguments"):
            return refused
        with self.lock:
            if self._external_id_taken(view, but=params.get("view_id")):
                return {"ok": False, "error": "duplicate_external_id"}
            for index, stored in enumerate(self.views):
                if stored["id"] == params.get("view_id"):
                    if params.get("hash") and params["hash"] != stored["hash"]:
                        return {"ok": False, "error": "hash_conflict"}
                    self.views[index] = {
                        **view,
                        "id": stored["id"],
                        "hash": f"h{next(self._clock)}",
                        "state": {"values": {}},
                        "root_view_id": stored.get("root_view_id", stored["id"]),
                        "previous_view_id": stored.get("previous_view_id"),
                    }
                    return {"ok": True, "view": self.views[index]}
        return {"ok": False, "error": "not_found"}

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        file_id = f"F{next(self._clock):08d}"
        with self.lock:
            self.file_names[file_id] = params.get("filename", "")
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        files = parse_json(params.get("files")) or []
        channel = params.get("channel_id")
        if channel and channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        with self.lock:
            for item in files:
                if item["id"] not in self.uploads:
                    return {"ok": False, "error": "file_not_found"}
                self.files.append(
                    {
                        "id": item["id"],
                        "title": item.get("title"),
                        "channel": channel,
                        "filename": self.file_names.get(item["id"]),
                        "content": self.uploads[item["id"]],
                        "initial_comment": params.get("initial_comment"),
                    }
                )
        return {"ok": True, "files": [{"id": item["id"], "title": item.get("title")} for item in files]}

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._clock):06d}"


def _message_problem(params: dict[str, Any]) -> str | None:
    return check_message(params) or drawing_problem(parse_json(params.get("blocks")) or [])


def _view_problem(view: dict[str, Any]) -> str | None:
    return check_view(view) or drawing_problem(view.get("blocks") or [])
