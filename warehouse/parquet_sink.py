"""The warehouse's scale-out write path: articles and events as partitioned Parquet files.

`ParquetSink.load_articles` has the same contract as `Warehouse.load_articles` (same
records, same validation, same `LoadCounts`), but writes immutable files instead of
updating one DuckDB file, so many writers (processes, machines) can load into one
directory or object-store prefix at once. Why it is built this way:

- **Why Parquet and not DuckLake.** DuckLake needs the ``ducklake`` extension, which
  ``INSTALL`` cannot download on these machines, and the PyPI extension packages pin
  duckdb 1.5.5 while Muster is on 2.0.1. Parquet is built into DuckDB and pyarrow,
  and every engine (Spark, Trino, Polars, BigQuery, DuckLake's own ``add_data_files``)
  reads this layout, so it is also the way *into* DuckLake later.
- **Layout.** ``articles/published_date=YYYY-MM-DD/part-<batch>.parquet`` and
  ``events/published_date=YYYY-MM-DD/part-<batch>.parquet``: events sit in their
  article's day (publication day, else fetch day), not their own event date. Event dates
  scatter over years (background references), so partitioning by them would cut every
  50-article batch into dozens of tiny files; by article day a batch writes one to three
  files per table. Rows are sorted by ``date`` so Parquet row-group statistics still prune
  event-date filters.
- **Immutable, atomic, idempotent.** ``<batch>`` hashes the batch's (article_id,
  content_hash, extractor_version) triples, so a re-run of the same batch writes the same
  names and two writers loading different batches never write the same file. Each file is
  written under a temporary name in its partition directory, fsynced, then renamed (atomic
  on a local file system; a single PUT on object storage). Event files are renamed before
  article files, and readers see an event only when the *current* version of its article
  (newest ``loaded_at``, then highest ``batch_id``) carries the same ``batch_id``: a crash
  between the renames leaves orphaned events that no view shows, and an updated article's
  old events are superseded without rewriting a file.
- **Unchanged detection** reads only the three key columns of the batch's own
  ``published_date`` partitions, so its cost follows the size of a day, not of the whole
  history (see the sizing table in benchmarks/README.md for where that stops scaling).
- **Pipeline state stays in DuckDB** (feeds, fetch_log, url_state, runs): those are small,
  updated in place and per writer; Parquet files are for the append-mostly bulk.

Readers: `warehouse.parquet_read` (views and a sandboxed ``run_readonly``) and the
``views.sql`` this sink keeps at the dataset's root.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.arrow_rows import ARTICLE_SCHEMA as _ARTICLES
from warehouse.arrow_rows import EVENT_SCHEMA as _EVENTS
from warehouse.arrow_rows import records_to_tables
from warehouse.errors import WarehouseError, WarehouseWriteError
from warehouse.parquet_read import VIEWS_FILE, views_sql
from warehouse.records import ArticleRecord, LoadCounts, to_utc_naive, utcnow
from warehouse.store import Warehouse

PARTITION = "published_date"
TABLES: tuple[str, ...] = ("articles", "events")
# The zero-row file that gives each table its schema before any data lands, so the views
# bind on an empty dataset. Its day sorts before any real one and it holds no rows.
SCHEMA_DAY = date(1, 1, 1)
SCHEMA_FILE = "part-0000000000000000.parquet"

# The DuckDB tables' columns and types (warehouse/arrow_rows.py), plus ``batch_id``: the
# version key that ties an article row to the events written with it.
ARTICLE_SCHEMA = _ARTICLES.append(pa.field("batch_id", pa.string()))
EVENT_SCHEMA = _EVENTS.append(pa.field("batch_id", pa.string()))
SCHEMAS: dict[str, pa.Schema] = {"articles": ARTICLE_SCHEMA, "events": EVENT_SCHEMA}


def batch_id(keys: Sequence[tuple[str, str, str]]) -> str:
    """16 hex chars over the sorted (article_id, content_hash, extractor_version) triples."""
    text = "\n".join(":".join(k) for k in sorted(keys))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _publish(tmp: Path, final: Path) -> None:
    """Make one written file visible (module-level so a crash test can stop right here)."""
    os.replace(tmp, final)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _day(rec: ArticleRecord) -> date:
    """The partition of an article: its publication day, else the (UTC) day it was fetched."""
    if rec.published is not None:
        return rec.published
    fetched = to_utc_naive(rec.fetched_at)
    return (fetched or utcnow()).date()


class ParquetSink:
    """A directory (or mounted bucket) of hive-partitioned Parquet articles and events.

    Use like `Warehouse` for loading: ``with ParquetSink(dir) as sink:
    sink.load_articles(records)``. Only `load_articles` is offered: pipeline state lives in
    the DuckDB file beside it (see the module docstring).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        self._ready = False

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def open(self) -> None:
        """Create the layout: both tables' schema files and ``views.sql`` (idempotent)."""
        if self._ready:
            return
        try:
            for table in TABLES:
                part = self.root / table / f"{PARTITION}={SCHEMA_DAY.isoformat()}"
                part.mkdir(parents=True, exist_ok=True)
                if not (part / SCHEMA_FILE).is_file():
                    self._write_file(SCHEMAS[table].empty_table(), part / SCHEMA_FILE)
            views = self.root / VIEWS_FILE
            text = views_sql(str(self.root))
            if not views.is_file() or views.read_text(encoding="utf-8") != text:
                tmp = views.with_name(f".{views.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
                tmp.write_text(text, encoding="utf-8")
                _publish(tmp, views)
        except OSError as exc:
            raise WarehouseError(
                f"Cannot create the Parquet warehouse in {self.root}: {exc}") from exc
        self._ready = True

    # -- loading -----------------------------------------------------------------------------
    def load_articles(self, batch: Sequence[ArticleRecord | dict[str, Any]]) -> LoadCounts:
        """Write a batch's new and changed articles with their events; skip unchanged ones.

        Counts mean what `Warehouse.load_articles` says, except ``events_deleted``: an
        updated article's old events are superseded (hidden by the views), not deleted, so
        it stays 0. An I/O failure raises `WarehouseWriteError`; what was renamed before it
        is consistent (see the module docstring) and a re-run completes the batch.
        """
        self.open()
        counts = LoadCounts()
        prepared = Warehouse._prepare(batch, counts)
        if not prepared:
            return counts
        days = {aid: _day(rec) for aid, rec in prepared.items()}
        try:
            stored = self._stored_versions(prepared, days)
        except duckdb.Error as exc:
            raise WarehouseWriteError(f"Reading {self.root} to load a batch failed: {exc}") from exc
        todo: dict[str, ArticleRecord] = {}
        for aid, rec in prepared.items():
            if aid in stored:
                if stored[aid] == (rec.content_hash, rec.extractor_version):
                    counts.articles_unchanged += 1
                    continue
                counts.articles_updated += 1
            else:
                counts.articles_new += 1
            todo[aid] = rec
        if not todo:
            return counts
        bid = batch_id([(aid, r.content_hash or "", r.extractor_version)
                        for aid, r in todo.items()])
        now = utcnow()
        by_day: dict[date, list[tuple[str, ArticleRecord]]] = defaultdict(list)
        for aid in sorted(todo):
            by_day[days[aid]].append((aid, todo[aid]))
        # the same rows, ids and validation as the DuckDB load (one conversion per day)
        tables = {day: records_to_tables(items, now, counts)[:2]
                  for day, items in sorted(by_day.items())}
        try:  # events first: an article row is the commit mark of its events
            for day, (_, events) in tables.items():
                counts.events_written += events.num_rows
                if events.num_rows:
                    events = events.sort_by([("date", "ascending"), ("event_id", "ascending")])
                    self._write_table("events", day, bid, events)
            for day, (articles, _) in tables.items():
                self._write_table("articles", day, bid, articles)
        except (OSError, pa.ArrowException) as exc:
            raise WarehouseWriteError(
                f"Writing batch {bid} to {self.root} failed; files already renamed are "
                f"consistent and a re-run completes the batch: {exc}") from exc
        return counts

    def _stored_versions(self, prepared: dict[str, ArticleRecord],
                         days: dict[str, date]) -> dict[str, tuple[str, str]]:
        """article_id -> (content_hash, extractor_version) of its current stored version,
        looked up only in the partitions this batch writes to."""
        files = [str(f) for day in sorted(set(days.values()))
                 for f in sorted((self.root / "articles" / f"{PARTITION}={day.isoformat()}")
                                 .glob("*.parquet"))]
        if not files:
            return {}
        con = duckdb.connect()
        try:
            rows = con.execute(
                "SELECT article_id, content_hash, extractor_version FROM read_parquet($files) "
                "WHERE article_id IN (SELECT unnest($ids::VARCHAR[])) "
                "QUALIFY row_number() OVER (PARTITION BY article_id "
                "ORDER BY loaded_at DESC, batch_id DESC) = 1",
                {"files": files, "ids": list(prepared)}).fetchall()
        finally:
            con.close()
        return {row[0]: (row[1], row[2]) for row in rows}

    def _write_table(self, table: str, day: date, bid: str, data: pa.Table) -> Path:
        """One file of one table's rows of this batch in one day partition."""
        data = data.append_column("batch_id", pa.array([bid] * data.num_rows, pa.string()))
        part = self.root / table / f"{PARTITION}={day.isoformat()}"
        part.mkdir(parents=True, exist_ok=True)
        return self._write_file(data.cast(SCHEMAS[table]), part / f"part-{bid}.parquet")

    @staticmethod
    def _write_file(data: pa.Table, final: Path) -> Path:
        """Temp name in the same directory (never matched by ``*.parquet``), fsync, rename."""
        tmp = final.with_name(f".{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
        try:
            pq.write_table(data, tmp, compression="zstd")
            _fsync(tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _publish(tmp, final)
        return final


class ParquetWarehouse(Warehouse):
    """The DuckDB warehouse for pipeline state, with articles and events going to Parquet.

    A drop-in `Warehouse` for the pipeline's load step (``sink: parquet``): feeds,
    fetch_log, url_state, runs and spooled batches use the DuckDB file as before, while
    `load_articles` writes to `ParquetSink`. `seen_urls` also counts URLs whose page was
    loaded before (``url_state.content_hash``), since the DuckDB ``articles`` table stays
    empty in this mode.
    """

    def __init__(self, path: Path | str, parquet_dir: Path | str, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.sink = ParquetSink(parquet_dir)

    def load_articles(self, batch: Sequence[ArticleRecord | dict[str, Any]]) -> LoadCounts:
        """Write to the Parquet dataset (see `ParquetSink.load_articles`)."""
        return self.sink.load_articles(batch)

    def seen_urls(self, urls: Iterable[str]) -> set[str]:
        """Stored URLs: articles in the DuckDB file, or pages loaded into Parquet before."""
        wanted = [u for u in dict.fromkeys(urls) if u]
        seen = super().seen_urls(wanted)
        if not wanted:
            return seen
        with self._connection() as con:
            rows = con.execute(
                "SELECT url FROM url_state WHERE content_hash IS NOT NULL "
                "AND url IN (SELECT unnest($ids::VARCHAR[]))", {"ids": wanted}).fetchall()
        return seen | {row[0] for row in rows}


def open_warehouse(db_path: Path | str, sink: str = "duckdb",
                   parquet_dir: Path | str | None = None, **kwargs: Any) -> Warehouse:
    """The pipeline's warehouse for a ``sink`` setting: `Warehouse` or `ParquetWarehouse`."""
    if sink == "duckdb":
        return Warehouse(db_path, **kwargs)
    if sink == "parquet":
        if parquet_dir is None:
            raise ValueError("sink: parquet needs parquet_dir (a directory for the Parquet files)")
        return ParquetWarehouse(db_path, parquet_dir, **kwargs)
    raise ValueError(f"unknown sink {sink!r}; use duckdb or parquet")


def sweep_temp_files(root: Path | str, older_than_s: float = 3600.0) -> int:
    """Remove temporary files a crashed writer left (never visible to readers); returns how many.

    Only files older than ``older_than_s`` go, so a writer still busy keeps its own.
    """
    now = datetime.now().timestamp()
    removed = 0
    for tmp in Path(root).expanduser().glob("*/*/.*.tmp"):
        try:
            if now - tmp.stat().st_mtime >= older_than_s:
                tmp.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
