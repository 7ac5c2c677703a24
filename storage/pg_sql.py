"""Storage's SQL, written once in SQLite's dialect, as PostgreSQL takes it.

Translated once per statement text (cached): `?` and `:name` placeholders become psycopg's `%s` and
`%(name)s` (outside quoted literals; a literal `%` is doubled), `INSERT OR IGNORE` becomes
`ON CONFLICT DO NOTHING`, `x COLLATE NOCASE` becomes `lower(x)` (PostgreSQL's case-insensitive
collations need ICU, which a server may lack), `CAST(… AS INTEGER)` keeps 64 bits. The SQLite functions
storage's SQL calls are given to PostgreSQL as SQL functions (`COMPATIBILITY`), created at every start.
"""

from __future__ import annotations

import re
from functools import lru_cache

_EQUALS_NOCASE = re.compile(r"([\w.]+|%s|%\(\w+\)s)\s*=\s*([\w.]+|%s|%\(\w+\)s) COLLATE NOCASE", re.IGNORECASE)
_NOCASE = re.compile(r"([\w.]+|%s|%\(\w+\)s) COLLATE NOCASE", re.IGNORECASE)
_OR_IGNORE = re.compile(r"\bINSERT OR IGNORE INTO\b", re.IGNORECASE)
_CAST_INTEGER = re.compile(r"\bAS INTEGER\)", re.IGNORECASE)
_ROWID = re.compile(r"\b(\w+)\.rowid\b")  # insertion order of rows not updated since: PostgreSQL's ctid
_IS_NOT = re.compile(r"\bIS NOT (?!NULL\b|DISTINCT\b|TRUE\b|FALSE\b)", re.IGNORECASE)  # SQLite's null-safe !=
_IS = re.compile(r"\bIS (?!NULL\b|NOT\b|DISTINCT\b|TRUE\b|FALSE\b)", re.IGNORECASE)  # SQLite's null-safe =
_CROSS_JOIN_ON = re.compile(r"\bCROSS JOIN (\w+(?: \w+)?) ON\b", re.IGNORECASE)  # SQLite's join-order hint


@lru_cache(maxsize=2048)
def to_postgresql(sql: str, named: bool) -> str:
    """`sql` with psycopg's placeholders and PostgreSQL's spelling of SQLite's idioms."""
    text = _placeholders(sql, named)
    text = _EQUALS_NOCASE.sub(r"lower(\1) = lower(\2)", text)
    text = _NOCASE.sub(r"lower(\1)", text)
    text = _CAST_INTEGER.sub("AS BIGINT)", text)
    text = _CROSS_JOIN_ON.sub(r"JOIN \1 ON", text)
    text = _ROWID.sub(r"\1.ctid", text)
    text = _IS_NOT.sub("IS DISTINCT FROM ", text)
    text = _IS.sub("IS NOT DISTINCT FROM ", text)
    if _OR_IGNORE.search(text):
        text = _OR_IGNORE.sub("INSERT INTO", text).rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    return text


def _placeholders(sql: str, named: bool) -> str:
    """`?` → `%s`, `:name` → `%(name)s` outside quotes; every `%` of the text doubled."""
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(sql):
        char = sql[i]
        if char == "%":
            out.append("%%")
        elif quote:
            out.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == ":" and named and _starts_name(sql, i):
            end = i + 1
            while end < len(sql) and (sql[end].isalnum() or sql[end] == "_"):
                end += 1
            out.append(f"%({sql[i + 1 : end]})s")
            i = end
            continue
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _starts_name(sql: str, i: int) -> bool:
    """A `:name` parameter, not a `::` cast nor `:=`."""
    following = sql[i + 1] if i + 1 < len(sql) else ""
    preceding = sql[i - 1] if i else ""
    return (following.isalpha() or following == "_") and preceding != ":"


# SQLite's functions that storage's SQL uses, as PostgreSQL functions of the same names and results.
# IMMUTABLE so the generated report columns may use them (ISO 8601 instants with a zone read the same in
# any session); NULL in gives NULL out, as in SQLite.
COMPATIBILITY = [
    # SQLite's julianday(): days since noon UTC, 24 November 4714 BC, as a double.
    "CREATE OR REPLACE FUNCTION julianday(t text) RETURNS double precision LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT extract(epoch FROM t::timestamptz)::double precision / 86400.0 + 2440587.5 $$",
    # json_extract(detail, '$.key'): one key of a JSON object, as text.
    "CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT doc::jsonb #>> string_to_array(substr(path, 3), '.') $$",
    # strftime('%Y-%m-%dT%H:%M:%fZ', instant, '-N days'): the one form storage uses.
    "CREATE OR REPLACE FUNCTION strftime(format text, t text, modifier text) RETURNS text LANGUAGE sql "
    "IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT to_char((t::timestamptz + modifier::interval) AT TIME ZONE 'UTC', "
    '\'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\') $$',
    "CREATE OR REPLACE FUNCTION instr(haystack text, needle text) RETURNS integer LANGUAGE sql IMMUTABLE "
    "STRICT PARALLEL SAFE AS $$ SELECT strpos(haystack, needle) $$",
    "CREATE OR REPLACE FUNCTION ifnull(a anycompatible, b anycompatible) RETURNS anycompatible LANGUAGE sql "
    "IMMUTABLE PARALLEL SAFE AS $$ SELECT COALESCE(a, b) $$",
    # SQLite's two-argument max() and min() are scalar (NULL if either is NULL), beside the aggregates.
    "CREATE OR REPLACE FUNCTION max(a anycompatible, b anycompatible) RETURNS anycompatible LANGUAGE sql "
    "IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE GREATEST(a, b) END $$",
    "CREATE OR REPLACE FUNCTION min(a anycompatible, b anycompatible) RETURNS anycompatible LANGUAGE sql "
    "IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE LEAST(a, b) END $$",
    # SUM over a comparison (SQLite's booleans are integers): PostgreSQL has no sum(boolean).
    "CREATE OR REPLACE FUNCTION _perch_bool_add(total bigint, flag boolean) RETURNS bigint LANGUAGE sql "
    "IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN flag IS NULL THEN total "
    "ELSE COALESCE(total, 0) + flag::integer END $$",
    "CREATE OR REPLACE AGGREGATE sum(boolean) (SFUNC = _perch_bool_add, STYPE = bigint)",
]
