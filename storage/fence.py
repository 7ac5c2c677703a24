"""The lease a job's thread runs under, where each engine's write path can see it (`storage.lease.fenced`
sets it; `storage.db` and `storage.postgres` check it inside every write transaction of that thread,
holding the write lock, before the first write)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any


class _Fence(threading.local):
    """`check(conn)` raises `LostLease` unless the lease is still this thread's; None: not a job's thread."""

    check: Callable[[Any], None] | None = None


FENCE = _Fence()
OPENS_WRITE = re.compile(r"\s*(BEGIN|INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
