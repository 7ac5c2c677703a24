"""The workspace around the fake Slack's messages: who the bot is (`auth.test`), its channels
(`conversations.info`, `conversations.open` for a DM), user groups (`usergroups.list`,
`usergroups.users.list`) and the Socket Mode URL (`apps.connections.open`).

Mixed into `FakeSlack` (`fakes/slack_api.py`), which owns the state these read.
"""

from __future__ import annotations

from typing import Any


class Directory:
    channels: set[str]
    not_member: set[str]  # channels that exist but Perch was not invited to
    usergroups: dict[str, set[str]]
    scopes: list[str]
    socket_url: str | None

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

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("usergroup", "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": sorted(self.usergroups[group])}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", ""))
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel = "D" + users.split(",")[0][1:]
        self.channels.add(channel)
        return {"ok": True, "channel": {"id": channel}}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel", "")
        needed = "groups:read" if channel.startswith("G") else "channels:read"
        if channel[:1] in "CG" and needed not in self.scopes:  # as Slack answers a token without it
            return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(self.scopes)}
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
