"""`/perch report …`: acknowledged at once, answered through the command's response URL, so even a
large database stays within Slack's 3 seconds; the CSV goes to the manager's DM as a file."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.report_args import ReportArgsError, parse_report_args
from bot.report_cards import report_blocks, report_csv, report_text
from bot.services import services
from storage.locations import get_location
from storage.metrics import build_report

log = logging.getLogger(__name__)


def run_report(args: str, ack: Ack, respond: Respond, command: dict[str, Any], client: WebClient,
               context: BoltContext) -> None:
    perch = services(context)
    user = command.get("user_id", "")
    verdict = perch.gate.may_manage(user)
    if not verdict.allowed:
        ack(text=verdict.reason, response_type="ephemeral")
        return
    settings = perch.settings
    now = datetime.now(UTC)
    try:
        request = parse_report_args(args, now, settings.report_timezone)
        if request.location and get_location(perch.store.db, request.location) is None:
            raise ReportArgsError(f"There is no location `{request.location[:20]}`. Try `/perch locations list`.")
    except ReportArgsError as error:
        ack(text=str(error), response_type="ephemeral")
        return
    ack()
    report = build_report(perch.store.db, request.start, request.end, now=now, timezone=settings.report_timezone,
                          sla_minutes=settings.sla_first_response_minutes, agent=request.agent,
                          location=request.location)
    respond(text=report_text(report, request.label), blocks=report_blocks(report, request.label, request.breakdown),
            response_type="in_channel" if request.public else "ephemeral", replace_original=False)
    if request.csv:
        _send_csv(client, user, report_csv(report), request.label, respond)


def _send_csv(client: WebClient, user: str, content: str, label: str, respond: Respond) -> None:
    """The CSV goes to the manager privately (their DM with Perch), whatever channel they asked in."""
    try:
        channel = client.conversations_open(users=user)["channel"]["id"]
        client.files_upload_v2(channel=channel, content=content, filename="perch-report.csv",
                               title=f"Perch cases · {label}", initial_comment=f"Cases for {label}, one per row.")
    except SlackApiError as error:
        log.warning("CSV upload failed: %s", error.response.get("error"))
        respond(text=f"The CSV could not be uploaded ({error.response.get('error')}).", response_type="ephemeral",
                replace_original=False)
