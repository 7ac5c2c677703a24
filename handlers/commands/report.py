"""`/perch report …`: acknowledged at once, answered through the command's response URL, so even a
large database stays within Slack's 3 seconds; the chart (and CSV) follow as files."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.chart import report_chart
from bot.blocks.report_csv import report_csv
from bot.blocks.reports import report_blocks, report_text
from bot.domain.report_args import ReportArgsError, ReportRequest, parse_report_args
from bot.services import Services, services
from storage.case_rows import case_rows
from storage.locations import get_location
from storage.metrics import Report, report_with_previous

log = logging.getLogger(__name__)


def run_report(
    args: str, ack: Ack, respond: Respond, command: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Refused in the acknowledgement (not a manager, or arguments that do not parse); otherwise
    acknowledged at once, then the report is answered and its files follow."""
    perch = services(context)
    user = command.get("user_id", "")
    now = datetime.now(UTC)
    request = _request_or_refusal(perch, user, args, now, ack)
    if request is None:
        return
    ack()
    report, previous = _reports(perch, request, now)
    respond(
        text=report_text(report, request.label),
        blocks=report_blocks(report, request.label, request.breakdown, previous),
        response_type="in_channel" if request.public else "ephemeral",
        replace_original=False,
    )
    _upload_files(perch, request, report, user, command, client, respond)


def _request_or_refusal(perch: Services, user: str, args: str, now: datetime, ack: Ack) -> ReportRequest | None:
    """The report asked for, or None once the refusal is the acknowledgement."""
    verdict = perch.gate.may_manage(user)
    if not verdict.allowed:
        ack(text=verdict.reason, response_type="ephemeral")
        return None
    try:
        request = parse_report_args(args, now, perch.settings.report_timezone)
        if request.location and get_location(perch.store.db, request.location) is None:
            raise ReportArgsError(f"There is no location `{request.location[:20]}`. Try `/perch locations list`.")
    except ReportArgsError as error:
        ack(text=str(error), response_type="ephemeral")
        return None
    return request


def _reports(perch: Services, request: ReportRequest, now: datetime) -> tuple[Report, Report]:
    """The period's report and the one before it, with the settings' targets and business hours."""
    settings = perch.settings
    return report_with_previous(
        perch.store.db,
        request.start,
        request.end,
        now=now,
        timezone=settings.report_timezone,
        sla_minutes=settings.sla_first_response_minutes,
        resolve_hours=settings.sla_resolve_hours,
        business=settings.business_hours,
        breakdown=request.breakdown,  # computed only for the breakdown shown
        agent=request.agent,
        location=request.location,
        queue=queue_key(perch, request.queue),
    )


def queue_key(perch: Services, channel: str | None) -> str | None:
    """A report's queue as storage keeps it: a route's channel, "" for the default queue (the queue or
    DM channel of the settings, where the cases no route took go), None for every queue."""
    if channel is None:
        return None
    return "" if channel in (perch.settings.slack_queue_channel, perch.settings.slack_dm_channel) else channel


def _upload_files(
    perch: Services,
    request: ReportRequest,
    report: Report,
    user: str,
    command: dict[str, Any],
    client: WebClient,
    respond: Respond,
) -> None:
    """The chart (and the CSV): beside a public report in its channel; otherwise privately, in the
    manager's DM with Perch. A refused upload is said to the manager."""
    uploads = [
        {
            "content": report_chart(report, request.label),
            "filename": "perch-report.png",
            "title": f"Perch · {request.label}",
        }
    ]
    if request.csv:
        uploads.append(_csv_upload(perch, request))
    try:
        if request.public:
            channel = command.get("channel_id")
        else:
            channel = client.conversations_open(users=user)["channel"]["id"]
        client.files_upload_v2(channel=channel, file_uploads=uploads, initial_comment=f"Perch · {request.label}")
    except SlackApiError as error:
        log.warning("Report files not uploaded: %s", error.response.get("error"))
        respond(
            text=f"The chart{' and CSV' if request.csv else ''} could not be uploaded ({error.response.get('error')}).",
            response_type="ephemeral",
            replace_original=False,
        )


def _csv_upload(perch: Services, request: ReportRequest) -> dict[str, Any]:
    """One row per case of the report, as a file to upload."""
    rows = case_rows(
        perch.store.db,
        request.start,
        request.end,
        agent=request.agent,
        location=request.location,
        queue=queue_key(perch, request.queue),
        business=perch.settings.business_hours,
    )
    return {
        "content": report_csv(rows),
        "filename": "perch-report.csv",
        "title": f"Perch cases · {request.label} (one row per case)",
    }
