"""Reading the Parquet warehouse (`warehouse.parquet_sink`): views, and sandboxed SQL.

Files are immutable and may hold several versions of one article (a changed page, two
writers loading the same article), so readers never read the files directly: they read
views that keep each article's current version (newest ``loaded_at``, then highest
``batch_id``) and only the events written together with it. The same SQL text is saved as
``views.sql`` at the dataset's root, so any DuckDB (CLI: ``duckdb -init views.sql``;
Python: ``con.execute(open('views.sql').read())``) sees the tables Muster's own file has
(``articles``, ``events``, ``deployments``, ``weapons_events``, ``daily_counts``,
``events_with_articles``). For object storage, render it with
``views_sql('s3://bucket/prefix')`` in a DuckDB that has the ``httpfs`` extension.

`run_readonly_parquet` is `warehouse.query.run_readonly` for a Parquet directory: the
same one-read-only-statement check, and a DuckDB that may read that directory and
nothing else (``allowed_directories``, external access off, configuration locked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from warehouse.errors import QueryError, WarehouseNotFoundError
from warehouse.migrations import _V2_VIEWS
from warehouse.query import check_readonly_sql, fetch_and_close

VIEWS_FILE = "views.sql"
_CURRENT = ("QUALIFY row_number() OVER (PARTITION BY article_id "
            "ORDER BY loaded_at DESC, batch_id DESC) = 1")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def views_sql(root: str) -> str:
    """The views over the dataset at ``root`` (a local path or an ``s3://``-style URL)."""
    base = root.rstrip("/")

    def scan(table: str) -> str:
        return (f"read_parquet({_quote(f'{base}/{table}/*/*.parquet')}, hive_partitioning = true, "
                "hive_types = {'published_date': DATE})")

    events = ("CREATE OR REPLACE VIEW events AS\n"
              "SELECT e.*, coalesce(e.date, e.published_date) AS event_date FROM event_versions e\n"
              f"SEMI JOIN (SELECT article_id, batch_id FROM article_versions {_CURRENT}) c\n"
              "ON e.article_id = c.article_id AND e.batch_id = c.batch_id;")
    lines = [
        f"-- Muster's Parquet warehouse at {base} (written by warehouse/parquet_sink.py).",
        "-- Raw versions: every row ever written, with its batch_id and loaded_at.",
        f"CREATE OR REPLACE VIEW article_versions AS SELECT * FROM {scan('articles')};",
        f"CREATE OR REPLACE VIEW event_versions AS SELECT * FROM {scan('events')};",
        "-- Current: each article's newest version, and only the events written with it.",
        f"CREATE OR REPLACE VIEW articles AS SELECT * FROM article_versions {_CURRENT};",
        events,
        "-- The same convenience views as the DuckDB warehouse (warehouse/migrations.py).",
        *(" ".join(v.split()).replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1) + ";"
          for v in _V2_VIEWS),
    ]
    return "\n".join(lines) + "\n"


def connect(root: Path | str, *, sandbox: bool = True) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the views over ``root``.

    ``sandbox=True``: afterwards it can read files under ``root`` only, and cannot write
    files or change settings.
    """
    folder = Path(root).expanduser().resolve()
    if not (folder / VIEWS_FILE).is_file():
        raise WarehouseNotFoundError(folder / VIEWS_FILE)
    con = duckdb.connect()
    try:
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute(views_sql(str(folder)))
        if sandbox:
            con.execute("SET allowed_directories = [?]", [str(folder) + "/"])
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise QueryError(f"Cannot open the Parquet warehouse {folder}: {exc}") from exc
    return con


def run_readonly_parquet(root: Path | str, sql: str,
                         params: Sequence[Any] | Mapping[str, Any] | None = None, *,
                         max_rows: int | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One read-only statement over the Parquet warehouse at ``root``: (columns, rows)."""
    check_readonly_sql(sql)
    return fetch_and_close(connect(root), sql, params, max_rows, root)
