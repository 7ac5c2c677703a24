"""Migrations 16-17: the report's speed — each case's durations as generated columns in one index,
the `holds` table a trigger writes from the events, replies that carry their case's arrival.

The trigger and the generated columns take case statuses and event kinds from `storage.lifecycle`
(formatted into the SQL), so the kinds they read are the kinds `storage.cases.change` writes. They are
the schema's only SQL written per engine: PostgreSQL's generated columns are STORED (SQLite's VIRTUAL),
its booleans are no integers (the flags), and its triggers call a PL/pgSQL function."""

from __future__ import annotations

from storage.engine import POSTGRESQL, Database, engine_of
from storage.lifecycle import HOLD_KINDS, CaseStatus, holder_sql, sql_list

_HOLD_KINDS = sql_list(HOLD_KINDS)


def _ms_between(start: str, end: str) -> str:
    """SQL for whole milliseconds from `start` to `end` (exact: SQLite keeps instants to the millisecond)."""
    return f"CAST(round((julianday({end}) - julianday({start})) * 86400000.0) AS INTEGER)"


# Each case's report figures as generated columns (docs/metrics.md): when it arrived (Unix milliseconds),
# the milliseconds from then to each later instant (negative if it came first), and its flags.
_REPORT_COLUMNS = {
    "report_arrived_ms": "CAST(round((julianday(tweet_created_at) - 2440587.5) * 86400000.0) AS INTEGER)",
    "report_posted_ms": _ms_between("tweet_created_at", "posted_at"),
    "report_claimed_ms": _ms_between("tweet_created_at", "claimed_at"),
    "report_answered_ms": _ms_between("tweet_created_at", "first_response_at"),
    "report_resolved_ms": f"CASE WHEN status = '{CaseStatus.RESOLVED}' "
    f"THEN {_ms_between('tweet_created_at', 'resolved_at')} END",
    "report_flags": f"IFNULL(status = '{CaseStatus.RESOLVED}', 0) | ((IFNULL(reopened_count, 0) > 0) << 1) "
    "| ((dm_event_id IS NOT NULL) << 2)",
}


# PostgreSQL's spelling of the flags: a comparison is a boolean there, not 0 or 1.
_PG_FLAGS = (
    f"(CASE WHEN status = '{CaseStatus.RESOLVED}' THEN 1 ELSE 0 END) "
    "| (CASE WHEN COALESCE(reopened_count, 0) > 0 THEN 2 ELSE 0 END) "
    "| (CASE WHEN dm_event_id IS NOT NULL THEN 4 ELSE 0 END)"
)
_PG_HOLDS_TRIGGER = (
    "CREATE FUNCTION holds_follow_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "  UPDATE holds SET ended = julianday(NEW.at) WHERE case_id = NEW.case_id AND ended IS NULL; "
    "  INSERT INTO holds (case_id, case_arrived, holder, began) "
    f"  SELECT NEW.case_id, c.tweet_created_at, {holder_sql('NEW')}, julianday(NEW.at) "
    f"  FROM cases c WHERE c.id = NEW.case_id AND {holder_sql('NEW')} IS NOT NULL; "
    "  RETURN NULL; "
    "END $$",
    "CREATE TRIGGER holds_follow_events AFTER INSERT ON events FOR EACH ROW "
    f"WHEN (NEW.kind IN {_HOLD_KINDS}) EXECUTE FUNCTION holds_follow_events()",
)
_PG_REPLIES_TRIGGER = (
    "CREATE FUNCTION replies_carry_case_arrival() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "  NEW.case_arrived := (SELECT c.tweet_created_at FROM cases c WHERE c.id = NEW.case_id); "
    "  RETURN NEW; "
    "END $$",
    "CREATE TRIGGER replies_carry_case_arrival BEFORE INSERT ON replies FOR EACH ROW "
    "EXECUTE FUNCTION replies_carry_case_arrival()",
)


