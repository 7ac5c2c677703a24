"""Who may act: members of `SUPPORT_USERGROUP` work cards, members of `MANAGER_USERGROUP` manage.

Membership comes from `usergroups.users.list`, cached for a few minutes so a click never waits on it
twice. An unset group means everyone in the workspace. When Slack cannot be asked, the last known
list is used; with none at all, the answer is a refusal that says so (never a silent button).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""


class Gatekeeper:
    def __init__(
        self,
        client: WebClient,
        *,
        support_group: str | None,
        manager_group: str | None,
        review_group: str | None = None,
        lead_group: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.client = client
        self.support_group = support_group
        self.manager_group = manager_group
        self.review_group = review_group
        self.lead_group = lead_group
        self.clock = clock
        self.cache_seconds = cache_seconds
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def may_act(self, user: str, team: str | None = None) -> Verdict:
        """Claim, reply, DM, resolve: support group members, and managers too. `team`: the user group of
        the case's queue (its route named one), which takes the support group's place for that case."""
        group = team or self.support_group
        if group is None:
            return Verdict(True)
        if self._is_member(group, user) or (
            self.manager_group is not None and self._is_member(self.manager_group, user)
        ):
            return Verdict(True)
        if team:
            return self._refusal(team, "queue's team", "work the cases of this queue")
        return self._refusal(group, "support", "work the support queue")

    def queues_of(self, user: str, teams: list[str]) -> tuple[bool, tuple[str, ...]] | None:
        """The queues `user` may work: (the default queue?, the teams among `teams` they are in); None:
        all of them (a manager, or no groups set)."""
        if self.may_manage(user).allowed and (self.manager_group or self.support_group is None):
            return None
        default = self.support_group is None or self._is_member(self.support_group, user)
        return default, tuple(team for team in teams if self._is_member(team, user))

    def may_manage(self, user: str) -> Verdict:
        """Reassign cases, see reports, change settings: manager group members."""
        if self.manager_group is None:
            return Verdict(True)
        if self._is_member(self.manager_group, user):
            return Verdict(True)
        return self._refusal(self.manager_group, "manager", "do that")

    def needs_review(self, user: str) -> bool:
        """A member of `REVIEW_USERGROUP` (new agents): their replies and DMs wait for a lead. When Slack
        cannot say, the answer is yes: a draft waits, nothing unreviewed goes out."""
        if self.review_group is None:
            return False
        member = self._is_member(self.review_group, user)
        return member or self.review_group not in self._members

    def may_review(self, user: str) -> Verdict:
        """Approve, edit or send back a draft: `SUPPORT_LEAD_USERGROUP` members."""
        if self.lead_group is None:
            return self.may_manage(user)
        if self._is_member(self.lead_group, user):
            return Verdict(True)
        return self._refusal(self.lead_group, "support lead", "review drafts")

    def is_staff(self, user: str, staff_group: str | None, staff_users: tuple[str, ...]) -> bool:
        """A location's staff (its user group or listed users) act on its escalations, with no need to
        be in the support group; managers may too when a manager group is set."""
        if user in staff_users or (staff_group is not None and self._is_member(staff_group, user)):
            return True
        return self.manager_group is not None and self._is_member(self.manager_group, user)

    def _refusal(self, group: str, role: str, what: str) -> Verdict:
        """Why not, in words (no group mention: a refusal must not ping the group)."""
        if group not in self._members:
            return Verdict(
                False,
                f"Perch could not check who may {what}: Slack did not list the members of the "
                f"{role} user group ({group}). Try again in a minute, or ask an admin to check "
                "the app's `usergroups:read` scope.",
            )
        return Verdict(False, f"Only members of the {role} user group ({group}) may {what}. Ask a manager to add you.")

    def _is_member(self, group: str, user: str) -> bool:
        return user in self._group_members(group)

    def _group_members(self, group: str) -> frozenset[str]:
        with self._lock:
            cached = self._members.get(group)
            if cached is not None and self.clock() - cached[0] < self.cache_seconds:
                return cached[1]
            try:
                users = self.client.usergroups_users_list(usergroup=group).get("users") or []
            except (SlackApiError, SlackClientError, OSError) as error:
                log.warning("Could not list the members of user group %s: %s", group, error)
                return cached[1] if cached is not None else frozenset()
            members = frozenset(str(u) for u in users)
            self._members[group] = (self.clock(), members)
            return members
