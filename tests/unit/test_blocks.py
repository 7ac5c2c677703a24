"""Pure presenters: Perch's own mrkdwn is cut without breaking what Slack parses."""

from __future__ import annotations

from bot.blocks.common import FALLBACK_TEXT_LIMIT
from bot.blocks.mrkdwn import cut_mrkdwn, plural, utf16_len
from bot.blocks.threads import case_note_message


def test_thread_note_fallback_is_cut_on_entity_boundaries():
    text = "a" * (FALLBACK_TEXT_LIMIT - 3) + " &amp; more after the limit"
    message = case_note_message({"thread_ts": "1.1", "text": text, "case_id": 1, "id": 2})
    assert utf16_len(message["text"]) <= FALLBACK_TEXT_LIMIT
    assert not message["text"].rstrip("…").endswith(("&", "&a", "&am", "&amp")), message["text"][-8:]


def test_cut_mrkdwn_keeps_links_and_mentions_whole():
    text = "x" * 20 + "<@U0AGENT123> and <https://example.com|a link>"
    for limit in range(20, len(text)):
        cut = cut_mrkdwn(text, limit)
        assert utf16_len(cut) <= limit
        assert cut.count("<") == cut.count(">"), cut
    assert cut_mrkdwn("short &lt;ok&gt;", 100) == "short &lt;ok&gt;"


def test_plural():
    assert (plural(1, "escalation"), plural(2, "escalation"), plural(0, "reply", "replies")) == (
        "1 escalation",
        "2 escalations",
        "0 replies",
    )