def _m016_report_speed(db: Database) -> None:
    """Reports on a large database. Each case's durations and flags are generated columns, computed
    when the case is written and kept in one index with its arrival time, so a report reads them
    ready-made from the index. Each hold of a case (a claim, reassignment or reopen, until the case's
    next such event) is a row the database writes itself as the events are appended, in Julian days,
    with the case's arrival, so the agents' workload is one range read.

    (Generated columns are invisible to `PRAGMA table_info`: never rebuild `cases` with `transform()`.)"""
    postgresql = engine_of(db) == POSTGRESQL
    for name, expression in _REPORT_COLUMNS.items():
        if postgresql:
            shown = _PG_FLAGS if name == "report_flags" else expression
            db.execute(f"ALTER TABLE cases ADD COLUMN {name} BIGINT GENERATED ALWAYS AS ({shown}) STORED")
            continue
        db.execute(f"ALTER TABLE cases ADD COLUMN {name} INTEGER GENERATED ALWAYS AS ({expression}) VIRTUAL")
    db.execute(
        "CREATE INDEX cases_report ON cases (tweet_created_at, status, assignee, resolved_by, "
        f"{', '.join(_REPORT_COLUMNS)})"
    )
    db.execute("DROP INDEX IF EXISTS idx_cases_tweet_created_at")  # the report index starts with its column
    db.table("holds").create(
        {"id": int, "case_id": int, "case_arrived": str, "holder": str, "began": float, "ended": float}, pk="id"
    )
    db.execute("CREATE INDEX holds_open ON holds (case_id) WHERE ended IS NULL")
    db.execute("CREATE INDEX holds_by_began ON holds (began, case_arrived, holder, ended, case_id)")
    db.execute(
        "INSERT INTO holds (case_id, case_arrived, holder, began, ended) "
        "SELECT h.case_id, c.tweet_created_at, h.holder, h.began, h.ended FROM ("
        f"  SELECT e.case_id, {holder_sql('e')} AS holder, julianday(e.at) AS began,"
        "   julianday(LEAD(e.at) OVER (PARTITION BY e.case_id ORDER BY e.at, e.id)) AS ended"
        f"  FROM events e WHERE e.kind IN {_HOLD_KINDS}"
        ") h JOIN cases c ON c.id = h.case_id WHERE h.holder IS NOT NULL"
    )
    if postgresql:
        for statement in _PG_HOLDS_TRIGGER:
            db.execute(statement)
        return
    db.execute(
        "CREATE TRIGGER holds_follow_events AFTER INSERT ON events "
        f"WHEN NEW.kind IN {_HOLD_KINDS} BEGIN "
        "  UPDATE holds SET ended = julianday(NEW.at) WHERE case_id = NEW.case_id AND ended IS NULL; "
        "  INSERT INTO holds (case_id, case_arrived, holder, began) "
        f"  SELECT NEW.case_id, c.tweet_created_at, {holder_sql('NEW')}, julianday(NEW.at) "
        f"  FROM cases c WHERE c.id = NEW.case_id AND {holder_sql('NEW')} IS NOT NULL; "
        "END"
    )


def _m017_report_by_agent(db: Database) -> None:
    """The by-agent breakdown on a large database. The workload reads each agent's holds of a period
    as one range of an index that starts with the holder (no holder's name read back per hold: that was
    most of the read's time). Each reply carries its case's arrival, written by a trigger as the reply
    is inserted, so the replies each agent sent on a period's cases are one range read, not a look-up
    per case."""
    db.execute("CREATE INDEX holds_by_holder ON holds (holder, began, case_arrived, ended, case_id)")
    db.execute("DROP INDEX IF EXISTS holds_by_began")
    db.table("replies").add_column("case_arrived", str)
    db.execute(
        "UPDATE replies SET case_arrived = (SELECT c.tweet_created_at FROM cases c WHERE c.id = replies.case_id)"
    )
    db.execute("CREATE INDEX replies_by_case_arrived ON replies (case_arrived, status, source, sent_by, case_id)")
    if engine_of(db) == POSTGRESQL:
        for statement in _PG_REPLIES_TRIGGER:
            db.execute(statement)
        return
    db.execute(
        "CREATE TRIGGER replies_carry_case_arrival AFTER INSERT ON replies BEGIN "
        "  UPDATE replies SET case_arrived = (SELECT c.tweet_created_at FROM cases c WHERE c.id = NEW.case_id) "
        "  WHERE id = NEW.id; "
        "END"
    )
