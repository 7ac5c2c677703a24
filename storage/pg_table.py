"""One PostgreSQL table with the calls storage and its migrations make on sqlite-utils' `Table`.

Writes (`insert`, `insert_all`, `upsert`, `get`) and the schema calls of the migrations (`create`,
`add_column`, `create_index`) in PostgreSQL's terms: an integer primary key is an identity column
(SQLite's rowid), Python's int, str, float are BIGINT, TEXT, DOUBLE PRECISION, and indexes keep
sqlite-utils' names (`idx_<table>_<columns>`), which later migrations drop by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlite_utils.db import NotFoundError

if TYPE_CHECKING:
    from storage.postgres import PgDatabase

_TYPES = {int: "BIGINT", str: "TEXT", float: "DOUBLE PRECISION", bytes: "BYTEA"}
_PRIMARY_KEYS: dict[tuple[str, str], tuple[str, ...]] = {}  # (database url, table) → its key's columns
_IDENTITIES: dict[tuple[str, str], str | None] = {}  # (database url, table) → its identity column


class PgTable:
    def __init__(self, db: PgDatabase, name: str) -> None:
        self.db = db
        self.name = name
        self.last_pk: Any = None

    # -- writes --------------------------------------------------------------------------------------

    def insert(self, record: dict[str, Any], *, replace: bool = False, ignore: bool = False) -> PgTable:
        pk = self.pks
        columns = list(record)
        sql = f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        sql += self._on_conflict(columns, replace=replace, ignore=ignore)
        if len(pk) == 1:
            sql += f" RETURNING {pk[0]}"
        found = self.db.execute(sql, [record[c] for c in columns]).fetchone()
        self.last_pk = found[0] if found else None
        if self.identity in record:
            self._follow_explicit_id()
        return self

    def insert_all(self, records: Iterable[dict[str, Any]], *, ignore: bool = False) -> PgTable:
        by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
        for record in records:
            by_columns.setdefault(tuple(record), []).append(list(record.values()))
        for columns, rows in by_columns.items():
            sql = f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            self.db.executemany(sql + self._on_conflict(list(columns), replace=False, ignore=ignore), rows)
            if self.identity in columns:
                self._follow_explicit_id()
        return self

    def upsert(self, record: dict[str, Any], *, pk: str | Sequence[str] | None = None) -> PgTable:
        keys = (pk,) if isinstance(pk, str) else tuple(pk or self.pks)
        columns = list(record)
        changes = [c for c in columns if c not in keys]
        sql = f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        sql += f"ON CONFLICT ({', '.join(keys)}) DO "
        sql += f"UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in changes)}" if changes else "NOTHING"
        self.db.execute(sql, [record[c] for c in columns])
        self.last_pk = record[keys[0]] if len(keys) == 1 else tuple(record[k] for k in keys)
        return self

    def _on_conflict(self, columns: list[str], *, replace: bool, ignore: bool) -> str:
        if ignore:
            return " ON CONFLICT DO NOTHING"
        if not replace:
            return ""
        keys = self.pks
        others = [c for c in self.columns if c not in keys]
        sets = [f"{c} = EXCLUDED.{c}" if c in columns else f"{c} = DEFAULT" for c in others]
        return f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(sets)}"

    def _follow_explicit_id(self) -> None:
        """An id given explicitly (tests, imports) moves the identity on, as SQLite's rowid follows it."""
        column = self.identity
        self.db.execute(
            f"SELECT setval(pg_get_serial_sequence('{self.name}', '{column}'), "
            f"(SELECT COALESCE(MAX({column}), 0) + 1 FROM {self.name}), false)"
        )

    # -- reads ---------------------------------------------------------------------------------------

    def get(self, pk_values: Any) -> dict[str, Any]:
        values = list(pk_values) if isinstance(pk_values, list | tuple) else [pk_values]
        where = " AND ".join(f"{c} = ?" for c in self.pks)
        for row in self.db.query(f"SELECT * FROM {self.name} WHERE {where}", values):
            return row
        raise NotFoundError(f"no row {pk_values} in {self.name}")

    def exists(self) -> bool:
        found = self.db.execute("SELECT to_regclass(?) IS NOT NULL", [self.name]).fetchone()
        return bool(found[0])

    @property
    def count(self) -> int:
        return self.count_where("1 = 1")

    def count_where(self, where: str, params: Any = None) -> int:
        return int(self.db.execute(f"SELECT COUNT(*) FROM {self.name} WHERE {where}", params).fetchone()[0])

    @property
    def rows(self) -> Iterator[dict[str, Any]]:
        return self.db.query(f"SELECT * FROM {self.name}")

    @property
    def pks(self) -> tuple[str, ...]:
        known = _PRIMARY_KEYS.get((self.db.url, self.name))
        if known is None:
            known = _PRIMARY_KEYS[(self.db.url, self.name)] = tuple(
                row[0]
                for row in self.db.execute(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(?) AND i.indisprimary "
                    "ORDER BY array_position(i.indkey, a.attnum)",
                    [self.name],
                )
            )
        return known

    @property
    def identity(self) -> str | None:
        """The integer primary key PostgreSQL numbers (SQLite's rowid), if the table has one."""
        key = (self.db.url, self.name)
        if key not in _IDENTITIES:
            found = self.db.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) AND attidentity != ''", [self.name]
            ).fetchone()
            _IDENTITIES[key] = found[0] if found else None
        return _IDENTITIES[key]

    @property
    def columns(self) -> list[str]:
        """The columns a row is written with (generated ones are the database's own)."""
        return [
            row[0]
            for row in self.db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position",
                [self.name],
            )
        ]

    # -- the schema (migrations) ---------------------------------------------------------------------

    def create(
        self,
        columns: dict[str, type],
        *,
        pk: str | tuple[str, ...],
        foreign_keys: Sequence[tuple[str, str, str]] = (),
        defaults: dict[str, Any] | None = None,
        not_null: Iterable[str] = (),
    ) -> PgTable:
        keys = (pk,) if isinstance(pk, str) else pk
        references = {column: (table, other) for column, table, other in foreign_keys}
        required, default = set(not_null), defaults or {}
        parts = []
        for name, kind in columns.items():
            part = f"{name} {_TYPES[kind]}"
            if keys == (name,) and kind is int:
                part += " GENERATED BY DEFAULT AS IDENTITY"
            if name in default:
                part += f" DEFAULT {_literal(default[name])}"
            if name in required:
                part += " NOT NULL"
            if name in references:
                part += f" REFERENCES {references[name][0]} ({references[name][1]})"
            parts.append(part)
        parts.append(f"PRIMARY KEY ({', '.join(keys)})")
        self.db.execute(f"CREATE TABLE {self.name} ({', '.join(parts)})")
        return self

    def add_column(self, name: str, kind: type, *, not_null_default: Any = None) -> PgTable:
        extra = "" if not_null_default is None else f" NOT NULL DEFAULT {_literal(not_null_default)}"
        self.db.execute(f"ALTER TABLE {self.name} ADD COLUMN {name} {_TYPES[kind]}{extra}")
        return self

    def create_index(self, columns: Sequence[str], *, unique: bool = False) -> PgTable:
        name = f"idx_{self.name}_{'_'.join(columns)}"
        kind = "UNIQUE INDEX" if unique else "INDEX"
        self.db.execute(f"CREATE {kind} {name} ON {self.name} ({', '.join(columns)})")
        return self


def _literal(value: Any) -> str:
    return str(int(value)) if isinstance(value, bool | int) else "'" + str(value).replace("'", "''") + "'"
