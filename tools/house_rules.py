"""`make check`'s size rules for the house (ARCHITECTURE.md): modules and functions short enough to read.

A module in `bot/`, `handlers/` or `storage/` has at most 350 lines; a function (or method) at most 60,
counted from its `def` to its last line. Either may be longer when its docstring (the module's, or the
function's) has a line starting with `Long because:` followed by the reason, so a long one is a decision
someone wrote down rather than an accident.

What breaks a rule today and is waiting to be fixed is listed in `tools/house_rules_allowed.txt`, one
`path` (the module) or `path:function` (`Class.method` for a method) a line; those pass. An entry that no
longer breaks its rule fails the check, so the list only shrinks.

    .venv/bin/python tools/house_rules.py          # exit status 1 and one line per problem
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("bot", "handlers", "storage")
MODULE_LINES = 350
FUNCTION_LINES = 60
MARKER = "Long because:"
ALLOWED = ROOT / "tools" / "house_rules_allowed.txt"

Function = ast.FunctionDef | ast.AsyncFunctionDef


def explained(docstring: str | None) -> bool:
    """Whether a docstring gives the reason for a length (a line starting with the marker)."""
    return any(line.strip().startswith(MARKER) for line in (docstring or "").splitlines())


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, Function]]:
    """Every function in a module with its dotted name (`Class.method`, `outer.inner`)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from functions(node, f"{name}.")


def breaches(path: Path) -> Iterator[tuple[str, str]]:
    """(entry, problem) for each rule the module breaks without a reason written down."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, str(path))
    where = path.relative_to(ROOT).as_posix()
    lines = len(source.splitlines())
    if lines > MODULE_LINES and not explained(ast.get_docstring(tree)):
        yield where, f"{where}: {lines} lines (at most {MODULE_LINES}, or `{MARKER}` in its docstring)"
    for name, node in functions(tree):
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length > FUNCTION_LINES and not explained(ast.get_docstring(node)):
            yield (
                f"{where}:{name}",
                f"{where}:{node.lineno} {name}: {length} lines (at most {FUNCTION_LINES}, or `{MARKER}`)",
            )


def allowed() -> set[str]:
    """The allow-list's entries (blank lines and `#` comments skipped)."""
    if not ALLOWED.exists():
        return set()
    entries = (line.split("#", 1)[0].strip() for line in ALLOWED.read_text(encoding="utf-8").splitlines())
    return {entry for entry in entries if entry}


def problems() -> list[str]:
    """Every breach not on the allow-list, and every allow-list entry that no longer breaches."""
    found = {
        entry: problem
        for room in ROOMS
        for path in sorted((ROOT / room).rglob("*.py"))
        for entry, problem in breaches(path)
    }
    excused = allowed()
    out = [problem for entry, problem in found.items() if entry not in excused]
    out += [f"{entry}: keeps the rules now; remove it from {ALLOWED.name}" for entry in sorted(excused - found.keys())]
    return out


def main() -> int:
    out = problems()
    for line in out:
        print(line)
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
