"""Which of Perch's files a Slack request runs through: a pytest plugin that lists every file of
`bot/`, `handlers/` and `storage/` whose code ran in the threads that answer Slack (the web server's
and the listeners'), once the test is over. ARCHITECTURE.md's walks of one Claim and one Reply were
counted with it:

    .venv/bin/python -m pytest -q -p tools.request_files \
        tests/test_agent_actions.py::test_five_simultaneous_claims_have_one_winner
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ROOMS = tuple(str(ROOT / room) + "/" for room in ("bot", "handlers", "storage"))
ANSWERING = ("listener", "waitress")
_seen: set[str] = set()


def _profile(frame: FrameType, event: str, arg: Any) -> None:
    if event == "call" and threading.current_thread().name.startswith(ANSWERING):
        name = frame.f_code.co_filename
        if name.startswith(ROOMS):
            _seen.add(name)


def pytest_configure(config: Any) -> None:
    threading.setprofile(_profile)


def pytest_unconfigure(config: Any) -> None:
    threading.setprofile(None)  # type: ignore[arg-type]
    files = sorted(str(Path(name).relative_to(ROOT)) for name in _seen)
    sys.stdout.write(f"\n{len(files)} files ran while answering Slack:\n" + "".join(f"  {f}\n" for f in files))
