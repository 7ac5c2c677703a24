"""Block Kit for reports: a summary anyone can read at a glance, and the CSV a spreadsheet opens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.blocks.common import dm_url, duration, slack_user, tweet_url
from bot.blocks.mrkdwn import cut_mrkdwn, escape, plural
from bot.slack.ids import X_HANDLE, channel_mention
from storage.metrics import Breakdown, Report
from storage.stats import Stat

BAR = "▇"


def report_blocks(
    report: Report, label: str, breakdown: Breakdown, previous: Report | None = None
) -> list[dict[str, Any]]:
    """`previous`: the period just before, of the same length, shown beside each headline figure."""
    return [
        {"type": "header", "text": {"type": "plain_text", "text": f"Perch report · {label}"[:150]}},
        _headline(report, previous),
        _durations(report, previous),
        *_satisfaction(report, previous),
        *_notes(report, previous),
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": cut_mrkdwn(_breakdown(report, breakdown), 3000)}},
        *([_context("No cases in this period.")] if not report.volume_in else []),
    ]


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _headline(report: Report, before: Report | None) -> dict[str, Any]:
    """The counts, each against the period before: in, handled, answered, open, reopened, SLA breaches."""
    sla = f"*SLA breaches* (first response &gt; {report.sla_target_minutes:g}m" + (
        " of business time" if report.business else ""
    )
    texts = [
        f"*In*\n{report.volume_in}{_count_vs(report, before, 'volume_in')}",
        f"*Handled*\n{report.handled}{_count_vs(report, before, 'handled')}",
        f"*Answered* (response rate)\n{report.answered} · {_rate(report.response_rate)}"
        + _rate_vs(report.response_rate, before.response_rate if before else None),
        f"*Still open*\n{report.open}",
        f"*Reopened*\n{report.reopened}",
        f"{sla})\n{report.sla_breaches}{_count_vs(report, before, 'sla_breaches')}",
    ]
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": text} for text in texts]}


def _durations(report: Report, before: Report | None) -> dict[str, Any]:
    """The durations' p50 and p90, first response and resolve against the period before."""
    lines = [
        _stat_line("Time to first response", report.time_to_first_response)
        + _duration_vs(report.time_to_first_response, before.time_to_first_response if before else None),
        _stat_line("… after the card was posted", report.first_response_after_posting)
        + (
            f" · {plural(report.answered_before_card, 'case')} answered before their card, left out"
            if report.answered_before_card
            else ""
        ),
        _stat_line("Time to first DM answer", report.time_to_dm_answer)
        + " (from the customer's first DM to the brand's next)",
        _stat_line("Time to claim", report.time_to_claim),
        _stat_line("Time to resolve", report.time_to_resolve)
        + _duration_vs(report.time_to_resolve, before.time_to_resolve if before else None),
        _stat_line("Time to card (Perch's own delay)", report.time_to_card),
        *_business_lines(report),
    ]
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}


def _satisfaction(report: Report, before: Report | None) -> list[dict[str, Any]]:
    """CSAT, the average score and answers per survey sent (docs/metrics.md), when surveys went out."""
    csat, then = report.csat, before.csat if before else None
    if not csat.sent and not csat.answers:
        return []
    average = "—" if csat.average is None else f"{csat.average:.1f}"
    return [
        _context(
            f"⭐ *CSAT* {_rate(csat.share_satisfied)}"
            + _rate_vs(csat.share_satisfied, then.share_satisfied if then else None)
            + f" · average {average} of 5 · {plural(csat.answers, 'answer')} of {plural(csat.sent, 'survey')} sent "
            f"({_rate(csat.answer_rate)})" + _rate_vs(csat.answer_rate, then.answer_rate if then else None)
        )
    ]


def _csat_of(row: dict[str, Any]) -> str:
    """A breakdown row's satisfaction, when its customers answered any survey."""
    csat = row.get("csat")
    return f" · CSAT {_rate(csat.share_satisfied)} of {plural(csat.answers, 'answer')}" if csat and csat.answers else ""


