"""`python -m bot doctor`: the configuration checked against the real services, one line per check.

Each check says ✓, or ✗ with the fix in plain words. Nothing is posted, sent or changed: the Slack
side reads (`auth.test`, `conversations.info`, `usergroups.list`, `apps.connections.open`), the X side
reads one account, at most ten posts, one DM event and the app's activity subscriptions (with
X_ACTIVITY_STREAM; Perch itself creates the missing ones at start-up). Start-up runs `can_post` (the cheap part) and
refuses to start when Perch could not post to its queue channel at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.x.activity import EVENT_TYPES, ActivityAPI, ActivityRefused
from bot.x.client import DM_EVENTS, XClient
from bot.x.errors import XAuthError, XCreditsDepleted, XError, XUsageCapped

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"
CHANNEL_FIX = "use the channel's id (in Slack: the channel's name → About → Channel ID, C… or G…)"


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str

    @property
    def line(self) -> str:
        return ("✓ " if self.ok else "✗ ") + self.text


def doctor(settings: Settings, slack: WebClient, x: XClient) -> list[Finding]:
    return [*check_slack(settings, slack), *check_x(settings, x)]


def can_post(settings: Settings, slack: WebClient) -> list[Finding]:
    """The bot token works and Perch is a member of its queue channel (else nothing can reach Slack)."""
    found = [_auth(slack)]
    if found[0].ok:
        found.append(_channel(slack, "SLACK_QUEUE_CHANNEL", settings.slack_queue_channel))
    return found


def check_slack(settings: Settings, slack: WebClient) -> list[Finding]:
    found = [_auth(slack)]
    if not found[0].ok:
        return found
    found.append(_scopes(slack))
    channels = {
        "SLACK_QUEUE_CHANNEL": settings.slack_queue_channel,
        "SLACK_REPORT_CHANNEL": settings.slack_report_channel,
        "SLACK_DM_CHANNEL": settings.slack_dm_channel,
    }
    found += [_channel(slack, name, channel) for name, channel in channels.items() if channel]
    groups = {
        "SUPPORT_USERGROUP": settings.support_usergroup,
        "MANAGER_USERGROUP": settings.manager_usergroup,
        "SUPPORT_LEAD_USERGROUP": settings.support_lead_usergroup,
        "REVIEW_USERGROUP": settings.review_usergroup,
    }
    found += _usergroups(slack, {name: group for name, group in groups.items() if group})
    found.append(_mode(settings, slack))
    return found


def check_x(settings: Settings, x: XClient) -> list[Finding]:
    try:
        account = x.me()
    except XCreditsDepleted:
        return [Finding(False, "X: the app's credits are used up (402): top up in the X developer console.")]
    except XUsageCapped:
        return [Finding(False, "X: the app's monthly usage cap is reached: raise it in the X developer console.")]
    except XAuthError as error:
        return [
            Finding(
                False,
                f"X refused the user-context keys ({error}): X_API_KEY and X_API_SECRET are the app's consumer "
                "keys; X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET must be generated for the brand account.",
            )
        ]
    except XError as error:
        return [Finding(False, f"X did not answer GET /2/users/me ({error}): check X_API_URL and the network.")]
    found = [Finding(True, f"X: Perch speaks as @{account.username} (user id {account.id}).")]
    found.append(
        Finding(True, "X: the rate-limit headers are readable, so Perch paces itself to the plan.")
        if "users/me" in x.limits
        else Finding(
            False,
            "X's answers carry no x-rate-limit-* headers (a proxy strips them?): Perch cannot pace itself; "
            "set POLL_INTERVAL_SECONDS to poll at a fixed pace.",
        )
    )
    if settings.x_bearer_token:
        found.append(_app_only(x, account.username))
    if settings.x_read_dms:
        found.append(_dm_access(x))
    if settings.x_activity_stream and settings.x_bearer_token:
        found.append(_subscriptions(settings, settings.x_bearer_token, account.id))
    return found


def manifest_scopes(path: Path = MANIFEST) -> set[str] | None:
    """The bot scopes `manifest.yml` asks for (None when the file is not beside the package)."""
    if not path.exists():
        return None
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return set(manifest["oauth_config"]["scopes"]["bot"])


# -- Slack ---------------------------------------------------------------------------------------


def _auth(slack: WebClient) -> Finding:
    try:
        answer = slack.auth_test()
    except SlackApiError as error:
        code = error.response.get("error")
        return Finding(
            False,
            f"Slack refused SLACK_BOT_TOKEN ({code}): copy the *Bot User OAuth Token* (xoxb-…) from the app's "
            "OAuth & Permissions page, after installing the app to the workspace.",
        )
    except (SlackClientError, OSError) as error:
        return Finding(False, f"Slack did not answer auth.test ({type(error).__name__}): check SLACK_API_URL.")
    if not answer.get("bot_id"):
        return Finding(False, "SLACK_BOT_TOKEN is not a bot token: use the Bot User OAuth Token (xoxb-…).")
    return Finding(
        True, f"Slack: workspace {answer.get('team')}, bot user @{answer.get('user')} ({answer.get('user_id')})."
    )


def _scopes(slack: WebClient) -> Finding:
    wanted = manifest_scopes()
    if wanted is None:
        return Finding(True, "Slack scopes: manifest.yml is not beside the package, so they were not compared.")
    answer = slack.auth_test()
    granted = {s.strip() for s in (answer.headers.get("x-oauth-scopes") or "").split(",") if s.strip()}
    missing = sorted(wanted - granted)
    if missing:
        return Finding(
            False,
            f"Slack: the bot token lacks {', '.join(missing)}: add them from manifest.yml (OAuth & Permissions → "
            "Scopes) and reinstall the app.",
        )
    return Finding(True, f"Slack: every scope manifest.yml asks for is granted ({len(wanted)}).")


def _channel(slack: WebClient, name: str, channel: str) -> Finding:
    try:
        info = slack.conversations_info(channel=channel)["channel"]
    except SlackApiError as error:
        code = error.response.get("error")
        if code == "channel_not_found":
            return Finding(
                False, f"{name} {channel} was not found (or it is private and Perch is not in it): {CHANNEL_FIX}."
            )
        return Finding(False, f"{name} {channel}: Slack said {code}.")
    except (SlackClientError, OSError) as error:
        return Finding(False, f"{name}: Slack did not answer conversations.info ({type(error).__name__}).")
    if info.get("is_archived"):
        return Finding(False, f"{name} #{info.get('name')} is archived: unarchive it or pick another channel.")
    if not info.get("is_member"):
        return Finding(
            False, f"{name} #{info.get('name')}: Perch is not a member. In the channel, type /invite @Perch."
        )
    return Finding(True, f"{name}: #{info.get('name')}, Perch is a member.")


def _usergroups(slack: WebClient, groups: dict[str, str]) -> list[Finding]:
    if not groups:
        return []
    try:
        known = {g["id"]: g.get("handle", "") for g in slack.usergroups_list()["usergroups"]}
    except SlackApiError as error:
        return [Finding(False, f"User groups: Slack said {error.response.get('error')} (the usergroups:read scope?).")]
    return [
        Finding(True, f"{name}: @{known[group]}.")
        if group in known
        else Finding(False, f"{name} {group} is not a user group of this workspace: use the group's id (S…).")
        for name, group in groups.items()
    ]


def _mode(settings: Settings, slack: WebClient) -> Finding:
    if settings.http_mode:
        return Finding(True, "HTTP mode: SLACK_SIGNING_SECRET is set; Slack's requests are verified with it.")
    try:
        slack.apps_connections_open(app_token=settings.slack_app_token or "")
    except SlackApiError as error:
        return Finding(
            False,
            f"Socket Mode: SLACK_APP_TOKEN was refused ({error.response.get('error')}): generate an app-level "
            "token with the connections:write scope (Basic Information → App-Level Tokens).",
        )
    except (SlackClientError, OSError) as error:
        return Finding(False, f"Socket Mode: Slack did not answer apps.connections.open ({type(error).__name__}).")
    return Finding(True, "Socket Mode: SLACK_APP_TOKEN opens a connection.")


# -- X -------------------------------------------------------------------------------------------


def _app_only(x: XClient, username: str) -> Finding:
    try:
        x.probe_search(f"from:{username}")
    except XError as error:
        return Finding(False, f"X_BEARER_TOKEN was refused for recent search ({error}): copy the app's Bearer Token.")
    return Finding(True, "X: the app-only token (X_BEARER_TOKEN) works for recent search.")


def _dm_access(x: XClient) -> Finding:
    try:
        x.dm_page(None, max_results=1)
    except XAuthError as error:
        return Finding(
            False,
            f"X: DM access is refused ({error}): give the X app the Read and write and Direct message "
            "permission, generate the brand's access token again, or set X_READ_DMS=false.",
        )
    except XError as error:
        return Finding(False, f"X: GET /2/dm_events failed ({error}).")
    remaining, _ = x.limits.get(DM_EVENTS, (0, 0.0))
    return Finding(True, f"X: DM events are readable ({remaining} reads left in this 15-minute window).")


def _subscriptions(settings: Settings, bearer_token: str, brand_id: str) -> Finding:
    """The brand's activity subscriptions, listed (none created here: start-up makes the missing ones)."""
    api = ActivityAPI(
        settings.x_api_url,
        bearer_token=bearer_token,
        api_key=settings.x_api_key,
        api_secret=settings.x_api_secret,
        access_token=settings.x_access_token,
        access_token_secret=settings.x_access_token_secret,
    )
    try:
        subs = api.list()
    except (ActivityRefused, OSError) as error:
        return Finding(
            False,
            f"X: the activity subscriptions cannot be read ({error}); DMs and mentions will come by polling. "
            "Check the X plan (the Activity API is not on Free) or set X_ACTIVITY_STREAM=false.",
        )
    have = {str(s.get("event_type")) for s in subs if str((s.get("filter") or {}).get("user_id")) == brand_id}
    missing = [kind for kind in EVENT_TYPES if kind not in have]
    if not missing:
        return Finding(True, f"X: the brand's activity subscriptions are there ({', '.join(EVENT_TYPES)}).")
    return Finding(True, f"X: Perch will subscribe the brand to {', '.join(missing)} at start-up.")
