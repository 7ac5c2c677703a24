"""Modals bound to what they were opened about, so a submission acts on that and nothing else.

A modal's `private_metadata` comes back inside the submission, in the same request as everything else:
it says which case a Reply is for, but it proves nothing by itself. So when Perch opens a modal it keeps
what the modal is about under an `external_id` it gives the view (`storage.views`) before Slack sees it,
and a submission, or a click inside the modal, whose metadata names anything else is refused in words
before any listener runs (`handlers/bound_views.py`). A view pushed over a modal is bound the same way;
one updated in place keeps its id.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from bot.forms import read_metadata
from storage.db import Store
from storage.views import bind_view, bound_subject

NOT_OPENED_HERE = (
    "This form does not match the one Perch opened (it names something else, or it is too old), so nothing "
    "happened. Close it and open it again from the card."
)
SUBJECT_KEYS = ("customer",)  # besides every `…_id`: what a modal is about
PREFIX = "perch-"  # Slack keeps a view's `external_id` unique in the workspace (255 characters at most)


def subject_of(view: dict[str, Any]) -> str | None:
    """What a modal is about: its metadata's row ids (`case_id`, `draft_id`, …) and customer, as one
    canonical string; None when the metadata cannot be read (the form's parser says so in words)."""
    meta = read_metadata(view.get("private_metadata"), ())
    if meta is None:
        return None
    subject = {k: v for k, v in meta.items() if k.endswith("_id") or k in SUBJECT_KEYS}
    return json.dumps(subject, sort_keys=True, separators=(",", ":"))


def bound(store: Store, view: dict[str, Any], now: datetime, *, keep: dict[str, Any] | None = None) -> dict[str, Any]:
    """`view` with an `external_id` under which what it is about is kept, written before Slack ever sees
    the view (so no submission can come back before it); `keep`: the view it replaces in place (an
    update keeps the id it was opened with)."""
    subject = subject_of(view)
    if subject is None:
        return view
    kept = (keep or {}).get("external_id")
    external_id = kept if isinstance(kept, str) and kept.startswith(PREFIX) else PREFIX + secrets.token_urlsafe(18)
    bind_view(store.db, external_id, subject, now)
    return {**view, "external_id": external_id}


def open_view(client: WebClient, store: Store, trigger_id: str, view: dict[str, Any], now: datetime) -> None:
    """`views.open` of a bound view (Slack's errors are raised as ever)."""
    client.views_open(trigger_id=trigger_id, view=bound(store, view, now))


def refusal(store: Store, view: dict[str, Any]) -> str | None:
    """Why a modal's submission (or a click in it) must not be acted on; None when Perch opened it about
    what its metadata names. Unreadable metadata is left to the form's parser, which says so."""
    subject = subject_of(view)
    if subject is None:
        return None
    external_id = view.get("external_id")
    if not isinstance(external_id, str) or bound_subject(store.db, external_id) != subject:
        return NOT_OPENED_HERE
    return None
