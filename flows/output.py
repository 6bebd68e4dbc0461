"""Query results out in the formats analysts use: aligned table, CSV, JSON, JSON Lines, Parquet.

Shared by ``muster sql`` and ``muster events``.  Every read goes through the
warehouse's read-only layers: ``run_readonly`` for rows, and for Parquet the
same sandbox (read-only file, external access off, configuration locked) with
exactly one writable path, the output file, so a query still cannot read or
write anything else.  When a run holds the live file, readers fall back to the
snapshot the last run published, and say so.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import enum
import json
import os
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import duckdb
from rich.console import Console
from warehouse._connect import open_duckdb
from warehouse.errors import QueryError, WarehouseLockedError, WarehouseNotFoundError
from warehouse.query import _SANDBOX, check_readonly_sql, run_readonly
from warehouse.snapshot import default_snapshot_path

from flows.tables import print_table

Params = Sequence[Any] | Mapping[str, Any] | None


class Format(str, enum.Enum):
    """Output formats; the value is what users type after ``--format``."""

    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    parquet = "parquet"


def parse_format(text: str) -> Format:
    """``--format`` value -> ``Format``; an unknown one is a sentence listing the choices."""
    try:
        return Format(text.strip().lower())
    except ValueError:
        choices = ", ".join(f.value for f in Format)
        raise ValueError(f"Unknown --format {text!r}; choose one of {choices}.") from None


def readable_source(
    db: Path, notify: Callable[[str], object], lock_timeout: float = 2.0
) -> Path:
    """The file to read: ``db`` itself, or its snapshot while a run holds ``db``.

    Checks the lock with a trivial query so the caller's real query runs once.
    """
    if not db.is_file():
        raise WarehouseNotFoundError(db)
    try:
        run_readonly(db, "SELECT 1", lock_timeout=lock_timeout)
    except WarehouseLockedError:
        snapshot = default_snapshot_path(db)
        if not snapshot.is_file():
            raise
        notify(f"{db} is busy (a run is writing); answering from the snapshot {snapshot}")
        return snapshot
    return db


def query(db: Path, sql: str, params: Params = None,
          notify: Callable[[str], object] = print) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and rows of one read-only query, from the live file or its snapshot."""
    if db.is_dir():  # a Parquet warehouse (sink: parquet): its views, in the same sandbox
        from warehouse.parquet_read import run_readonly_parquet
        return run_readonly_parquet(db, sql, params)
    return run_readonly(readable_source(db, notify), sql, params)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID | bytes):
        return str(value)
    return str(value)


def _dicts(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def write_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: Format,
               stream: IO[str], console: Console | None = None) -> None:
    """Write rows to ``stream`` in a text format (everything but Parquet)."""
    if fmt is Format.table:
        print_table(columns, rows, console or Console(file=stream, width=10_000))
    elif fmt is Format.csv:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else _csv_value(v) for v in row])
    elif fmt is Format.json:
        json.dump(_dicts(columns, rows), stream, default=_json_default, ensure_ascii=False,
                  indent=1)
        stream.write("\n")
    elif fmt is Format.jsonl:
        for record in _dicts(columns, rows):
            stream.write(json.dumps(record, default=_json_default, ensure_ascii=False) + "\n")
    else:
        raise ValueError(f"{fmt.value} is not a text format")


def _csv_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def emit(db: Path, sql: str, params: Params, fmt: Format, out: Path | None,
         console: Console, notify: Callable[[str], object]) -> int:
    """Run the query and write its result; return the number of rows written."""
    if fmt is Format.parquet:
        if out is None:
            raise ValueError(
                "Parquet is binary: give a file with --out, e.g. --out events.parquet.")
        return write_parquet(readable_source(db, notify), sql, params, out)
    columns, rows = query(db, sql, params, notify)
    if out is None:
        write_rows(columns, rows, fmt, sys.stdout, console if fmt is Format.table else None)
        return len(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            write_rows(columns, rows, fmt, handle)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return len(rows)


def write_parquet(db: Path, sql: str, params: Params, out: Path) -> int:
    """``COPY (sql) TO out`` inside the read-only sandbox; only ``out`` is writable.

    Written to a temporary name and renamed, so a failed query leaves no half file.
    """
    check_readonly_sql(sql)
    out = out.expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    config = {k: v for k, v in _SANDBOX.items() if k not in ("enable_external_access",
                                                               "lock_configuration")}
    con = open_duckdb(db, read_only=True, lock_timeout=2.0, config=config)
    try:
        con.execute("SET allowed_paths = [?]", [str(tmp)])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        body = _without_final_semicolon(sql)
        target = str(tmp).replace("'", "''")
        cursor = con.execute(f"COPY ({body}\n) TO '{target}' (FORMAT parquet)",
                             params if params is not None else None)
        written = cursor.fetchone()
        os.replace(tmp, out)
    except duckdb.Error as exc:
        raise QueryError(f"Query on {db} failed: {exc}") from exc
    finally:
        con.close()
        tmp.unlink(missing_ok=True)
    return int(written[0]) if written else 0


def _without_final_semicolon(sql: str) -> str:
    """The statement without its closing ``;`` so it can sit inside ``COPY (...)``.

    Uses DuckDB's tokenizer, so a ``;`` inside a string or a trailing comment is handled.
    """
    tokens = [(pos, kind) for pos, kind in duckdb.tokenize(sql)
              if kind != duckdb.token_type.comment]
    if tokens and tokens[-1][1] == duckdb.token_type.operator and sql[tokens[-1][0]] == ";":
        return sql[: tokens[-1][0]]
    return sql
