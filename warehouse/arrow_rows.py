"""Records -> Arrow tables: the columnar bulk path of every warehouse write.

Why Arrow: handing DuckDB a Python value per cell (``executemany``, or lists
bound as ``unnest(?::T[])`` parameters) costs a Python-to-DuckDB conversion
per value, which dominated loading (~4 s for 100,000 events with their
articles).  ``pyarrow.array`` converts a whole Python list in C, and DuckDB
scans an Arrow table zero-copy, so each table of a batch is written by ONE
``INSERT ... SELECT`` over a registered Arrow table.

Everything here is pure (no connection): `records_to_tables` is also the
entry point for other sinks (the Parquet write path) that want the same rows,
the same ids and the same validation as the DuckDB load.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from extractors.model import Event
from warehouse.records import ArticleRecord, LoadCounts, to_utc_naive, utcnow
from warehouse.rows import EVENT_FIELD_TYPES, scan_events

ARTICLE_COLUMNS: dict[str, str] = {
    "article_id": "VARCHAR", "url": "VARCHAR", "canonical_url": "VARCHAR", "feed": "VARCHAR",
    "title": "VARCHAR", "author": "VARCHAR", "published": "DATE", "fetched_at": "TIMESTAMP",
    "language": "VARCHAR", "text": "VARCHAR", "content_hash": "VARCHAR",
    "extractor_version": "VARCHAR", "loaded_at": "TIMESTAMP",
}
EVENT_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR", "article_id": "VARCHAR", **EVENT_FIELD_TYPES,
    "extractor_version": "VARCHAR", "extracted_at": "TIMESTAMP",
}

ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"),
    "BIGINT": pa.int64(), "INTEGER": pa.int32(), "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(), "VARCHAR[]": pa.list_(pa.string()),
}


def arrow_schema(columns: dict[str, str]) -> pa.Schema:
    """DuckDB column types (as written in the *_COLUMNS dicts) as an Arrow schema."""
    return pa.schema([(name, ARROW_TYPES[dtype]) for name, dtype in columns.items()])


ARTICLE_SCHEMA = arrow_schema(ARTICLE_COLUMNS)
EVENT_SCHEMA = arrow_schema(EVENT_COLUMNS)


def table_from_columns(columns: dict[str, str], data: dict[str, Sequence[Any]]) -> pa.Table:
    """An Arrow table with exactly `columns` (in order and type) from per-column Python lists."""
    schema = arrow_schema(columns)
    return pa.Table.from_arrays([pa.array(data[name], type=schema.field(name).type)
                                 for name in columns], schema=schema)


def table_from_rows(columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> pa.Table:
    """The same from row tuples (for the small tables that are built row-wise)."""
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in columns]
    return table_from_columns(columns, dict(zip(columns, cols, strict=True)))


_names = (f"_muster_arrow_{n}" for n in itertools.count())


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, table: pa.Table) -> Iterator[str]:
    """Register `table` under a fresh name for the length of the block (zero-copy scan)."""
    name = next(_names)
    con.register(name, table)
    try:
        yield name
    finally:
        con.unregister(name)


def insert_table(con: duckdb.DuckDBPyConnection, target: str, table: pa.Table, *,
                 verb: str = "INSERT") -> None:
    """One ``INSERT ... SELECT`` of a whole Arrow table into `target` (columns by name)."""
    if table.num_rows == 0:
        return
    names = ", ".join(table.column_names)
    with registered(con, table) as src:
        con.execute(f"{verb} INTO {target} ({names}) SELECT {names} FROM {src}")


def article_table(items: Sequence[tuple[str, ArticleRecord]], loaded_at: datetime) -> pa.Table:
    """`articles` rows for (article_id, record) pairs, all stamped `loaded_at`."""
    recs = [r for _, r in items]
    return table_from_columns(ARTICLE_COLUMNS, {
        "article_id": [aid for aid, _ in items],
        "url": [r.url for r in recs], "canonical_url": [r.canonical_url for r in recs],
        "feed": [r.feed for r in recs], "title": [r.title for r in recs],
        "author": [r.author for r in recs], "published": [r.published for r in recs],
        "fetched_at": [to_utc_naive(r.fetched_at) for r in recs],
        "language": [r.language for r in recs], "text": [r.text for r in recs],
        "content_hash": [r.content_hash for r in recs],
        "extractor_version": [r.extractor_version for r in recs],
        "loaded_at": [loaded_at] * len(recs),
    })


# Event's own fields as one Arrow struct (date still the raw string): `pa.array` reads a
# list of the events' __dict__s into it in C++, ~3x faster than transposing them in
# Python and converting column by column.  Fields the model lacks are left out.
_EVENT_STRUCT = pa.struct([(name, pa.string() if name == "date" else ARROW_TYPES[dtype])
                           for name, dtype in EVENT_FIELD_TYPES.items()
                           if name in Event.model_fields])


def event_table(items: Iterable[tuple[str, str, Sequence[Event], str, datetime]],
                counts: LoadCounts) -> pa.Table:
    """`events` rows for (article_id, label, events, version, extracted_at) per article.

    Same rules and values as `warehouse.rows.event_columns` (the same `scan_events`;
    a test compares the two): duplicate ids within an article kept once, non-ISO
    dates stored NULL with a warning.
    """
    scan = scan_events(items, counts)
    fields = pa.array(scan.values, type=_EVENT_STRUCT)
    n = len(scan.ids)
    data: dict[str, Any] = {
        "event_id": pa.array(scan.ids, pa.string()),
        "article_id": pa.array(scan.article_ids, pa.string()),
        "extractor_version": pa.array(scan.versions, pa.string()),
        "extracted_at": pa.array(scan.stamps, pa.timestamp("us")),
    }
    for name in EVENT_FIELD_TYPES:
        if name == "date":
            raw = fields.field("date").to_pylist()
            data[name] = pa.array([scan.dates.get(v) for v in raw], pa.date32())
        elif _EVENT_STRUCT.get_field_index(name) >= 0:
            data[name] = fields.field(name)
        else:
            data[name] = pa.nulls(n, EVENT_SCHEMA.field(name).type)
    return pa.Table.from_arrays([data[name] for name in EVENT_COLUMNS], schema=EVENT_SCHEMA)


def records_to_tables(records: Sequence[tuple[str, ArticleRecord]], now: datetime | None = None,
                      counts: LoadCounts | None = None) -> tuple[pa.Table, pa.Table, LoadCounts]:
    """(articles, events) Arrow tables for validated (article_id, record) pairs.

    `now` stamps loaded_at (and extracted_at where a record has none); the
    returned counts carry duplicate events and date warnings.  Columns and
    types are exactly `ARTICLE_COLUMNS` / `EVENT_COLUMNS`.
    """
    stamp = now or utcnow()
    counts = counts if counts is not None else LoadCounts()
    events = event_table(((aid, rec.url, rec.events, rec.extractor_version,
                           to_utc_naive(rec.extracted_at) or stamp) for aid, rec in records),
                         counts)
    return article_table(records, stamp), events, counts
