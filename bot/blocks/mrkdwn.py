"""Making hostile text safe for Slack mrkdwn, and short enough for Block Kit's limits.

X sends `&`, `<` and `>` HTML-encoded. We decode exactly those once, then escape them for Slack, so
`<!channel>`, `<@U123>` and `<https://evil|bank.com>` arrive as visible text, never as a ping or a
disguised link, and `&amp;` shows as `&`. Invisible direction overrides are dropped (they can make a
tweet read differently from what it says); Block Kit lengths are counted in UTF-16 code units, the
stricter of the ways a character can be counted, and text is never cut inside an entity or a surrogate pair.
"""

from __future__ import annotations

import re
import unicodedata

_X_ENTITIES = re.compile(r"&(amp|lt|gt);")
_X_DECODED = {"amp": "&", "lt": "<", "gt": ">"}
_SLACK_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPE_TABLE = str.maketrans(_SLACK_ESCAPES)
# Bidi embeddings/overrides/isolates, plus other invisible format characters that only disguise text.
_INVISIBLE_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_OTHER_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ELLIPSIS = "…"


def decode_x(text: str) -> str:
    """Undo X's HTML encoding of `&`, `<`, `>` exactly once (`&amp;lt;` becomes `&lt;`, not `<`)."""
    return _X_ENTITIES.sub(lambda m: _X_DECODED[m.group(1)], text)


def clean(text: str) -> str:
    """Drop control characters and direction overrides; keep every visible character and emoji."""
    return _OTHER_CONTROLS.sub("", _INVISIBLE_CONTROLS.sub("", text))


def escape(text: str) -> str:
    """Escape plain text for mrkdwn: only `&`, `<` and `>` have meaning to Slack's parser."""
    return text.translate(_ESCAPE_TABLE)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def safe_mrkdwn(raw: str, limit: int) -> str:
    """Tweet text (as X sent it) → cleaned, escaped mrkdwn of at most `limit` UTF-16 units."""
    return escape_within(clean(decode_x(raw)), limit)


def escape_within(text: str, limit: int) -> str:
    """Escape `text` and cut it, at a character boundary, so the escaped result fits in `limit`."""
    escaped = escape(text)
    if utf16_len(escaped) <= limit:
        return escaped
    return _cut([_SLACK_ESCAPES.get(ch, ch) for ch in text], limit)


def plain(raw: str, limit: int) -> str:
    """Text for `plain_text` objects (no mrkdwn parsing): decoded, cleaned and cut to `limit`."""
    text = clean(decode_x(raw))
    return text if utf16_len(text) <= limit else _cut(list(text), limit)


_MRKDWN_TOKEN = re.compile(r"&(?:amp|lt|gt);|<[^<>\n]*>")


def cut_mrkdwn(text: str, limit: int) -> str:
    """Cut mrkdwn Perch already built (escaped, with `<…>` links and mentions) to `limit` UTF-16 units
    without splitting an entity like `&amp;` or a `<…>` token, ending with an ellipsis when cut."""
    if utf16_len(text) <= limit:
        return text
    pieces: list[str] = []
    position = 0
    for match in _MRKDWN_TOKEN.finditer(text):
        pieces.extend(text[position : match.start()])
        pieces.append(match.group())
        position = match.end()
    pieces.extend(text[position:])
    return _cut(pieces, limit)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 escalation`, `2 escalations`."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def _cut(pieces: list[str], limit: int) -> str:
    """Keep whole pieces (a character, or its escape) while they fit, then end with an ellipsis."""
    budget, used, kept = limit - utf16_len(ELLIPSIS), 0, 0
    for piece in pieces:
        used += utf16_len(piece)
        if used > budget:
            break
        kept += 1
    return _trim_dangling_joiners("".join(pieces[:kept])) + ELLIPSIS


def _trim_dangling_joiners(text: str) -> str:
    """Do not end on a zero-width joiner, variation selector or combining mark of a cut sequence."""
    while text and (text[-1] in "\u200d\ufe0f\ufe0e" or unicodedata.combining(text[-1])):
        text = text[:-1]
    return text


def one_line(text: str) -> str:
    """Collapse line breaks and runs of spaces (for names and fallback text)."""
    return " ".join(text.split())
