"""Exceptions raised by the warehouse.

They exist so callers (flows, the CLI) can tell apart "someone else holds the
file" (wait and retry), "the file is not there" (wrong path) and "your SQL
writes" (user error) without parsing DuckDB's messages, and so every message
names the DuckDB file involved.
"""

from __future__ import annotations

from pathlib import Path


class WarehouseError(Exception):
    """Base class of every warehouse error."""


class WarehouseLockedError(WarehouseError):
    """Another process holds the DuckDB file.

    DuckDB allows one read-write process per file, and a read-only process
    also blocks a writer; the message says which file and what to do.
    """

    def __init__(self, path: Path, detail: str = "") -> None:
        self.path = path
        self.detail = detail
        holder = ""
        if "Conflicting lock is held in" in detail:
            holder = " (" + detail.split("Conflicting lock is held in", 1)[1].split(".", 1)[0].strip() + ")"
        super().__init__(
            f"The warehouse file {path} is locked by another process{holder}. "
            "DuckDB lets only one process open a file for writing, and a reader blocks a writer. "
            "Hint: wait for the running flow or close the other session (e.g. a DuckDB CLI or "
            "`muster query`) on this file, then try again."
        )


class WarehouseNotFoundError(WarehouseError, FileNotFoundError):
    """A read-only open was asked for a file that does not exist."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"No warehouse file at {path}. Run a pipeline first (it creates the file), "
            "or check the path."
        )


class SchemaVersionError(WarehouseError):
    """The file was made by a newer Muster than this one (cannot downgrade)."""


class WarehouseWriteError(WarehouseError):
    """A batch failed inside DuckDB; the transaction was rolled back, nothing was written."""


class ReadOnlySQLError(WarehouseError, ValueError):
    """`run_readonly` was given SQL that would write, or more than one statement."""


class QueryError(WarehouseError, ValueError):
    """`run_readonly` SQL that DuckDB could not parse or run (syntax, unknown table...)."""
