"""`make screenshots`: pictures of what Perch posts, for the README, taken from a demo run.

The demo runs (quietly); the real Block Kit it posted — a new card, a card in DM with its thread, an
escalation message, a surge's incident card with its thread, a report with its chart (and its CSAT
line), App Home, the Reply modal and a returning customer's History — is drawn as HTML styled like
Slack (`fakes/slack_render.py`) and captured as PNGs by a headless Chromium (its path in `CHROMIUM`,
else found on PATH).

    .venv/bin/python tools/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, time
from pathlib import Path

from PIL import Image, ImageChops

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import demo  # noqa: E402
from bot.blocks.chart import report_chart  # noqa: E402
from bot.blocks.home import home_view  # noqa: E402
from bot.blocks.reports import report_blocks  # noqa: E402
from fakes.slack_render import message_html, page, view_html  # noqa: E402
from storage.home import home_data  # noqa: E402
from storage.metrics import build_report  # noqa: E402


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or next(
        (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None
    )
    if not found:
        raise SystemExit("screenshots: no Chromium found. On Debian or Ubuntu: sudo apt-get install chromium")
    return found


def pages() -> dict[str, str]:
    with contextlib.redirect_stdout(io.StringIO()):
        slack, _x, runtime = demo.run()
    queue = slack.top_level(demo.QUEUE)

    def kind(message) -> str:
        return (message.metadata or {}).get("event_type", "")

    def with_thread(message, *, keep: int = 12, blocks_each: int = 40) -> str:
        """The message and its thread (the first `keep` replies, each cut to `blocks_each` blocks)."""
        thread = [message_html(m.blocks[:blocks_each], when="14:03") for m in slack.thread(message.ts)[:keep]]
        return message_html(message.blocks, thread=thread)

    cards = [m for m in queue if kind(m) == "perch_case"]
    new = next(m for m in cards if '"claim"' in str(m.blocks).replace("'", '"'))
    in_dm = next(m for m in cards if "Waiting on the customer" in str(m.blocks))
    incident = next(m for m in queue if kind(m) == "perch_incident")
    escalation = slack.top_level(demo.STATIONS)[-1]
    db = runtime.store.db
    now = datetime.now(UTC)
    start = datetime.combine(now.date(), time.min, tzinfo=UTC)
    report = build_report(db, start, now, now=now)
    chart = base64.b64encode(report_chart(report, "today")).decode()
    report_html = message_html(report_blocks(report, "today", "agent")) + (
        f'<img class="chart" src="data:image/png;base64,{chart}">'
    )
    home = home_view(
        home_data(db, "U0AGENT1", timezone="UTC", sla_minutes=60, now=now), timezone="UTC", sla_minutes=60, now=now
    )
    reply = next(v for v in slack.views if v.get("callback_id") == "reply")
    history = [v for v in slack.views if v.get("callback_id") == "history"][-1]
    return {
        "card": message_html(new.blocks),
        "card-in-dm": with_thread(in_dm),
        "escalation": message_html(escalation.blocks),
        "incident": with_thread(incident, keep=1, blocks_each=8),
        "report": report_html,
        "app-home": view_html(home),
        "reply-modal": view_html(reply),
        "history-modal": view_html(history),
    }


def capture(browser: str, html_file: Path, png: Path) -> None:
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={png}",
            "--window-size=800,2400",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = Image.open(png).convert("RGB")
    box = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    if box:
        image.crop((0, 0, image.width, min(image.height, box[3] + 16))).save(png, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "screenshots"))
    args = parser.parse_args()
    browser = chromium()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for name, body in pages().items():
            html_file = Path(work) / f"{name}.html"
            html_file.write_text(page(name, body), encoding="utf-8")
            capture(browser, html_file, out / f"{name}.png")
            print(f"{out / name}.png")


if __name__ == "__main__":
    main()