def _notes(report: Report, before: Report | None) -> list[dict[str, Any]]:
    """What is shown only when there is something to say: channels (when any case went to DM), review,
    the overdue cases, the ▲/▼ legend, the busiest hours."""
    blocks: list[dict[str, Any]] = []
    channels = report.channels
    if channels.get("dm") or channels.get("both"):
        blocks.append(
            _context(
                f"By channel: {channels.get('public', 0)} public only · {channels.get('both', 0)} "
                f"public, then DM · {channels.get('dm', 0)} by DM only"
            )
        )
    review = report.review
    if review is not None:
        blocks.append(
            _context(
                f"Review: {plural(review.held, 'draft')} held · {review.reviewed} reviewed "
                f"({review.approved} approved, {review.sent_back} sent back) · {review.waiting} waiting · "
                + _stat_line("time to approve", review.time_to_approve).replace("*", "")
            )
        )
    if report.unanswered_overdue:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _overdue_text(report)}})
    if before is not None:
        blocks.append(_context("▲/▼: against the period just before, of the same length."))
    if report.by_hour:
        busiest = sorted(report.by_hour.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        blocks.append(_context("Busiest hours: " + ", ".join(f"{hour:02d}:00 ({count})" for hour, count in busiest)))
    return blocks


def report_text(report: Report, label: str) -> str:
    p50 = report.time_to_first_response.p50
    return (
        f"Perch report · {label}: {report.volume_in} in, {report.handled} handled, p50 first response "
        f"{duration_or_dash(p50)}"
    )


def _stat_line(name: str, stat: Stat) -> str:
    if not stat.count:
        return f"*{name}*: —"
    return f"*{name}*: p50 {duration_or_dash(stat.p50)} · p90 {duration_or_dash(stat.p90)} (n={stat.count})"


def _breakdown(report: Report, breakdown: Breakdown) -> str:
    if breakdown == Breakdown.LOCATION:
        if not report.by_location:
            return "*By location*\nNo escalations in this period."
        return "*By location*\n" + "\n".join(
            f"• *{escape(row['location'])}* — {plural(row['escalations'], 'escalation')} · acknowledge p50 "
            f"{duration_or_dash(row['acknowledge'].p50)} · resolve p50 {duration_or_dash(row['resolve'].p50)}"
            + (f" · {row['waiting']} waiting" if row["waiting"] else "")
            for row in report.by_location
        )
    if breakdown == Breakdown.HOUR:
        if not report.by_hour:
            return "*By hour*\nNo cases in this period."
        top = max(report.by_hour.values())
        return (
            "*By hour* (when the tweets arrived · how many were answered)\n```"
            + "\n".join(
                f"{hour:02d}:00 {BAR * max(1, round(count / top * 20))} {count} · "
                f"{_rate(report.answered_by_hour.get(hour, 0) / count)} answered"
                for hour, count in report.by_hour.items()
            )
            + "```"
        )
    if breakdown == Breakdown.REASON:
        if not report.by_reason:
            return "*By reason*\nNo cases in this period."
        return "*By reason* (picked at resolve; else the surge's topic; else the suggestion)\n" + "\n".join(
            f"• *{escape(row['reason']) or '(no reason)'}* — {plural(row['cases'], 'case')}"
            + (f" ({row['picked']} picked)" if row["reason"] else "")
            + f" · p50 resolve {duration_or_dash(row['resolve'].p50)}{_csat_of(row)}"
            for row in report.by_reason[:40]
        )
    if breakdown == Breakdown.QUEUE:
        return queue_lines(report.by_queue)
    if not report.by_agent:
        return "*By agent*\nNo case was assigned in this period."
    return "*By agent*\n" + "\n".join(
        f"• {slack_user(row['agent'])} — {plural(row['cases'], 'case')} · "
        f"{_rate(row['answered'] / row['cases'] if row['cases'] else None)} answered · "
        f"{plural(row['replies'], 'reply', 'replies')} · "
        f"{row['resolved']} resolved · p50 first response {duration_or_dash(row['first_response'].p50)} · p50 resolve "
        f"{duration_or_dash(row['resolve'].p50)}{_csat_of(row)}{_workload(row)}"
        for row in report.by_agent[:40]
    )


def queue_section(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The by-queue figures as one section (the daily digest's, under its agents')."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut_mrkdwn(queue_lines(rows), 3000)}}


def queue_lines(rows: list[dict[str, Any]]) -> str:
    """Per queue (`/perch routes`): the channel its route chose, or the default queue."""
    if not rows:
        return "*By queue*\nNo cases in this period."
    return "*By queue* (the channel each case's route chose)\n" + "\n".join(
        f"• {channel_mention(row['queue']) if row['queue'] else '*the default queue*'} — "
        f"{plural(row['cases'], 'case')} · {_rate(row['answered'] / row['cases'] if row['cases'] else None)} answered"
        f" · p50 first response {duration_or_dash(row['first_response'].p50)} · p50 resolve "
        f"{duration_or_dash(row['resolve'].p50)}{_csat_of(row)}"
        for row in rows[:40]
    )


def _business_lines(report: Report) -> list[str]:
    """The same durations counting only business hours (BUSINESS_HOURS set)."""
    if report.business is None:
        return []
    times = report.business
    return [
        "_In business hours:_",
        _stat_line("Time to first response (business hours)", times.time_to_first_response),
        _stat_line("Time to claim (business hours)", times.time_to_claim),
        _stat_line("Time to resolve (business hours)", times.time_to_resolve),
    ]


def _workload(row: dict[str, Any]) -> str:
    """How many cases the agent held at once, and what they resolved per hour of holding any."""
    if not row.get("peak"):
        return ""
    median = row["median_concurrent"]
    rate = row["per_agent_hour"]
    text = f" · up to {row['peak']} at once" + (f" (median {median:g})" if median is not None else "")
    text += f" · {rate:.1f} resolved per hour held" if rate is not None else ""
    return text + (f" · {row['reassigned_away']} reassigned away" if row["reassigned_away"] else "")


def _overdue_text(report: Report) -> str:
    """The cases nobody answered, open past the resolve target, oldest first, with their links."""
    lines = [
        f"*Unanswered past the resolve target* ({report.resolve_target_hours:g}h): "
        f"{plural(report.unanswered_overdue, 'case')}"
    ]
    for case in report.overdue:
        handle = f"@{case.author_handle}" if X_HANDLE.match(case.author_handle or "") else "a customer"
        link = tweet_url(case.author_handle, case.tweet_id) if case.tweet_id else dm_url(case.conversation_id)
        lines.append(f"• <{link}|{handle}> · case #{case.case_id} · {case.tweet_created_at[:16].replace('T', ' ')} UTC")
    if report.unanswered_overdue > len(report.overdue):
        lines.append(f"… and {report.unanswered_overdue - len(report.overdue)} more (`csv` lists them all)")
    return cut_mrkdwn("\n".join(lines), 3000)


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def _count_vs(report: Report, previous: Report | None, figure: str) -> str:
    """A count beside the previous period's: ▲ more, ▼ fewer."""
    if previous is None:
        return ""
    now, before = getattr(report, figure), getattr(previous, figure)
    return " (= before)" if now == before else f" {'▲' if now > before else '▼'} from {before}"


def _rate_vs(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    points = round((now - before) * 100)
    return " (= before)" if points == 0 else f" {'▲' if points > 0 else '▼'} {abs(points)} pts from {before:.0%}"


def _duration_vs(now: Stat, before: Stat | None) -> str:
    if before is None or now.p50 is None or before.p50 is None:
        return ""
    if round(now.p50) == round(before.p50):
        return " (p50 = before)"
    return f" · p50 {'▲' if now.p50 > before.p50 else '▼'} from {duration_or_dash(before.p50)}"


def duration_or_dash(seconds: float | None) -> str:
    return "—" if seconds is None else duration(timedelta(seconds=seconds))
