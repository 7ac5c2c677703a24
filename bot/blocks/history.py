"""The customer's history: the card's returning-customer marker, and the History modal (their other cases
newest first, the team's notes about them, and a box to add one).

What the customer wrote and what agents noted are both untrusted text: escaped like a tweet (a note
saying `<!channel>` shows those characters and pings nobody). The modal stays inside Block Kit's limits
whatever the customer's past: `storage.customers` reads one page of each list and the totals, and the
rest is said as "N more".
"""

from __future__ import annotations

import re
from typing import Any

from bot.blocks.common import author_line, duration, slack_date, slack_user
from bot.blocks.modals import modal, text_box
from bot.blocks.mrkdwn import clean, decode_x, escape_within, one_line, plural
from bot.slack.ids import X_HANDLE, Field, View
from storage.customers import NOTE_MAX, RETURNING_DAYS, CustomerHistory, CustomerNote, PastCase
from storage.db import from_iso
from storage.lifecycle import CaseStatus

TITLE = "Customer history"
NOTE_HINT = (
    f"Up to {NOTE_MAX:,} characters, for the team: notes stay in Slack, are never sent to X, and are kept "
    "when a case is resolved."
)
FIRST_WORDS = 12  # of what the customer wrote, per case
SECTION_SAFE = 2900  # a section holds 3,000 characters; the rest is room for the line around the text
STATUS_WORDS: dict[str, str] = {
    CaseStatus.NEW: "🆕 new",
    CaseStatus.CLAIMED: "🙋 claimed",
    CaseStatus.REPLIED: "↩️ replied",
    CaseStatus.IN_DM: "✉️ in DM",
    CaseStatus.ESCALATED: "📣 escalated",
    CaseStatus.RESOLVED: "✅ resolved",
}
_LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)+")


def ordinal(number: int) -> str:
    """`1st`, `2nd`, `3rd`, `4th`, `11th`, `12th`, `13th`, `21st`."""
    suffix = "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def returning_line(customer_cases: int) -> str:
    """`↩ 3rd case in 90 days` on the card of a customer who wrote before; "" for a first case."""
    return f"↩ {ordinal(customer_cases)} case in {RETURNING_DAYS} days" if customer_cases >= 2 else ""


def history_modal(history: CustomerHistory, *, case_id: int = 0, notice: str | None = None) -> dict[str, Any]:
    """The History modal. `case_id`: the card it was opened from (0: from `/perch customer`), whose own
    case is not listed; `notice`: Perch's line above the lists (a note just added)."""
    blocks: list[dict[str, Any]] = [_who(history)]
    if notice:
        blocks.append({"type": "context", "block_id": "notice", "elements": [{"type": "mrkdwn", "text": notice}]})
    blocks += _case_blocks(history, case_id)
    blocks.append({"type": "divider"})
    blocks += _note_blocks(history)
    # The box's block id changes with each note kept, so the updated modal shows it empty again.
    box = f"{Field.CUSTOMER_NOTE}_{history.note_count}"
    blocks.append(text_box(box, "Add a note about this customer", max_length=NOTE_MAX, hint=NOTE_HINT))
    view = modal(View.HISTORY, TITLE, "Add note", {"customer": history.author_id, "case_id": case_id}, blocks)
    view["close"] = {"type": "plain_text", "text": "Close"}
    return view


def _who(history: CustomerHistory) -> dict[str, Any]:
    """Who the customer is: their name and @handle as their newest case shows them, the handles they
    wrote under before (the same X account), and their X user id."""
    earlier = sorted({c.handle for c in history.cases if c.handle and c.handle.lower() != history.handle.lower()})
    also = [f"@{h}" for h in earlier if X_HANDLE.match(h)]
    line = author_line(history.name, history.handle)
    facts = [f"X user id {escape_within(history.author_id, 40)}"]
    if also:
        facts.append("also wrote as " + ", ".join(also[:5]))
    return {
        "type": "section",
        "block_id": "who",
        "text": {"type": "mrkdwn", "text": f"{line}\n" + " · ".join(facts)},
    }


def _case_blocks(history: CustomerHistory, case_id: int) -> list[dict[str, Any]]:
    title = "Their other cases" if case_id else "Their cases"
    if not history.cases:
        text = f"*{title}*: none; this is the first time they wrote." if case_id else f"*{title}*: none."
        return [_section("cases", text)]
    blocks = [_section("cases", f"*{title}* ({history.case_count:,}), newest first")]
    blocks += [_section(f"case_{case.case_id}", case_line(case, history.handle)) for case in history.cases]
    more = history.case_count - len(history.cases)
    if more > 0:
        blocks.append(_context("cases_more", f"{plural(more, 'more earlier case')}, not shown"))
    return blocks


def case_line(case: PastCase, handle: str) -> str:
    """`Case #12 · <date> · “first words…” · 🏷 reason · ✅ resolved · @agent · first response 12m · CSAT —`"""
    opened = from_iso(case.opened_at)
    said = first_words(case.text)
    quote = ("✉️ by DM: " if case.by_dm else "") + (f"“{said}”" if said else "_(no text)_")
    if case.handle and case.handle.lower() != handle.lower() and X_HANDLE.match(case.handle):
        quote += f" as @{case.handle}"
    parts = [f"*Case #{case.case_id}*", slack_date(opened), quote]
    if case.reason:
        parts.append(f"🏷 {escape_within(one_line(case.reason), 60)}")
    parts.append(STATUS_WORDS.get(case.status, escape_within(case.status, 40)))
    parts.append(slack_user(case.handled_by) if case.handled_by else "nobody had it")
    if case.first_response_at:
        parts.append(f"first response {duration(from_iso(case.first_response_at) - opened)}")
    else:
        parts.append("no reply")
    parts.append(f"CSAT {case.csat_score}/5" if case.csat_score is not None else "CSAT —")
    return " · ".join(parts)


def first_words(raw: str) -> str:
    """The first words of what the customer wrote (X's encoding undone, the leading @mentions dropped),
    escaped, with an ellipsis when there was more."""
    text = _LEADING_MENTIONS.sub("", one_line(clean(decode_x(raw))))
    words = text.split(" ")
    shown = " ".join(words[:FIRST_WORDS]) + ("…" if len(words) > FIRST_WORDS else "")
    return escape_within(shown, 160)


def _note_blocks(history: CustomerHistory) -> list[dict[str, Any]]:
    if not history.notes:
        return [_section("notes", "*Notes about them*: none yet.")]
    blocks = [_section("notes", f"*Notes about them* ({history.note_count:,}), newest first")]
    blocks += [_section(f"note_{note.id}", note_text(note)) for note in history.notes]
    more = history.note_count - len(history.notes)
    if more > 0:
        blocks.append(_context("notes_more", f"{plural(more, 'more note')}, older, not shown"))
    return blocks


def note_text(note: CustomerNote) -> str:
    """Who wrote it and when, then the note as typed (escaped: it pings and links nobody)."""
    where = f" · on case #{note.case_id}" if note.case_id else ""
    head = f"{slack_user(note.created_by)} · {slack_date(from_iso(note.created_at))}{where}"
    return f"{head}\n{escape_within(clean(note.text), SECTION_SAFE - len(head))}"


def _section(block_id: str, text: str) -> dict[str, Any]:
    return {"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text}}


def _context(block_id: str, text: str) -> dict[str, Any]:
    return {"type": "context", "block_id": block_id, "elements": [{"type": "mrkdwn", "text": text}]}
