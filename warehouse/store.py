"""The read-write side of the warehouse: `Warehouse`.

Design choices and why:
- The file is opened per operation (open -> write -> close) unless
  ``hold_connection=True``: DuckDB allows one read-write process per file and
  readers cannot open while a writer holds it, so holding the file only for
  the length of a batch leaves windows for ad-hoc readers (`run_readonly`).
- `load_articles` runs one transaction per batch: either the whole batch is
  in the file or none of it is.  Ids are content-derived, so the same batch
  loaded twice writes nothing the second time.
- Validation problems are returned in `LoadCounts` (errors as values);
  a DuckDB failure rolls back and raises `WarehouseWriteError`, because the
  caller must know the batch is not in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import pyarrow as pa
from pydantic import BaseModel

from extractors.model import Event
from warehouse._connect import open_duckdb
from warehouse.arrow_rows import (
    ARTICLE_COLUMNS,  # re-exported: other sinks import the column lists from here
    EVENT_COLUMNS,
    article_table,
    event_table,
    insert_table,
    registered,
    table_from_rows,
)
from warehouse.cluster_refresh import refresh_clusters, removed_events
from warehouse.errors import WarehouseError, WarehouseWriteError
from warehouse.records import (
    ArticleRecord,
    FeedState,
    FetchLogRow,
    LoadCounts,
    to_utc_naive,
    utcnow,
)
from warehouse.rewrite import (
    count_pending,
    EventReplacement,
    ReplaceCounts,
    StoredArticle,
    count_current,
    page_to_reextract,
    replace_events,
)
from warehouse.rows import EVENT_FIELD_TYPES, _to_json, event_rows
from warehouse.schema import migrate
from warehouse.snapshot import copy_checkpointed, default_snapshot_path

DATA_TABLES: tuple[str, ...] = ("feeds", "articles", "events", "fetch_log", "runs",
                                "event_clusters", "event_cluster_members", "reextract_log")

FETCH_LOG_COLUMNS: dict[str, str] = {
    "run_id": "VARCHAR", "url": "VARCHAR", "feed": "VARCHAR", "stage": "VARCHAR",
    "status_code": "INTEGER", "outcome": "VARCHAR", "reason": "VARCHAR", "detail": "VARCHAR",
    "elapsed_ms": "INTEGER", "logged_at": "TIMESTAMP",
}


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str],
                rows: Sequence[Sequence[Any]], *, verb: str = "INSERT") -> None:
    """Insert many rows in one statement by passing each column as a typed list.

    ``executemany`` costs one round trip per row (~100x slower in DuckDB);
    zipped UNNESTs of list parameters insert a whole batch at once.
    """
    if not rows:
        return
    names = ", ".join(columns)
    selects = ", ".join(f"unnest(?::{dtype}[])" for dtype in columns.values())
    params = [list(col) for col in zip(*rows, strict=True)]
    con.execute(f"{verb} INTO {table} ({names}) SELECT {selects}", params)


def _insert_events(con: duckdb.DuckDBPyConnection, events: pa.Table) -> None:
    """Insert a batch's events, an Arrow table (module-level so tests can make it fail mid-batch)."""
    insert_table(con, "events", events)


def _id_list(con: duckdb.DuckDBPyConnection, sql: str, values: Iterable[str]) -> set[str]:
    """Run `sql` with ``$ids`` bound to a VARCHAR[] and return the first column as a set."""
    ids = [v for v in dict.fromkeys(values) if v is not None]
    if not ids:
        return set()
    return {row[0] for row in con.execute(sql, {"ids": ids}).fetchall()}


