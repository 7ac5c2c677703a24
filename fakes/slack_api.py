"""A local stand-in for Slack's Web API (form or JSON posts to `/api/<method>`).

It keeps channels of messages with `ts`, threads and message metadata, and answers the way Slack does:
history and replies with metadata only under `include_all_metadata`, `oldest`/`latest` exclusive unless
`inclusive`, thread parents carrying `thread_ts`, `reply_count` and `latest_reply`, keys Slack omits
left out rather than null, `chat.update` echoing `channel`, `ts`, `text` and `message`. Every message,
ephemeral, response_url payload, modal and Home view is checked against Block Kit's limits
(`fakes/block_kit.py`) so a test fails when the bot would have been refused. `pings()` lists every
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

from fakes.block_kit import check_message, check_view, parse_json
from fakes.server import FakeServer, Recorded, Response
from fakes.slack_render import drawing_problem

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


class FakeSlack(FakeServer):
    def __init__(self, channels: tuple[str, ...] = ("C0QUEUE",), bot_token_prefix: str = "xoxb-") -> None:
        super().__init__()
        self.channels = set(channels)
        self.not_member: set[str] = set()  # channels that exist but Perch was not invited to
        # What the bot token was granted (Slack sends it in `x-oauth-scopes` on every Web API answer).
        self.scopes = ["chat:write", "channels:history", "groups:history", "commands", "usergroups:read"]
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
        params = _params(request)
        request.params = params
        method = request.path.removeprefix("/api/")
        if request.path.startswith("/response_url/"):
            problem = check_message(params) or drawing_problem(parse_json(params.get("blocks")) or [])
            if problem:
                self.block_errors.append(problem)
                return Response(200, {"ok": False, "error": "invalid_blocks"})
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
        return {
            "ok": True,
            "url": "https://perch-demo.slack.com/",
            "team": "Perch demo",
            "user": "perch",
            "team_id": "T0PERCH",
            "user_id": "UPERCHBOT",
            "bot_id": "BPERCH",
        }

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = params.get("channel", "")
        if re.fullmatch(r"[UW][A-Z0-9]+", channel):  # a user id: Slack posts in the app's DM with them
            channel = params["channel"] = "D" + channel[1:]
            self.channels.add(channel)
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        problem = check_message(params) or drawing_problem(parse_json(params.get("blocks")) or [])
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
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
        problem = check_message(params) or drawing_problem(parse_json(params.get("blocks")) or [])
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
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
        problem = check_message(params) or drawing_problem(parse_json(params.get("blocks")) or [])
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
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
        return self._page(params, [m.as_api(with_metadata, replies[m.ts]) for m in found])

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel", ""), params.get("ts", "")
        with_metadata = parse_flag(params.get("include_all_metadata"))
        with self.lock:
            parent = [m for m in self.messages if m.channel == channel and m.ts == ts]
            replies = [m for m in self.messages if m.channel == channel and m.thread_ts == ts]
        if not parent:
            return {"ok": False, "error": "thread_not_found"}
        replies.sort(key=lambda m: float(m.ts))
        return self._page(
            params, [parent[0].as_api(with_metadata, replies), *(m.as_api(with_metadata) for m in replies)]
        )

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("usergroup", "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": sorted(self.usergroups[group])}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = parse_json(params.get("view")) or {}
        problem = check_view(view) or drawing_problem(view.get("blocks") or [])
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [problem]}}
        with self.lock:
            stored = {
                **view,
                "id": f"V{next(self._clock):08d}",
                "hash": f"h{next(self._clock)}",
                "state": {"values": {}},
            }
            self.views.append(stored)
        return {"ok": True, "view": stored}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = parse_json(params.get("view")) or {}
        if view.get("type") != "home" or not params.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        problem = check_view(view) or drawing_problem(view.get("blocks") or [])
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_blocks"}
        with self.lock:
            self.homes[params["user_id"]] = view
        return {"ok": True, "view": view}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view = parse_json(params.get("view")) or {}
        problem = check_view(view) or drawing_problem(view.get("blocks") or [])
        if problem:
            self.block_errors.append(problem)
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [problem]}}
        with self.lock:
            for index, stored in enumerate(self.views):
                if stored["id"] == params.get("view_id"):
                    if params.get("hash") and params["hash"] != stored["hash"]:
                        return {"ok": False, "error": "hash_conflict"}
                    self.views[index] = {
                        **view,
                        "id": stored["id"],
                        "hash": f"h{next(self._clock)}",
                        "state": {"values": {}},
                    }
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

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel", "")
        if channel not in self.channels and channel not in self.not_member:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": f"channel-{channel.lower()}",
                "is_channel": channel.startswith("C"),
                "is_private": channel.startswith("G"),
                "is_member": channel not in self.not_member,
                "is_archived": False,
            },
        }

    def _usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "usergroups": [
                {"id": group, "handle": f"group-{group.lower()}", "name": group, "user_count": len(users)}
                for group, users in sorted(self.usergroups.items())
            ],
        }

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """Socket Mode: an app-level token gets the WebSocket URL (when a socket fake is attached)."""
        if self.socket_url is None:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.socket_url}

    @staticmethod
    def _page(params: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
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


def parse_flag(value: Any) -> bool:
    return str(value or "").lower() in ("1", "true")
