"""Read-only snapshot copies of the warehouse, for readers that must never block the writer.

DuckDB lets one process hold a file read-write and a reader blocks the
writer (and vice versa), so dashboards and `muster query` should read a copy.
After a run the writer checkpoints (the WAL is folded into the main file) and
copies the file while still holding its lock, so the copy is consistent; the
copy is published with an atomic rename, so a reader sees either the old or
the new snapshot, never half of one, and one that has the old file open keeps
reading it undisturbed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseError


def default_snapshot_path(path: Path) -> Path:
    """`muster.duckdb` -> `muster.snapshot.duckdb`, beside it."""
    return path.with_name(f"{path.stem}.snapshot{path.suffix or '.duckdb'}")


def copy_checkpointed(con: duckdb.DuckDBPyConnection, source: Path, dest: Path) -> Path:
    """Checkpoint `con` (open read-write on `source`), copy the file, atomically publish at `dest`."""
    if dest.resolve() == source.resolve():
        raise WarehouseError(f"The snapshot path {dest} is the warehouse file itself.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        con.execute("CHECKPOINT")
        shutil.copyfile(source, tmp)
        check = duckdb.connect(str(tmp), read_only=True)  # a copy that does not open is not published
        check.close()
        os.replace(tmp, dest)
    except (OSError, duckdb.Error) as exc:
        raise WarehouseError(f"Could not publish a snapshot of {source} at {dest}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return dest
