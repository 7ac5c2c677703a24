"""X's rule since 2026-02-23: a self-serve app may reply through the API only to a post whose author
summoned the brand, by @mentioning it or quoting one of its posts (an Enterprise plan lifts it)."""

from __future__ import annotations

import re


def summons(text: str, brand_handle: str, *, quoted_author_id: str | None, brand_id: str) -> bool:
    """Whether a post @mentions the brand or quotes one of the brand's posts."""
    if quoted_author_id is not None and quoted_author_id == brand_id:
        return True
    if not brand_handle:
        return True  # the brand is not known yet: do not take Reply away on a guess
    return re.search(rf"(?<![\w@])@{re.escape(brand_handle)}(?!\w)", text, re.IGNORECASE) is not None
