"""Ad-hoc read-only SQL over a warehouse file (`muster query`, notebooks, dashboards).

Three layers, so one mistake does not make a write possible:
1. DuckDB parses the SQL itself (`extract_statements`) and only a single
   SELECT, EXPLAIN (of a SELECT) or PRAGMA statement is accepted;
2. the file is opened with ``read_only=True``;
3. external access is disabled and the configuration locked, so neither
   `COPY ... TO`, `read_csv('/etc/...')`, `ATTACH` nor `SET` can reach past the file.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from warehouse._connect import open_duckdb
from warehouse.errors import QueryError, ReadOnlySQLError, WarehouseNotFoundError

ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN,
           duckdb.StatementType.PRAGMA}
_SANDBOX: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
_EXPLAIN = re.compile(r"^\s*EXPLAIN(\s+ANALY[SZ]E)?\b", re.IGNORECASE)


_parser_lock = threading.Lock()
_parser_con: list[duckdb.DuckDBPyConnection] = []


def _statements(sql: str) -> list[Any]:
    """DuckDB's parse of ``sql``, on one in-memory connection kept for it.

    A new connection per check cost ~15 ms, as much as running a report query.
    """
    with _parser_lock:
        if not _parser_con:
            _parser_con.append(duckdb.connect(":memory:"))
        return _parser_con[0].extract_statements(sql)


def check_readonly_sql(sql: str) -> None:
    """Raise `ReadOnlySQLError` unless `sql` is one statement that only reads.

    The statement type comes from DuckDB's own parser, not from keyword
    matching, so comments, CTEs and odd spacing cannot disguise a write.
    EXPLAIN ANALYZE runs its statement, so the explained statement is checked too.
    """
    try:
        statements = _statements(sql)
        if len(statements) == 1 and statements[0].type == duckdb.StatementType.EXPLAIN:
            inner = _EXPLAIN.sub("", statements[0].query, count=1)
            inner_statements = _statements(inner) if inner.strip() else []
            if inner_statements and inner_statements[0].type != duckdb.StatementType.SELECT:
                raise ReadOnlySQLError(
                    f"Refused: only SELECT statements can be explained here, "
                    f"not {inner_statements[0].type.name}.")
    except duckdb.Error as exc:
        raise QueryError(f"Could not parse the SQL: {exc}") from exc
    if not statements:
        raise ReadOnlySQLError("Refused: no SQL statement given.")
    if len(statements) > 1:
        raise ReadOnlySQLError(
            f"Refused: {len(statements)} statements given; run one read-only statement at a time.")
    kind = statements[0].type
    if kind not in ALLOWED:
        raise ReadOnlySQLError(
            f"Refused: {kind.name} statements are not allowed; the warehouse is read-only here. "
            "Only SELECT (with WITH, DESCRIBE, SHOW, SUMMARIZE), EXPLAIN and PRAGMA are allowed.")


def run_readonly(path: Path | str, sql: str,
                 params: Sequence[Any] | Mapping[str, Any] | None = None, *,
                 max_rows: int | None = None, lock_timeout: float = 5.0,
                 ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only statement on the file at `path`; return (column names, rows).

    Errors: `WarehouseNotFoundError` (no file, the path named), `ReadOnlySQLError`
    (the SQL writes), `QueryError` (DuckDB refused it), `WarehouseLockedError`
    (a writer holds the file longer than `lock_timeout` seconds).
    The file is held only while the query runs.
    """
    return run_readonly_many(path, [(sql, params)], max_rows=max_rows,
                             lock_timeout=lock_timeout)[0]


def run_readonly_many(path: Path | str,
                      queries: Sequence[tuple[str, Sequence[Any] | Mapping[str, Any] | None]],
                      *, max_rows: int | None = None, lock_timeout: float = 5.0,
                      ) -> list[tuple[list[str], list[tuple[Any, ...]]]]:
    """`run_readonly` for several statements on one connection, in order.

    Why: opening the file is most of a small query's cost (~20 ms), and a report asks
    seven. Every statement is checked before the file is opened; errors as `run_readonly`.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise WarehouseNotFoundError(file)
    for sql, _ in queries:
        check_readonly_sql(sql)
    con = open_duckdb(file, read_only=True, lock_timeout=lock_timeout, config=_SANDBOX)
    try:
        return [_fetch(con, sql, params, max_rows, file) for sql, params in queries]
    finally:
        con.close()


def fetch_and_close(con: duckdb.DuckDBPyConnection, sql: str,
                    params: Sequence[Any] | Mapping[str, Any] | None, max_rows: int | None,
                    where: Path | str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one already-checked statement, close ``con``; DuckDB errors name ``where``.

    Shared by the DuckDB file and the Parquet warehouse, so both answer alike.
    """
    try:
        return _fetch(con, sql, params, max_rows, where)
    finally:
        con.close()


def _fetch(con: duckdb.DuckDBPyConnection, sql: str,
           params: Sequence[Any] | Mapping[str, Any] | None, max_rows: int | None,
           where: Path | str) -> tuple[list[str], list[tuple[Any, ...]]]:
    try:
        cursor = con.execute(sql, params) if params is not None else con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall() if max_rows is None else cursor.fetchmany(max_rows)
    except duckdb.Error as exc:
        raise QueryError(f"Query on {where} failed: {exc}") from exc
    return columns, rows
