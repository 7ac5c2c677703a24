"""A consistent copy of the running database, for backups and for moving Perch to another machine.

SQLite's online backup API copies the database in one read transaction: in WAL mode Perch keeps
writing meanwhile, and what lands is the one committed state the copy began with, never a
half-written one. (Copying a few pages at a time would let Perch's writes restart the copy, again and
again on a busy desk.) The copy goes to a temporary file beside the destination, is checked
(`PRAGMA quick_check`) and only then renamed over it, so a backup that fails leaves the previous one
whole. Restoring is putting such a file back as the database while Perch is stopped (README, Deploy).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from storage.errors import translated

PAGES_PER_STEP = -1  # every page in one step: one read transaction, one committed state


@dataclass(frozen=True)
class Backup:
    """What was written: where, how big, and how many cases it holds (a quick check that it is Perch's)."""

    path: Path
    size: int
    cases: int


class BackupError(Exception):
    """The copy could not be made or did not check out; the destination is left as it was."""


def backup(source: str, destination: str, *, pages_per_step: int = PAGES_PER_STEP) -> Backup:
    """Copy the database at `source` to `destination`, consistently, while it may be in use."""
    if not Path(source).is_file():
        raise BackupError(f"there is no database at {source}")
    target = Path(destination).resolve()
    if target == Path(source).resolve():
        raise BackupError("the backup would overwrite the database itself: name another file")
    if not target.parent.is_dir():
        raise BackupError(f"there is no folder {target.parent}")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    try:
        cases = _copy(source, temporary, pages_per_step)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Backup(target, target.stat().st_size, cases)


def _copy(source: str, temporary: str, pages_per_step: int) -> int:
    try:
        with sqlite3.connect(source, timeout=30) as origin, sqlite3.connect(temporary) as copy:
            origin.backup(copy, pages=pages_per_step)
            verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"the copy did not check out ({verdict})")
            return int(copy.execute("SELECT COUNT(*) FROM cases").fetchone()[0])
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            raise BackupError("that is not a Perch database (it has no cases table)") from error
        raise translated(error) from error
    except sqlite3.Error as error:
        raise translated(error) from error
