"""Pure presenters: Perch's own mrkdwn is cut without breaking what Slack parses; DM cases show no DM text
beyond their thread; charts drawn from many threads at once are each whole and their own."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from bot.blocks.cards import case_card
from bot.blocks.chart import report_chart
from bot.blocks.common import FALLBACK_TEXT_LIMIT
from bot.blocks.escalations import escalation_message
from bot.blocks.mrkdwn import cut_mrkdwn, plural, utf16_len
from bot.blocks.threads import case_note_message, dm_message
from bot.domain.locations import build_location
from bot.domain.report_args import parse_report_args
from fakes.block_kit import check_message
from storage.cases import CardData
from storage.dms import DMToPost
from storage.escalations import Escalation
from storage.metrics import build_report
from tests.helpers import NOW


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


# -- DM cases --------------------------------------------------------------------------------------

DM_CARD = CardData(
    case_id=7,
    status="new",
    tweet_id="",
    text="",
    author_handle="quiet_one",
    author_name="<!channel> Quiet",
    author_followers=10,
    created_at="2026-03-20T12:00:00.000Z",
    post_attempted_at=None,
    conversation_id="1001-5920532",
    dm_event_id="1700000000000000001",
    last_dm_in_at="2026-03-20T12:00:00.000Z",
    in_dm=True,
)


def test_a_dm_case_card_names_the_dm_and_offers_only_what_x_allows():
    message = case_card(DM_CARD)
    assert message["metadata"]["event_payload"] == {"case_id": 7, "dm_event_id": "1700000000000000001"}
    actions = [e["action_id"] for e in message["blocks"][-1]["elements"]]
    assert actions == ["claim", "reply_dm", "escalate", "resolve"]
    shown = json.dumps(message, ensure_ascii=False)
    assert "https://x.com/messages/1001-5920532" in shown and "/status/" not in shown
    assert "<!channel>" not in shown and check_message(message) is None
    assert message["text"] == "New DM from @quiet_one (open the thread to read it)"


def test_a_dm_case_escalation_keeps_the_conversation_out_of_the_location_channel():
    escalation = Escalation(
        1,
        7,
        "JFK",
        "normal",
        "Wheelchair at gate B2",
        "U0A",
        "alice",
        "2026-03-20T12:05:00.000Z",
        *([None] * 7),
        0,
    )
    location = build_location("JFK", "C0JFK", staff="S0JFK")
    message = escalation_message(escalation, DM_CARD, location)
    shown = json.dumps(message, ensure_ascii=False)
    assert "wrote by DM" in shown and "View on X" not in shown and "Wheelchair at gate B2" in shown


def test_a_dm_in_the_thread_links_what_it_shares_and_hides_its_text_from_notifications():
    dm = DMToPost(
        dm_event_id="1700000000000000002",
        case_id=7,
        text="see <https://evil.example|https://delta.com> &amp; <!here>",
        sender_handle="quiet_one",
        sender_name="Quiet",
        created_at="2026-03-20T12:01:00.000Z",
        conversation_id="1001-5920532",
        referenced_tweet_ids='["1690000000000000000"]',
        media_count=2,
        post_attempted_at=None,
        slack_channel="C0QUEUE",
        thread_ts="1.1",
        opened_case=False,
    )
    message = dm_message(dm)
    shown = json.dumps(message["blocks"], ensure_ascii=False)
    assert "<!here>" not in shown and "|https://delta.com>" not in shown
    assert "https://twitter.com/i/web/status/1690000000000000000" in shown and "2 attachments" in shown
    assert "delta" not in message["text"] and check_message(message) is None
    assert message["metadata"] == {
        "event_type": "perch_dm",
        "event_payload": {"case_id": 7, "dm_event_id": "1700000000000000002"},
    }


def test_a_draft_and_a_personal_data_form_never_ping_or_disguise_a_link():
    from bot.blocks.review import draft_message
    from bot.blocks.safety import personal_data_modal
    from bot.domain.pii import Finding
    from bot.slack.ids import View
    from fakes.block_kit import check_view
    from storage.drafts import Draft

    hostile = "<!channel> <@U0BOSS> <https://evil.example|jetblue.com> & call 212-555-0134"
    draft = Draft(1, 1, "reply", hostile, "U0NEW", "new", "review_group", "pending", "2026-12-01T10:00:00.000Z",
                  None, None, None, 0, None, None, 1, "C0QUEUE", "1.000", None, None)  # fmt: skip
    message = draft_message(draft, "S0LEADS")
    shown = json.dumps(message["blocks"])
    assert "<!channel>" not in shown and "<@U0BOSS>" not in shown and "<https://evil" not in shown
    assert "<!subteam^S0LEADS>" in shown, "the one ping is Perch's own, from the settings"
    assert check_message({"channel": "C0QUEUE", **message}) is None
    found = [Finding("phone number", 60, 72, "<!here>212-555-0134")]
    form = personal_data_modal(View.PERSONAL_DATA, found, {"case_id": 1, "text": hostile}, handle="<!channel>")
    assert form is not None and check_view(form) is None
    assert "<!here>" not in json.dumps(form["blocks"]) and "@<!channel>" not in json.dumps(form["blocks"])
    too_big = personal_data_modal(View.PERSONAL_DATA, found, {"text": "x" * 3000}, handle="bag_lady")
    assert too_big is None, "Slack's 3,000 characters of metadata: the caller says so on the form instead"


def test_charts_drawn_from_many_threads_at_once_are_each_whole_and_their_own(fixed_log):
    """Up to 64 listener threads and the digest job draw charts at once: each one, drawn beside seven
    others, is the very PNG it is when drawn alone (a day: two panels; a week: three)."""
    day, week = (parse_report_args(period, NOW, "UTC") for period in ("2026-03-10", "2026-03-09..2026-03-12"))
    reports = [build_report(fixed_log.db, p.start, p.end, now=NOW) for p in (day, week)]
    charts = [(reports[n % 2], f"chart {n}") for n in range(8)]
    alone = [report_chart(report, label) for report, label in charts]
    start = threading.Barrier(len(charts))

    def draw(chart: tuple) -> bytes:
        start.wait()  # all eight begin together
        return report_chart(*chart)

    with ThreadPoolExecutor(len(charts)) as pool:
        together = list(pool.map(draw, charts))
    assert together == alone and len(set(together)) == len(charts), "each whole, none mixed with another"
    for n, png in enumerate(together):
        with Image.open(io.BytesIO(png)) as image:
            image.load()  # decodes every row: a cut or garbled PNG raises here
            assert image.size == ((1600 if n % 2 else 1100), 400)


def test_a_chart_is_drawn_without_pyplot_and_its_global_state():
    """pyplot keeps one "current figure" for the whole process; charts are built as `Figure`s instead."""
    script = (
        "import sys; from datetime import UTC, datetime, timedelta; from bot.blocks.chart import report_chart; "
        "from storage.db import Store; from storage.metrics import build_report; "
        "now = datetime(2026, 3, 20, 12, tzinfo=UTC); "
        "png = report_chart(build_report(Store(':memory:').db, now - timedelta(days=1), now, now=now), 'day'); "
        "print(png[:4] == b'\\x89PNG', 'matplotlib.pyplot' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    drawn = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60)
    assert drawn.stdout.split() == ["True", "False"], drawn.stderr
