"""Bulk export of the warehouse to Parquet, CSV or JSON lines, with DuckDB's own COPY.

Why it is built this way:
- The file is opened read-only, so an export never blocks a scheduled run
  for longer than the COPY itself; when a run holds the live file, the export
  reads the published snapshot instead (the caller is told which).
- Everything is written into a staging folder beside the target and then
  renamed into place, so a reader of DIR never sees half an export and a
  failed export leaves the previous one intact.
- Parquet events are partitioned hive-style by ``event_date`` (the event's
  date, else its article's publication day, else the fetch day), which is what
  object storage, DuckLake and MotherDuck expect; CSV and JSONL are one file each.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from warehouse._connect import open_duckdb
from warehouse.errors import WarehouseError, WarehouseLockedError, WarehouseNotFoundError
from warehouse.snapshot import default_snapshot_path

Format = Literal["parquet", "csv", "jsonl"]
FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")

_EVENTS = """
SELECT e.*, a.url, a.title, a.published, a.feed, m.cluster_id,
       coalesce(e.date, a.published, CAST(a.fetched_at AS DATE)) AS event_date
FROM events e JOIN articles a USING (article_id)
LEFT JOIN event_cluster_members m USING (event_id)
WHERE coalesce(a.published, CAST(a.fetched_at AS DATE)) >= $since
ORDER BY event_date, e.event_id
"""
_ARTICLES = """
SELECT * FROM articles
WHERE coalesce(published, CAST(fetched_at AS DATE)) >= $since
ORDER BY article_id
"""
_CLUSTERS = """
SELECT * FROM event_clusters WHERE last_seen >= $since ORDER BY cluster_id
"""
_OPTIONS = {"parquet": "FORMAT parquet, COMPRESSION zstd", "csv": "FORMAT csv, HEADER true",
            "jsonl": "FORMAT json"}
_SUFFIX = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}


@dataclass
class ExportReport:
    """Where the export went, what it read, and how many rows of each table."""

    out_dir: Path
    source: Path
    from_snapshot: bool
    rows: dict[str, int] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)


def export_warehouse(db_path: Path | str, out_dir: Path | str, fmt: str = "parquet",
                     since: date | None = None, *, lock_timeout: float = 2.0) -> ExportReport:
    """Write events (with article url/title/published and cluster), articles and clusters.

    Parquet: ``events/event_date=YYYY-MM-DD/*.parquet``, ``articles.parquet``,
    ``event_clusters.parquet``.  CSV/JSONL: ``events.csv``, ``articles.csv``, ...
    `since` keeps what was published (or fetched) on or after that day.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    source = Path(db_path).expanduser()
    if not source.is_file():
        raise WarehouseNotFoundError(source)
    from_snapshot = False
    try:
        con = open_duckdb(source, read_only=True, lock_timeout=lock_timeout)
    except WarehouseLockedError:
        snapshot = default_snapshot_path(source)
        if not snapshot.is_file():
            raise
        source, from_snapshot = snapshot, True
        con = open_duckdb(source, read_only=True, lock_timeout=lock_timeout)
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    stage = out / f".export-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    report = ExportReport(out_dir=out, source=source, from_snapshot=from_snapshot)
    params = {"since": since or date(1, 1, 1)}
    try:
        for name, sql in (("events", _EVENTS), ("articles", _ARTICLES),
                          ("event_clusters", _CLUSTERS)):
            report.rows[name] = int(con.execute(f"SELECT count(*) FROM ({sql})", params)
                                    .fetchone()[0])  # type: ignore[index]
            if fmt == "parquet" and name == "events":
                target = stage / "events"
                options = f"{_OPTIONS[fmt]}, PARTITION_BY (event_date)"
            else:
                target = stage / f"{name}.{_SUFFIX[fmt]}"
                options = _OPTIONS[fmt]
            con.execute(f"COPY ({sql}) TO '{_sql_path(target)}' ({options})", params)
            if fmt == "parquet" and name == "events" and not target.exists():
                target.mkdir()  # no events: an empty folder, not a missing one
            report.paths[name] = out / target.name
    except Exception as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise WarehouseError(f"Export of {source} to {out} failed: {exc}") from exc
    finally:
        con.close()
    _publish(stage, out)
    return report


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _publish(stage: Path, out: Path) -> None:
    """Move each staged entry over its previous version (rename, then remove the old one)."""
    for entry in sorted(stage.iterdir()):
        dest = out / entry.name
        old = None
        if dest.exists():
            old = out / f".old-{uuid.uuid4().hex[:8]}-{entry.name}"
            os.replace(dest, old)
        os.replace(entry, dest)
        if old is not None:
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    stage.rmdir()
