"""Block Kit for surge incidents: the incident card, the chunks of tweets in its thread, and its modals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.blocks.common import FALLBACK_TEXT_LIMIT, author_line, button_element, duration, slack_user, tweet_url
from bot.blocks.modals import input_block, modal, text_box
from bot.blocks.mrkdwn import clean, decode_x, escape_within, one_line, plural
from bot.slack.ids import Action, Field, Input, Metadata, View
from storage.bulk import BulkProgress
from storage.cases import CardData
from storage.db import from_iso
from storage.incidents import OTHER, Incident, IncidentStats
from storage.lifecycle import CaseStatus

TWEET_PREVIEW = 240
STATUS_HINT = "Up to 280 characters as X counts them. Say what you know, what you are doing, and where updates will be."


def incident_card(
    incident: Incident, stats: IncidentStats, progress: BulkProgress, *, bulk_interval: float, candidates: int
) -> dict[str, Any]:
    """The one message a surge shows in the queue instead of a card per tweet; updated in place."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": _summary(incident, stats)}}]
    blocks += [_sample_block(sample) for sample in stats.samples]
    if incident.status_text:
        blocks.append(_status_block(incident))
    bulk = _bulk_line(incident, progress, bulk_interval)
    if bulk:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": bulk}]})
    if incident.term != OTHER:
        blocks.append({"type": "actions", "elements": _buttons(incident, progress, candidates)})
    return {
        "text": f"Surge: {stats.tweets} tweets about “{one_line(incident.label)}”"[:FALLBACK_TEXT_LIMIT],
        "blocks": blocks,
        "metadata": {"event_type": Metadata.INCIDENT, "event_payload": {"incident_id": incident.id}},
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _summary(incident: Incident, stats: IncidentStats) -> str:
    """What the surge is about, how big and how fast, how many wait, and whether it is over."""
    span = duration(from_iso(stats.last_at) - from_iso(stats.first_at)) if stats.first_at and stats.last_at else "0s"
    count = f"{stats.tweets:,} tweet{'s' if stats.tweets != 1 else ''} in {span}"
    head = f"🌊 *Surge: “{escape_within(one_line(incident.label), 120)}”* — {count}"
    if incident.term == OTHER:
        head = (
            f"🌊 *Surge: other mentions* — {count}, not alike, so no common reply. "
            "High-priority tweets still get their own card."
        )
    lines = [
        head,
        f"*{stats.waiting:,}* waiting for someone · each tweet is listed in this thread: claim it "
        "there or from the Perch App Home.",
    ]
    if incident.ended_at:
        lines.append(f"_Surge over since {from_iso(incident.ended_at):%H:%M} UTC: new tweets get their own cards._")
    return "\n".join(lines)


def _sample_block(sample: dict[str, Any]) -> dict[str, Any]:
    """One of the surge's tweets, shortened, with its link."""
    text = escape_within(one_line(clean(decode_x(sample["text"]))), TWEET_PREVIEW)
    link = tweet_url(sample["author_handle"], sample["tweet_id"])
    who = author_line(sample["author_name"], sample["author_handle"])
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{who}: “{text}” <{link}|View on X>"}]}


def _status_block(incident: Incident) -> dict[str, Any]:
    """The team's status update, as the card shows it (one line, quoted)."""
    text = f"📣 *Status update* by {slack_user(incident.status_by)}:\n>" + escape_within(
        one_line(incident.status_text or ""), 600
    )
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _bulk_line(incident: Incident, progress: BulkProgress, interval: float) -> str:
    if not incident.bulk_at:
        return ""
    line = (
        f"Sending the status as individual replies (confirmed by {slack_user(incident.bulk_by)}): "
        f"{progress.sent:,} of {progress.total:,} sent"
    )
    if progress.failed:
        line += f" · {progress.failed:,} not sent (refused by X or never confirmed)"
    if incident.bulk_stopped_by:
        return line + f" · stopped by {slack_user(incident.bulk_stopped_by)}"
    if progress.pending:
        return line + f" · one every {interval:g}s, about {duration_for(progress.pending, interval)} to go"
    return line + " · done"


def duration_for(count: int, interval: float) -> str:
    return duration(timedelta(seconds=count * interval))


def _buttons(incident: Incident, progress: BulkProgress, candidates: int) -> list[dict[str, Any]]:
    value = str(incident.id)
    buttons = [
        button_element(
            Action.INCIDENT_STATUS, "Edit status update" if incident.status_text else "Write status update", None, value
        )
    ]
    if incident.status_text and not incident.bulk_at and candidates:
        buttons.append(
            button_element(Action.INCIDENT_BULK_REPLY, f"Reply to {candidates:,} customers…", "primary", value)
        )
    if incident.bulk_at and progress.pending and not incident.bulk_stopped_by:
        stop = button_element(Action.INCIDENT_BULK_STOP, "Stop sending", "danger", value)
        stop["confirm"] = {
            "title": {"type": "plain_text", "text": "Stop sending?"},
            "text": {"type": "plain_text", "text": f"{progress.pending:,} customers will not get the status reply."},
            "confirm": {"type": "plain_text", "text": "Stop"},
            "deny": {"type": "plain_text", "text": "Keep sending"},
        }
        buttons.append(stop)
    return buttons


def chunk_message(
    incident: Incident,
    chunk_no: int,
    cases: list[CardData],
    *,
    thread_ts: str,
    first: int,
    follow_ups: dict[int, tuple[int, str]] | None = None,
) -> dict[str, Any]:
    """One thread message listing up to a chunk's worth of the incident's tweets, each claimable."""
    label = escape_within(one_line(incident.label), 80)
    blocks: list[dict[str, Any]] = [
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": (f"Tweets {first:,}–{first + len(cases) - 1:,} of the surge “{label}”")}
            ],
        }
    ]
    for case in cases:
        text = escape_within(one_line(clean(decode_x(case.text))), TWEET_PREVIEW) or "_(no text)_"
        link = tweet_url(case.author_handle, case.tweet_id)
        section: dict[str, Any] = {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f"{author_line(case.author_name, case.author_handle, case.author_followers)}"
                    f"{' · 🔴 high priority' if case.priority == 'high' else ''}\n{text} <{link}|View on X>"
                    f"{_follow_up_line((follow_ups or {}).get(case.case_id))}{_case_state(case)}"
                ),
            },
        }
        if (
            case.assignee is None
            and case.status not in (CaseStatus.RESOLVED, CaseStatus.IN_DM)
            and case.first_response_at is None
        ):
            section["accessory"] = button_element(Action.CLAIM, "Claim", None, str(case.case_id))
        blocks.append(section)
    return {
        "thread_ts": thread_ts,
        "text": f"{len(cases)} tweets of the surge “{one_line(incident.label)}”"[:FALLBACK_TEXT_LIMIT],
        "blocks": blocks,
        "metadata": {
            "event_type": Metadata.INCIDENT_CHUNK,
            "event_payload": {"incident_id": incident.id, "chunk": f"{incident.id}:{chunk_no}"},
        },
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _follow_up_line(follow_ups: tuple[int, str] | None) -> str:
    if not follow_ups:
        return ""
    count, latest = follow_ups
    text = escape_within(one_line(clean(decode_x(latest))), TWEET_PREVIEW // 2)
    return f"\n💬 {'Followed up' if count == 1 else f'{count} follow-ups, latest'}: “{text}”"


def _case_state(case: CardData) -> str:
    """What happened to a listed tweet, without naming anyone (a new chunk message would ping them)."""
    if case.status == CaseStatus.RESOLVED:
        return "\n_✅ Resolved_"
    if case.assignee:
        return f"\n_Claimed: case #{case.case_id} has its own card now_"
    if case.first_response_at:
        return "\n_↩️ Answered_"
    return ""


def status_modal(incident: Incident, stats: IncidentStats) -> dict[str, Any]:
    """Write (or edit) the incident's one status update: what the team tells everyone affected."""
    blocks = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f"*Surge “{escape_within(one_line(incident.label), 120)}”* · {stats.tweets:,} tweets, "
                    f"{stats.waiting:,} waiting. The update shows on the incident card; sending it to customers is a "
                    "separate step you confirm."
                ),
            },
        },
        text_box(Field.STATUS_TEXT, "Status update", hint=STATUS_HINT, initial=incident.status_text or None),
    ]
    return modal(View.INCIDENT_STATUS, "Status update", "Save", {"incident_id": incident.id}, blocks)


