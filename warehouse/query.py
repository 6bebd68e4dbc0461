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


def check_readonly_sql(sql: str) -> None:
    """Raise `ReadOnlySQLError` unless `sql` is one statement that only reads.

    The statement type comes from DuckDB's own parser, not from keyword
    matching, so comments, CTEs and odd spacing cannot disguise a write.
    EXPLAIN ANALYZE runs its statement, so the explained statement is checked too.
    """
    parser = duckdb.connect(":memory:")
    try:
        statements = parser.extract_statements(sql)
        if len(statements) == 1 and statements[0].type == duckdb.StatementType.EXPLAIN:
            inner = _EXPLAIN.sub("", statements[0].query, count=1)
            inner_statements = parser.extract_statements(inner) if inner.strip() else []
            if inner_statements and inner_statements[0].type != duckdb.StatementType.SELECT:
                raise ReadOnlySQLError(
                    f"Refused: only SELECT statements can be explained here, "
                    f"not {inner_statements[0].type.name}.")
    except duckdb.Error as exc:
        raise QueryError(f"Could not parse the SQL: {exc}") from exc
    finally:
        parser.close()
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
    file = Path(path).expanduser()
    if not file.is_file():
        raise WarehouseNotFoundError(file)
    check_readonly_sql(sql)
    con = open_duckdb(file, read_only=True, lock_timeout=lock_timeout, config=_SANDBOX)
    return fetch_and_close(con, sql, params, max_rows, file)


def fetch_and_close(con: duckdb.DuckDBPyConnection, sql: str,
                    params: Sequence[Any] | Mapping[str, Any] | None, max_rows: int | None,
                    where: Path | str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one already-checked statement, close ``con``; DuckDB errors name ``where``.

    Shared by the DuckDB file and the Parquet warehouse, so both answer alike.
    """
    try:
        cursor = con.execute(sql, params) if params is not None else con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall() if max_rows is None else cursor.fetchmany(max_rows)
    except duckdb.Error as exc:
        raise QueryError(f"Query on {where} failed: {exc}") from exc
    finally:
        con.close()
    return columns, rows
