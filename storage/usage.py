"""What Perch read from and sent to X, counted the way X bills it: each item read once per UTC day
(per kind), each write per request. Reads are written as they come; sends are the `replies` rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from storage.db import writing
from storage.engine import Database

OWNED_READ = "owned_read"  # the brand's own mentions and timeline
POST_READ = "post_read"  # other posts (tracked searches)
DM_READ = "dm_read"  # DM events
DM_EVENT = "dm_event"  # a `dm.received` the activity stream delivered (billed apart from the reads)
POST_EVENT = "post_event"  # a post event the activity stream delivered (`post.mention.create`)


@dataclass
class Usage:
    """Counts over a period: items read by kind, and what was sent (public posts, with a link, DMs)."""

    reads: dict[str, int] = field(default_factory=dict)
    posts: int = 0
    posts_with_link: int = 0
    dms: int = 0


def record_reads(db: Database, kind: str, item_ids: Iterable[str], day: str) -> None:
    """Count these items read today; an item already counted today (a sweep's re-read) is not again."""
    rows = [{"day": day, "kind": kind, "item_id": item_id} for item_id in dict.fromkeys(item_ids)]
    if rows:
        with writing(db):
            db.table("x_usage").insert_all(rows, ignore=True)


def usage_between(db: Database, first_day: str, last_day: str) -> Usage:
    """Everything read and sent from `first_day` to `last_day` (UTC dates, both included)."""
    usage = Usage()
    for kind, count in db.execute(
        "SELECT kind, COUNT(*) FROM x_usage WHERE day >= ? AND day <= ? GROUP BY kind", [first_day, last_day]
    ):
        usage.reads[kind] = count
    posts, with_link, dms = db.execute(
        "SELECT COALESCE(SUM(kind = 'reply' AND instr(lower(text), 'http') = 0), 0), "
        "COALESCE(SUM(kind = 'reply' AND instr(lower(text), 'http') > 0), 0), COALESCE(SUM(kind = 'dm'), 0) "
        "FROM replies WHERE status = 'sent' AND source IN ('perch', 'bulk') AND substr(sent_at, 1, 10) >= ? "
        "AND substr(sent_at, 1, 10) <= ?",
        [first_day, last_day],
    ).fetchone()
    usage.posts, usage.posts_with_link, usage.dms = posts, with_link, dms
    return usage
