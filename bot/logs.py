"""Log lines as text (the default) or, with `LOG_FORMAT=json`, one JSON object per line for platforms
that collect logs. Only the record's own message is written: settings and headers never are."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """`{"time", "level", "logger", "message"}`, and `exception` (its traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    """`json` → `JsonLines`; anything else → the text lines."""
    return JsonLines() if log_format.strip().lower() == "json" else logging.Formatter(TEXT_FORMAT)