def _writer(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The writer runs DuckDB on one thread: a batch's statements are too small to gain from
    a second one (measured on a 100,000-event load: 0.15 s less CPU and no more wall time)."""
    con.execute("SET threads = 1").fetchall()  # fetched: an unfinished result blocks register()
    return con


def _stored_versions(con: duckdb.DuckDBPyConnection,
                     ids: list[str]) -> dict[str, tuple[str, str]]:
    """(content_hash, extractor_version) of the stored articles among `ids`."""
    with registered(con, pa.table({"article_id": pa.array(ids, pa.string())})) as src:
        rows = con.execute("SELECT a.article_id, a.content_hash, a.extractor_version "
                           f"FROM articles a SEMI JOIN {src} USING (article_id)").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


class Warehouse:
    """A DuckDB warehouse file, opened read-write and migrated on open.

    Use as a context manager.  The parent directory is created; a file made by
    an older Muster is upgraded; a file held by another process raises
    `WarehouseLockedError` (after waiting `lock_timeout` seconds).
    """

    def __init__(self, path: Path | str, *, lock_timeout: float = 10.0,
                 hold_connection: bool = False) -> None:
        self.path = Path(path).expanduser()
        self.lock_timeout = lock_timeout
        self.hold_connection = hold_connection
        self._con: duckdb.DuckDBPyConnection | None = None
        self._fresh: duckdb.DuckDBPyConnection | None = None  # opened by `open`, used once
        self._ready = False

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        """Create the file if needed and bring it to the latest schema."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(f"Cannot create the directory of {self.path}: {exc}") from exc
        con = _writer(open_duckdb(self.path, read_only=False, lock_timeout=self.lock_timeout))
        try:
            migrate(con, label=str(self.path))
        except BaseException:
            con.close()
            raise
        self._ready = True
        if self.hold_connection:
            self._con = con
        else:  # the first operation uses it (then closes it): one open instead of two
            self._fresh = con

    def close(self) -> None:
        """Release the file (held connection, or one opened by `open` and not used yet)."""
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._fresh is not None:
            self._fresh.close()
            self._fresh = None

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The held connection, or a fresh one closed right after (frees the file for readers)."""
        if not self._ready:
            self.open()
        if self._con is not None:
            yield self._con
            return
        con, self._fresh = self._fresh, None
        if con is None:
            con = _writer(open_duckdb(self.path, read_only=False, lock_timeout=self.lock_timeout))
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _transaction(self, what: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction; any failure rolls back, DuckDB errors become `WarehouseWriteError`."""
        with self._connection() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException as exc:
                try:
                    con.execute("ROLLBACK")
                except duckdb.Error:
                    pass  # a failed COMMIT (disk full, EFBIG) has ended the transaction already
                if isinstance(exc, duckdb.Error):
                    raise WarehouseWriteError(
                        f"{what} failed in {self.path} and was rolled back: {exc}") from exc
                raise

    def publish_snapshot(self, dest: Path | str | None = None) -> Path:
        """Publish a consistent read-only copy (default `<name>.snapshot.duckdb`) for readers.

        Call after a run: readers that query the snapshot never block the writer.
        """
        target = Path(dest).expanduser() if dest else default_snapshot_path(self.path)
        with self._connection() as con:
            return copy_checkpointed(con, self.path, target)

    # -- lookups ----------------------------------------------------------------------------
    def seen_urls(self, urls: Iterable[str]) -> set[str]:
        """The given URLs already stored, as an article's url or canonical_url."""
        with self._connection() as con:
            return _id_list(con, "SELECT u FROM unnest($ids::VARCHAR[]) t(u) "
                            "WHERE u IN (SELECT url FROM articles) "
                            "OR u IN (SELECT canonical_url FROM articles)", urls)

    def known_hashes(self, hashes: Iterable[str]) -> set[str]:
        """The given content hashes already stored (same text under another URL)."""
        with self._connection() as con:
            return _id_list(con, "SELECT h FROM unnest($ids::VARCHAR[]) t(h) "
                            "WHERE h IN (SELECT content_hash FROM articles)", hashes)

    def counts(self) -> dict[str, int]:
        """Row count of every data table."""
        with self._connection() as con:
            return {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
                    for t in DATA_TABLES}

    # -- articles and events ----------------------------------------------------------------
    def load_articles(self, batch: Sequence[ArticleRecord | dict[str, Any]]) -> LoadCounts:
        """Upsert a batch of articles with their events in ONE transaction.

        Per article (by `article_id`): same content_hash and extractor_version
        as stored -> unchanged, nothing written; otherwise the article row is
        replaced and its events deleted and re-inserted as a unit; new ->
        inserted.  A URL given twice in a batch: the last record wins.
        """
        counts = LoadCounts()
        prepared = self._prepare(batch, counts)
        if not prepared:
            return counts
        with self._transaction(f"Loading a batch of {len(prepared)} articles") as con:
            stored = _stored_versions(con, list(prepared))
            now = utcnow()
            written: list[tuple[str, ArticleRecord]] = []
            replaced: list[str] = []
            for aid, rec in prepared.items():
                if aid in stored:
                    if stored[aid] == (rec.content_hash, rec.extractor_version):
                        counts.articles_unchanged += 1
                        continue
                    replaced.append(aid)
                    counts.articles_updated += 1
                else:
                    counts.articles_new += 1
                written.append((aid, rec))
            if not written:
                return counts
            # Columnar from here on: one Arrow table and one INSERT ... SELECT per table.
            events = event_table(((aid, rec.url, rec.events, rec.extractor_version,
                                   to_utc_naive(rec.extracted_at) or now)
                                  for aid, rec in written), counts)
            removed = removed_events(con, replaced) if replaced else None
            if replaced:
                deleted = con.execute(
                    "DELETE FROM events WHERE article_id IN (SELECT unnest($ids::VARCHAR[]))",
                    {"ids": replaced}).fetchone()
                counts.events_deleted = int(deleted[0]) if deleted else 0
            articles = article_table(written, now)
            insert_table(con, "articles", articles,
                         verb="INSERT OR REPLACE" if replaced else "INSERT")
            _insert_events(con, events)
            refresh_clusters(con, [aid for aid, _ in written], removed,
                             written=(events, articles))
        counts.events_written = events.num_rows
        return counts

    @staticmethod
    def _prepare(batch: Sequence[ArticleRecord | dict[str, Any]],
                 counts: LoadCounts) -> dict[str, ArticleRecord]:
        """Validate records before the transaction; bad ones are counted, not raised."""
        prepared: dict[str, ArticleRecord] = {}
        for i, item in enumerate(batch):
            try:
                rec = item if isinstance(item, ArticleRecord) else ArticleRecord.model_validate(item)
                aid = rec.article_id
            except (ValueError, TypeError) as exc:
                url = item.get("url") if isinstance(item, dict) else getattr(item, "url", None)
                counts.articles_rejected += 1
                counts.errors.append(f"record {i} ({url}): {exc}")
                continue
            if prepared.pop(aid, None) is not None:  # last one wins
                counts.warnings.append(f"record {i} ({rec.url}) repeats an earlier article; "
                                       "the last one is loaded")
            prepared[aid] = rec
        missing = set(Event.model_fields) - set(EVENT_FIELD_TYPES)
        if missing and prepared:
            counts.warnings.append(
                f"Event fields not stored (the warehouse needs a migration): {sorted(missing)}")
        return prepared

    # -- re-extraction (warehouse/rewrite.py) ------------------------------------------------
    def articles_to_reextract(self, version: str, *, since: date | None = None,
                              after: str | None = None, limit: int = 200) -> list[StoredArticle]:
        """A page of stored articles whose extractor_version is not `version` (keyset by id)."""
        with self._connection() as con:
            return page_to_reextract(con, version, since, after, limit)

    def count_current(self, version: str, *, since: date | None = None) -> int:
        """How many articles in scope were already produced by `version`."""
        with self._connection() as con:
            return count_current(con, version, since)

    def count_pending(self, version: str, *, since: date | None = None) -> int:
        """How many articles in scope a re-extraction with `version` will visit."""
        with self._connection() as con:
            return count_pending(con, version, since)

    def replace_events(self, updates: Sequence[EventReplacement], version: str, run_id: str,
                       types: Sequence[str] | None = None) -> ReplaceCounts:
        """Replace the events of these articles in ONE transaction (clusters and log included)."""
        if not updates:
            return ReplaceCounts()
        with self._transaction(f"Replacing the events of {len(updates)} articles") as con:
            return replace_events(
                con, updates, version, run_id, types,
                insert=lambda c, rows: _insert_events(c, table_from_rows(EVENT_COLUMNS, rows)),
                event_rows=event_rows, event_columns=list(EVENT_COLUMNS))

    def rebuild_clusters(self) -> int:
        """Recompute every cluster from the stored events (normally never needed)."""
        with self._transaction("Rebuilding event clusters") as con:
            return refresh_clusters(con, None)

    # -- fetch log, feeds, runs -------------------------------------------------------------
    def log_fetches(self, rows: Sequence[FetchLogRow | dict[str, Any]]) -> int:
        """Append fetch-log rows in one transaction; returns how many were written."""
        records = [r if isinstance(r, FetchLogRow) else FetchLogRow.model_validate(r) for r in rows]
        values = [(r.run_id, r.url, r.feed, r.stage, r.status_code, r.outcome, r.reason, r.detail,
                   r.elapsed_ms, to_utc_naive(r.logged_at)) for r in records]
        if values:
            with self._transaction(f"Logging {len(values)} fetches") as con:
                insert_rows(con, "fetch_log", FETCH_LOG_COLUMNS, values)
        return len(values)

    def get_feed_state(self, name: str) -> FeedState | None:
        """The stored polling state of a feed, or None if never polled."""
        with self._connection() as con:
            row = con.execute("SELECT name, url, etag, last_modified, last_polled, last_status "
                              "FROM feeds WHERE name = ?", [name]).fetchone()
        if row is None:
            return None
        return FeedState(name=row[0], url=row[1], etag=row[2], last_modified=row[3],
                         last_polled=row[4], last_status=row[5])

    def save_feed_state(self, name: str, url: str | None, etag: str | None = None,
                        last_modified: str | None = None, status: str | int | None = None) -> None:
        """Record a poll.  A None etag/last_modified keeps the stored one (a 304 often omits them)."""
        with self._transaction(f"Saving the state of feed {name!r}") as con:
            con.execute(
                "INSERT INTO feeds VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "url = coalesce(excluded.url, feeds.url), "
                "etag = coalesce(excluded.etag, feeds.etag), "
                "last_modified = coalesce(excluded.last_modified, feeds.last_modified), "
                "last_polled = excluded.last_polled, last_status = excluded.last_status",
                [name, url, etag, last_modified, utcnow(),
                 None if status is None else str(status)])

    def start_run(self, run_id: str, flow_run_id: str | None = None,
                  parameters: dict[str, Any] | None = None) -> None:
        """Record a run as started (status 'running'); re-starting a run_id resets it."""
        with self._transaction(f"Starting run {run_id!r}") as con:
            con.execute(
                "INSERT INTO runs VALUES (?, ?, CAST(? AS JSON), ?, NULL, 'running', NULL) "
                "ON CONFLICT (run_id) DO UPDATE SET flow_run_id = excluded.flow_run_id, "
                "parameters = excluded.parameters, started_at = excluded.started_at, "
                "finished_at = NULL, status = 'running', counts = NULL",
                [run_id, flow_run_id, _to_json(parameters), utcnow()])

    def finish_run(self, run_id: str, status: str,
                   counts: dict[str, Any] | BaseModel | None = None) -> bool:
        """Record a run's end; False (not an exception) if the run was never started."""
        with self._transaction(f"Finishing run {run_id!r}") as con:
            row = con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, counts = CAST(? AS JSON) "
                "WHERE run_id = ?", [utcnow(), status, _to_json(counts), run_id]).fetchone()
        return bool(row and row[0])
