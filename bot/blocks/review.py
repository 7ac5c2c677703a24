"""A reply or DM held for review: its message in the card's thread (Approve, Edit, Send back for the
leads; the outcome once decided), and the two modals a lead opens from it."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import button_element, slack_user
from bot.blocks.modals import fit_text_box, modal, text_box
from bot.blocks.mrkdwn import escape_within, plain
from bot.slack.ids import USER_ID, Action, Field, Metadata, View
from storage.drafts import Draft

WHY = {
    "review_group": "new agent",
    "daily_limit": "past the agent's daily reply limit",
}
KIND = {"reply": "public reply", "dm": "DM"}


def draft_message(draft: Draft, lead_group: str | None = None) -> dict[str, Any]:
    """The draft as the leads see it; the lead group is pinged when it is first posted (a Slack id from
    the settings, never from the text)."""
    author = slack_user(draft.author) if USER_ID.match(draft.author) else "an agent"
    kind = KIND.get(draft.kind, draft.kind)
    quote = escape_within(draft.text, 2800).replace("\n", "\n>")
    blocks: list[dict[str, Any]] = []
    if draft.pending:
        ping = f"<!subteam^{lead_group}> " if lead_group else ""
        head = f"📝 {ping}*Draft {kind}* by {author}, waiting for review ({WHY.get(draft.why, draft.why)})"
    else:
        head = f"📝 *Draft {kind}* by {author}"
    blocks.append({"type": "section", "block_id": "head", "text": {"type": "mrkdwn", "text": head}})
    blocks.append({"type": "section", "block_id": "draft", "text": {"type": "mrkdwn", "text": ">" + quote}})
    if draft.pending:
        value = str(draft.id)
        blocks.append(
            {
                "type": "actions",
                "block_id": "draft_actions",
                "elements": [
                    button_element(Action.DRAFT_APPROVE, "Approve", "primary", value),
                    button_element(Action.DRAFT_EDIT, "Edit", None, value),
                    button_element(Action.DRAFT_SEND_BACK, "Send back", None, value),
                ],
            }
        )
    else:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": outcome_line(draft)}]})
    return {
        "text": f"Draft {kind} by {author} " + ("waiting for review" if draft.pending else "reviewed"),
        "blocks": blocks,
        "metadata": {"event_type": Metadata.DRAFT, "event_payload": {"case_id": draft.case_id, "draft_id": draft.id}},
        "unfurl_links": False,
        "unfurl_media": False,
    }


def outcome_line(draft: Draft) -> str:
    lead = slack_user(draft.decided_by) if USER_ID.match(draft.decided_by or "") else "a lead"
    if draft.status == "approved":
        edited = "edited and approved" if draft.edited else "approved"
        sent = "sent" if draft.reply_id else "being sent"
        return f"✅ {edited.capitalize()} by {lead} · {sent}"
    if draft.status == "sent_back":
        note = escape_within(draft.note or "", 500)
        return f"↩️ Sent back by {lead}" + (f": “{note}”" if note else "")
    return draft.status


def edit_draft_modal(draft: Draft, problem_hint: str = "") -> dict[str, Any]:
    limit = "Up to 280 characters as X counts them." if draft.kind == "reply" else "Up to 10,000 characters."
    label = f"The {KIND.get(draft.kind, draft.kind)}"
    hint = problem_hint or f"{limit} It goes out when you approve."
    blocks = [text_box(Field.DRAFT_TEXT, label, hint=hint, initial=fit_text_box(draft.text))]
    return modal(View.DRAFT_EDIT, "Edit the draft", "Approve and send", {"draft_id": draft.id}, blocks)


def send_back_modal(draft: Draft) -> dict[str, Any]:
    author = plain(draft.author_name or "the author", 60)
    blocks = [text_box(Field.DRAFT_NOTE, f"A note for {author}", max_length=1000)]
    return modal(View.DRAFT_SEND_BACK, "Send the draft back", "Send back", {"draft_id": draft.id}, blocks)