def bulk_reply_modal(incident: Incident, candidates: int, interval: float, unsummoned: int = 0) -> dict[str, Any]:
    """The explicit confirmation before Perch sends the status as one public reply per customer."""
    text = escape_within(one_line(incident.status_text or ""), 600)
    skipped = (
        f"\n{plural(unsummoned, 'customer')} in this surge did not @mention or quote the brand, and X lets no "
        "app reply to them: they are skipped (Move to DM, or answer them on X)."
        if unsummoned
        else ""
    )
    tick = {"text": {"type": "plain_text", "text": f"Send {candidates:,} replies with this text"}, "value": "yes"}
    confirm = {"type": "checkboxes", "action_id": Input.CONFIRMED, "options": [tick]}
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f"This sends *{candidates:,} individual public replies* on X, one to each customer in this "
                    f"surge who has no answer yet, one every {interval:g}s "
                    f"(about {duration_for(candidates, interval)} in all). "
                    "You can stop it from the incident card." + skipped + "\n>" + text
                ),
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        "X suspends apps that send mass mentions automatically: send this only when a person has "
                        "read it and it helps every one of these customers."
                    ),
                }
            ],
        },
        input_block(Field.BULK_CONFIRM, "Confirm", confirm),
    ]
    return modal(
        View.INCIDENT_BULK_REPLY,
        "Reply to everyone",
        "Send replies",
        {"incident_id": incident.id, "status_at": incident.status_at},
        blocks,
    )
