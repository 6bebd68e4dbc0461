"""Opening DuckDB files with a bounded wait for the file lock.

DuckDB lets one process hold a file read-write, and a read-only process
blocks writers too.  The store opens per batch (open -> write -> close), so a
conflict is usually short: waiting a few seconds beats failing a run.  After
`lock_timeout` the DuckDB error becomes `WarehouseLockedError`, which names
the file and says what to do.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb

from warehouse.errors import WarehouseError, WarehouseLockedError


def is_lock_error(exc: BaseException) -> bool:
    """DuckDB's "Could not set lock on file" IOException."""
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def open_duckdb(path: Path, *, read_only: bool, lock_timeout: float,
                config: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """Connect to `path`, retrying while another process holds the lock."""
    deadline = time.monotonic() + max(lock_timeout, 0.0)
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config or {})
        except duckdb.Error as exc:
            if not is_lock_error(exc):
                raise WarehouseError(f"Cannot open warehouse file {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(path, str(exc)) from exc
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, 0.5)
