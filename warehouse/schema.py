"""Bringing a DuckDB file to the current schema, and documenting that schema.

`migrate` is called by every read-write open (``Warehouse``), so a file made
by an older Muster is upgraded in place the first time a newer one opens it.
The documentation (`schema_doc.SCHEMA`) is applied as COMMENT ON after any
upgrade and rendered to ``warehouse/SCHEMA.md`` by `render_schema_markdown`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.errors import SchemaVersionError
from warehouse.migrations import LATEST_VERSION, MIGRATIONS
from warehouse.schema_doc import SCHEMA

SCHEMA_MD = Path(__file__).with_name("SCHEMA.md")

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
)
"""


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The file's schema version: 0 for an empty file, else the highest applied migration."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' "
        "AND database_name = current_database() AND schema_name = 'main'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection, target: int | None = None, *,
            label: str = "database") -> list[int]:
    """Apply the missing migrations up to `target` (default: latest); return the versions applied.

    Each migration and its ``schema_version`` row commit together, so an
    interrupted upgrade leaves a consistent older version.  A file newer than
    this code is refused rather than guessed at (`SchemaVersionError`).
    `target` below latest exists for tests that need an old-version file.
    """
    target = LATEST_VERSION if target is None else target
    have = current_version(con)
    if have > LATEST_VERSION:
        raise SchemaVersionError(
            f"{label} has schema version {have}, but this Muster knows only up to "
            f"{LATEST_VERSION}; upgrade Muster (a file cannot be downgraded)."
        )
    applied: list[int] = []
    if have == 0:
        con.execute(_BOOTSTRAP)
    for migration in MIGRATIONS:
        if migration.version <= have or migration.version > target:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for step in migration.steps:
                con.execute(step)
            if migration.after is not None:
                migration.after(con)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP))",
                [migration.version, migration.description],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    if applied:
        apply_comments(con)
    return applied


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def apply_comments(con: duckdb.DuckDBPyConnection) -> None:
    """Write `SCHEMA` into the catalog as COMMENT ON, for those who explore the file directly.

    Only objects that exist are commented, so this works on old-version files too.
    """
    objects = {
        name: kind for name, kind in con.execute(
            "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE schema_name = 'main' "
            "AND database_name = current_database() "
            "UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() WHERE schema_name = 'main' "
            "AND NOT internal AND database_name = current_database()"
        ).fetchall()
    }
    existing = set(con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
        "AND NOT internal AND database_name = current_database()"
    ).fetchall())
    con.execute("BEGIN TRANSACTION")
    try:
        for table, spec in SCHEMA.items():
            if table not in objects:
                continue
            con.execute(f"COMMENT ON {objects[table]} {_quote(table)} IS {_literal(str(spec['doc']))}")
            columns: dict[str, str] = spec["columns"]  # type: ignore[assignment]
            for column, doc in columns.items():
                if (table, column) in existing:
                    con.execute(
                        f"COMMENT ON COLUMN {_quote(table)}.{_quote(column)} IS {_literal(doc)}"
                    )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def describe_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """(column, DuckDB type) per table/view in catalog order, read from the file itself."""
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND NOT internal AND database_name = current_database() "
        "ORDER BY table_name, column_index"
    ).fetchall():
        out.setdefault(table, []).append((column, dtype))
    return out


def render_schema_markdown() -> str:
    """SCHEMA.md text: builds the latest schema in memory so the types shown are DuckDB's own."""
    con = duckdb.connect(":memory:")
    try:
        migrate(con)
        columns = describe_columns(con)
    finally:
        con.close()
    lines = [
        "# Warehouse schema",
        "",
        (f"Schema version {LATEST_VERSION}. Generated by "
         "`warehouse.schema.render_schema_markdown()` "
         "from `warehouse/schema_doc.py` and the migrations; do not edit by hand "
         "(regenerate with `python -c \"from warehouse.schema import write_schema_doc; "
         "write_schema_doc()\"`). "
         "The same text is stored in the "
         "database as comments (`SELECT * FROM duckdb_columns()`). Timestamps are UTC."),
        "",
    ]
    for table, spec in SCHEMA.items():
        docs: dict[str, str] = spec["columns"]  # type: ignore[assignment]
        lines += [f"## `{table}`", "", str(spec["doc"]), "", "| column | type | meaning |",
                  "|---|---|---|"]
        for column, dtype in columns.get(table, []):
            lines.append(f"| `{column}` | {dtype} | {docs.get(column, '')} |")
        lines.append("")
    return "\n".join(lines)


def write_schema_doc(path: Path = SCHEMA_MD) -> Path:
    """Regenerate SCHEMA.md (the README links it)."""
    path.write_text(render_schema_markdown(), encoding="utf-8")
    return path
