"""`warehouse.ids.event_id` for a whole Arrow batch at once, hashed by DuckDB.

Why: hashing 100,000 events one Python call at a time (JSON text, sha256,
hexdigest) cost ~0.25 s of a 100,000-event load; DuckDB builds the same JSON
text and hashes it in ~0.07 s.  The text must be byte-identical to what
`ids._digest` hashes, ``json.dumps([article_id, *EVENT_KEY_FIELDS],
separators=(",", ":"), sort_keys=True, ensure_ascii=False)``: strings in double
quotes, None as ``null``, ints in decimal, non-ASCII as UTF-8.  Strings that
JSON escapes (holding a quote, a backslash or a control character) are rare,
and escaping them in SQL makes the statement slow to plan (~30 ms a batch), so
rows holding one get NULL here and their id from Python (`rows.fast_event_id`),
as do small batches (`SQL_MIN_ROWS`).  Tests compare the result with
`ids.event_id` on awkward strings and on many random events.
"""

from __future__ import annotations

import os
import threading

import duckdb
import pyarrow as pa

from warehouse.ids import EVENT_KEY_FIELDS, ID_LENGTH
from warehouse.rows import fast_event_id

_INTS = {"quantity", "char_start"}
_STRINGS = ["article_id", *(name for name in EVENT_KEY_FIELDS if name not in _INTS)]


def _json_sql(column: str) -> str:
    """SQL: `column` as JSON (``null``, a number, or a string that needs no escaping).

    ``'"' || NULL`` is NULL, so `coalesce` gives ``null`` for a missing value.
    """
    if column in _INTS:
        return f"coalesce(CAST({column} AS VARCHAR), 'null')"
    return f"""coalesce('"' || {column} || '"', 'null')"""


# One concat call (not a chain of ||, which builds every intermediate string).
_TEXT = ("concat('[', " + ", ',', ".join(_json_sql(name)
                                         for name in ["article_id", *EVENT_KEY_FIELDS])
         + ", ']')")
_NEEDS_ESCAPE = r"""'[\x00-\x1f"\\]'"""  # RE2: a control character, a quote or a backslash
# One match over the strings run together (concat skips NULLs): six matches cost 0.1 s.
_PLAIN = f"NOT regexp_matches(concat({', '.join(_STRINGS)}), {_NEEDS_ESCAPE})"
EVENT_ID_SQL = f"CASE WHEN {_PLAIN} THEN left(sha256({_TEXT}), {ID_LENGTH}) END"

_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB connection per thread (connections are not thread-safe)
    and per process (one inherited through fork() is not used)."""
    con, pid = getattr(_local, "con", None), os.getpid()
    if con is None or _local.pid != pid:
        con, _local.pid = duckdb.connect(), pid
        _local.con = con
    return con


SQL_MIN_ROWS = 1000  # fewer rows: Python is faster than a statement's fixed cost (~4 ms)


def event_ids(keys: pa.Table) -> pa.Array:
    """Event ids for a table with `article_id` and the `EVENT_KEY_FIELDS` columns, in order."""
    if keys.num_rows < SQL_MIN_ROWS:
        return pa.array([fast_event_id(row["article_id"], row) for row in keys.to_pylist()],
                        pa.string())
    con = _connection()
    con.register("_muster_keys", keys)
    try:
        result = con.sql(f"SELECT {EVENT_ID_SQL} AS id FROM _muster_keys").to_arrow_table()
    finally:
        con.unregister("_muster_keys")
    ids = result.column("id").combine_chunks().cast(pa.string())
    if ids.null_count:  # rows with a string JSON escapes: their ids from Python
        rows = keys.to_pylist()
        ids = pa.array([eid if eid is not None else
                        fast_event_id(rows[i]["article_id"], rows[i])
                        for i, eid in enumerate(ids.to_pylist())], pa.string())
    return ids
