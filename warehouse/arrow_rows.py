"""Records -> Arrow tables: the columnar bulk path of every warehouse write.

Why Arrow: handing DuckDB a Python value per cell (``executemany``, or lists
bound as ``unnest(?::T[])`` parameters) costs a Python-to-DuckDB conversion
per value, which dominated loading (~4 s for 100,000 events with their
articles).  ``pyarrow.array`` converts a whole Python list in C, and DuckDB
scans an Arrow table zero-copy, so each table of a batch is written by ONE
``INSERT ... SELECT`` over a registered Arrow table.

Nothing here needs the warehouse's connection (event ids are hashed on a
private in-memory one, `sql_ids`): `records_to_tables` is also the entry point
for other sinks (the Parquet write path) that want the same rows, the same ids
and the same validation as the DuckDB load.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from extractors.model import Event
from warehouse.ids import EVENT_KEY_FIELDS
from warehouse.records import ArticleRecord, LoadCounts, to_utc_naive, utcnow
from warehouse.rows import EVENT_FIELD_TYPES, _event_date
from warehouse.sql_ids import event_ids

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

    Same rules and values as `warehouse.rows.event_columns` (a test compares the
    two): duplicate ids within an article kept once (the first), non-ISO dates
    stored NULL with a warning.  Column-wise: Python touches each event once
    (its ``__dict__``); ids are hashed by DuckDB (`sql_ids`), dates parsed once
    per distinct value, and per-article values repeated with ``take``.
    """
    labels: list[str] = []
    aids: list[str] = []
    versions: list[str] = []
    stamps: list[datetime] = []
    sizes: list[int] = []
    values: list[dict[str, Any]] = []
    for aid, label, events, version, extracted_at in items:
        aids.append(aid)
        labels.append(label)
        versions.append(version)
        stamps.append(extracted_at)
        sizes.append(len(events))
        values += [event.__dict__ for event in events]  # pydantic keeps field values here
    fields = pa.array(values, type=_EVENT_STRUCT)
    starts = [0, *itertools.accumulate(sizes)]
    owner = pc.list_parent_indices(pa.ListArray.from_arrays(  # row -> its article
        pa.array(starts, pa.int64()).cast(pa.int32()), pa.nulls(len(values))))
    article_ids = pa.array(aids, pa.string()).take(owner)
    ids = event_ids(pa.table({"article_id": article_ids,
                              **{name: fields.field(name) for name in EVENT_KEY_FIELDS}}))
    dropped = _repeated_ids(ids, owner, fields.field("char_start"))
    counts.events_duplicate += len(dropped)
    dates = _parse_dates(fields.field("date"), owner, starts, set(dropped), labels,
                         fields.field("type"), counts)
    data: dict[str, Any] = {
        "event_id": ids, "article_id": article_ids,
        "extractor_version": pa.array(versions, pa.string()).take(owner),
        "extracted_at": pa.array(stamps, pa.timestamp("us")).take(owner),
    }
    for name in EVENT_FIELD_TYPES:
        if name == "date":
            data[name] = dates
        elif _EVENT_STRUCT.get_field_index(name) >= 0:
            data[name] = fields.field(name)
        else:
            data[name] = pa.nulls(len(values), EVENT_SCHEMA.field(name).type)
    table = pa.Table.from_arrays([data[name] for name in EVENT_COLUMNS], schema=EVENT_SCHEMA)
    if not dropped:
        return table
    # Zero-copy: the slices between dropped rows (a filter would copy every column).
    bounds = [-1, *dropped, table.num_rows]
    return pa.concat_tables([table.slice(a + 1, b - a - 1) for a, b in zip(bounds, bounds[1:])])


def _repeated_ids(ids: pa.Array, owner: pa.Array, char_starts: pa.Array) -> list[int]:
    """Rows (ascending) whose id an earlier row of the batch has: duplicates, dropped.

    Equal ids need the same article and char_start (both are hashed), so only rows
    sharing those with another row are compared: hashing 100,000 ids costs more.
    """
    key = pc.add(pc.multiply(owner, 2**32), char_starts.cast(pa.int64()))
    seen_times = pc.value_counts(key)
    shared = seen_times.filter(pc.greater(seen_times.field("counts"), 1)).field("values")
    if not len(shared):
        return []
    rows = pc.indices_nonzero(pc.is_in(key, value_set=shared))
    seen: set[str] = set()
    dropped = []
    for row, eid in zip(rows.to_pylist(), ids.take(rows).to_pylist(), strict=True):
        if eid in seen:
            dropped.append(row)
        seen.add(eid)
    return dropped


def _parse_dates(raw: pa.Array, owner: pa.Array, starts: list[int], dropped: set[int],
                 labels: list[str], types: pa.Array, counts: LoadCounts) -> pa.Array:
    """Event.date strings as DATEs, each distinct value parsed once (`rows._event_date`).

    A value that is not ISO is stored NULL, with a warning per kept (not
    `dropped`) event that carries it, naming the article and the event's
    position in its list (`starts`: each article's first row).
    """
    encoded = raw.dictionary_encode()  # one hash pass: distinct values and each row's index
    parsed: list[date | None] = []
    bad: list[str] = []
    for value in encoded.dictionary.to_pylist():
        try:
            parsed.append(_event_date(value))
        except ValueError:
            parsed.append(None)
            bad.append(value)
    if bad:
        hit = pc.is_in(raw, value_set=pa.array(bad, pa.string()))
        for row in pc.indices_nonzero(hit).to_pylist():
            if row in dropped:
                continue
            art = owner[row].as_py()
            counts.warnings.append(f"{labels[art]}: event {row - starts[art]} "
                                   f"({types[row].as_py()}) has date {raw[row].as_py()!r}, "
                                   "not ISO; stored NULL")
    return pa.array(parsed, pa.date32()).take(encoded.indices)


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
