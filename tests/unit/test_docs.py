"""The settings reference and the links between the documents stay true as the code changes."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _documented_settings() -> set[str]:
    table_rows = (line for line in (ROOT / "docs/settings.md").read_text().splitlines() if line.startswith("| `"))
    return set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", "\n".join(table_rows)))


def test_every_setting_the_code_reads_or_env_example_lists_is_in_docs_settings():
    code = (ROOT / "bot/config.py").read_text()
    read = set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', code)) - {"INFO"}
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "no setting found in bot/config.py: the pattern is stale"
    assert sorted((read | listed) - _documented_settings()) == []


def test_relative_links_in_the_documents_point_at_files_that_exist():
    broken = []
    for document in [ROOT / "README.md", ROOT / "ARCHITECTURE.md", ROOT / "CONTRIBUTING.md", *ROOT.glob("docs/*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", document.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (document.parent / target).exists():
                broken.append(f"{document.relative_to(ROOT)} → {target}")
    assert broken == []
