"""The door every modal submission comes through: one Perch did not open about what it names is refused.

A middleware, so no listener can forget it; see `bot/opened_views.py` for why the metadata alone is no
proof. A refused submission is answered on its first field (the form stays open, nothing happened); a
refused click inside a modal, or a form with no field to show it on, is told directly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from bot.forms import first_field
from bot.opened_views import refusal
from bot.services import services
from handlers.shared import clicker, tell_directly

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.middleware(only_views_perch_opened)


def only_views_perch_opened(body: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> Any:  # noqa: A002
    view, kind = body.get("view"), body.get("type")
    if not isinstance(view, dict) or view.get("type") != "modal" or kind not in ("view_submission", "block_actions"):
        return next()
    problem = refusal(services(context).store, view)
    if problem is None:
        return next()
    log.warning("Refused a %s for a modal Perch did not open about that (%s)", kind, view.get("callback_id"))
    field = first_field(view)
    if kind == "view_submission" and field:
        answer = {"response_action": "errors", "errors": {field: problem}}
        return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})
    user, _ = clicker(body)  # a click in the modal, or a form with no field to show it on: said directly
    tell_directly(context["client"], user, problem)
    return BoltResponse(status=200, body="")
