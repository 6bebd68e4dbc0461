"""Keeping `event_clusters` / `event_cluster_members` up to date inside a write transaction.

The rules and the order-dependent assignment are in `clusters.py`, the SQL in
`cluster_sql.py`; this module runs them: one statement reads every mention of
the blocks a batch touches (`SEGMENTS`), Python cuts the dirty date segments and
assigns their events (`clusters.dirty_segments`, `clusters.membership`), and
only the member and cluster rows that differ from the stored ones are written.
Intermediate results are Arrow tables registered for the length of one refresh,
not temp tables: writing 100,000 rows into a DuckDB temp table cost ~65 ms,
fetching them as Arrow ~20 ms.  A pipeline batch compares a few hundred rows,
which Python does faster than a statement's fixed cost; big batches use SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from warehouse.arrow_rows import ARROW_TYPES
from warehouse.cluster_sql import (
    CLUSTER_MEMBERS,
    CLUSTER_SQL,
    CLUSTER_STORED_MEMBERS,
    MEMBER_COLS,
    MEMBER_DATA,
    NEW_ROWS,
    SEGMENTS,
    STORED,
)
from warehouse.clusters import CLUSTER_COLUMNS, MEMBER_COLUMNS, dirty_segments, membership

_GONE_SCHEMA = pa.schema([("event_id", pa.string()), ("article_id", pa.string()),
                          *[(short, ARROW_TYPES[dtype]) for short, dtype in MEMBER_DATA.values()],
                          ("old_cid", pa.string()), ("old_rank", pa.int32())])


def removed_events(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str],
                   types: Sequence[str] | None = None) -> pa.Table:
    """The stored members of these articles' events (optionally of these types).

    Call BEFORE deleting the events and pass the result to `refresh_clusters(removed=)`:
    it is how the refresh finds the date segments and clusters that lost an event.
    """
    sql = f"SELECT * FROM ({STORED}) WHERE article_id IN (SELECT unnest($ids::VARCHAR[]))"
    params: dict[str, Any] = {"ids": list(article_ids)}
    if types:
        sql += " AND b0 IN (SELECT unnest($types::VARCHAR[]))"
        params["types"] = list(types)
    return con.sql(sql, params=params).to_arrow_table().cast(_GONE_SCHEMA)


def refresh_clusters(con: duckdb.DuckDBPyConnection, dirty_articles: Sequence[str] | None = None,
                     removed: pa.Table | None = None, types: Sequence[str] | None = None,
                     written: tuple[pa.Table, pa.Table] | None = None) -> int:
    """Bring the clusters up to date with the events now stored (None: rebuild them all).

    Call inside the transaction that changed the events: `dirty_articles` are
    the articles whose events (of `types`, if given) were written, `removed`
    the members of the events deleted (`removed_events`, read before the
    DELETE; None: nothing was deleted).  `written`: the (events, articles)
    Arrow tables just inserted, if the caller has them (exactly the events
    of `dirty_articles`): read instead of the stored tables.  Only the date
    segments holding a written or removed event are re-clustered, and only
    the member and cluster rows that differ are rewritten.  Returns the
    cluster rows written.
    """
    if dirty_articles is None:  # every stored member is "removed", every event "added"
        with _Scope(con) as reg:
            return _refresh(con, reg, {"events": "events", "articles": "articles", "where": "",
                                       "gone": f"({STORED})", "stored": f"{STORED} LIMIT 0"}, {},
                            rebuild=True)
    if not dirty_articles and removed is None:
        return 0
    with _Scope(con) as reg:
        gone = reg(removed if removed is not None else _GONE_SCHEMA.empty_table())
        names = {"gone": gone, "stored": STORED}
        params: dict[str, Any] = {}
        if written is not None:
            names.update(events=reg(written[0]), articles=reg(written[1]), where="")
        else:
            dirty = reg(pa.table({"id": pa.array(list(dirty_articles), pa.string())}))
            where = f"WHERE e.article_id IN (SELECT id FROM {dirty})"
            if types:
                where += " AND e.type IN (SELECT unnest($types::VARCHAR[]))"
                params["types"] = list(types)
            names.update(events="events", articles="articles", where=where)
        return _refresh(con, reg, names, params)


class _Scope:
    """Arrow tables registered for the length of one refresh (`reg(table)` -> its name)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.names: list[str] = []

    def __enter__(self) -> _Scope:
        return self

    def __call__(self, table: pa.Table) -> str:
        name = f"_muster_c{len(self.names)}"
        self.con.register(name, table)
        self.names.append(name)
        return name

    def __exit__(self, *exc: object) -> None:
        for name in self.names:
            try:
                self.con.unregister(name)
            except duckdb.Error:  # an aborted transaction: the caller rolls back, then it's gone
                pass


def _refresh(con: duckdb.DuckDBPyConnection, reg: _Scope, names: dict[str, str],
             params: dict[str, Any], *, rebuild: bool = False) -> int:
    """`refresh_clusters`; `names` fills `SEGMENTS`: where the written events are
    (`events`, `articles`, `where`: alias e), the removed members (`gone`) and the
    stored members that may stay (`stored`: `STORED`).  `rebuild`: every stored
    cluster row is compared (and one no event produces any more is deleted).

    SQL reads the touched blocks (`SEGMENTS`, one statement); Python cuts the
    dirty date segments (`dirty_segments`) and assigns their events to clusters
    (`membership`, the order-dependent part SQL cannot do).  When the dirty
    segments hold no stored member (a fresh file, new blocks) every cluster is
    new: its rows are aggregated and inserted, nothing is compared or deleted.
    Otherwise the member rows that differ from the stored ones, and the rows of
    the clusters they (or a written event) belong to, are replaced.
    """
    seg = dirty_segments(con.sql(SEGMENTS.format(**names), params=params).to_arrow_table())
    cur = seg.filter(pc.invert(seg.column("gone")))
    cids, ranks, sizes = membership(cur)
    new_t = (cur.append_column("cluster_id", cids)
             .append_column("mention_rank", pa.array(ranks, pa.int32()))
             .append_column("size", pa.array(sizes, pa.int32())))
    new = reg(new_t)
    old_t = seg.filter(pc.is_valid(seg.column("old_cid")))
    ccols = ", ".join(CLUSTER_COLUMNS)
    if not old_t.num_rows and not (rebuild and _count(
            con.execute("SELECT count(*) FROM event_clusters"))):
        written = _count(con.execute(f"INSERT INTO event_clusters ({ccols}) " + CLUSTER_SQL.format(
            m=CLUSTER_MEMBERS.format(n=new))))
        con.execute(f"INSERT INTO event_cluster_members ({MEMBER_COLS}) "
                    + NEW_ROWS.format(src=new))
        return written
    # Old and new member rows of the dirty segments, compared in Python: few rows for a
    # pipeline batch, where SQL's EXCEPT costs more in fixed overhead than the work.
    old_m = pa.table([old_t.column(c) for c in ("event_id", "old_cid", "article_id", "old_rank")]
                     + [old_t.column(short) for short, _ in MEMBER_DATA.values()],
                     names=list(MEMBER_COLUMNS))
    new_m = new_t.select(["event_id", "cluster_id", "article_id", "mention_rank",
                          *(short for short, _ in MEMBER_DATA.values())])
    gone_m, add_m = _differing(con, reg, old_m, new_m, "event_id")
    aff = {*_values(new_t.filter(new_t.column("touched")), "cluster_id"),
           *_values(old_t.filter(old_t.column("gone")), "old_cid"),
           *_values(old_m, "cluster_id", gone_m), *_values(new_m, "cluster_id", add_m)}
    members = CLUSTER_MEMBERS
    if not pc.all(new_t.column("touched")).as_py():
        members += CLUSTER_STORED_MEMBERS
    affected = {} if rebuild else {"aff": list(aff)}
    n = new if rebuild else \
        f"(SELECT * FROM {new} WHERE cluster_id IN (SELECT unnest($aff::VARCHAR[])))"
    where = "" if rebuild else "WHERE cluster_id IN (SELECT unnest($aff::VARCHAR[]))"
    # New rows of the affected clusters and their stored rows, in one statement.
    both = con.sql(f"SELECT false AS stored, * FROM ({CLUSTER_SQL.format(m=members.format(n=n))}) "
                   f"UNION ALL SELECT true, {ccols} FROM event_clusters {where}",
                   params=affected).to_arrow_table()
    stored = both.column("stored")
    new_c = both.filter(pc.invert(stored)).drop_columns(["stored"])
    old_c = both.filter(stored).drop_columns(["stored"])
    gone_c, add_c = _differing(con, reg, old_c, new_c, "cluster_id")
    if gone_c:
        con.execute("DELETE FROM event_clusters WHERE cluster_id IN "
                    "(SELECT unnest($ids::VARCHAR[]))", {"ids": gone_c})
    written = 0
    if add_c:
        written = _count(con.execute(
            f"INSERT INTO event_clusters ({ccols}) SELECT * FROM {reg(new_c)} "
            "WHERE cluster_id IN (SELECT unnest($ids::VARCHAR[]))", {"ids": add_c}))
    if gone_m:
        con.execute("DELETE FROM event_cluster_members WHERE event_id IN "
                    "(SELECT unnest($ids::VARCHAR[]))", {"ids": gone_m})
    if add_m:
        con.execute(f"INSERT INTO event_cluster_members ({MEMBER_COLS}) "
                    + NEW_ROWS.format(src=new) + " WHERE event_id IN "
                    "(SELECT unnest($ids::VARCHAR[]))", {"ids": add_m})
    return written


_PYTHON_DIFF_ROWS = 4000  # below: compare in Python (no statement); above: SQL's EXCEPT


def _differing(con: duckdb.DuckDBPyConnection, reg: _Scope, old: pa.Table, new: pa.Table,
               key: str) -> tuple[list[str], list[str]]:
    """Keys of the `old` rows that `new` lacks or has otherwise, and of the `new` rows
    that `old` lacks or has otherwise (same columns in the same order in both).

    A pipeline batch compares a few hundred rows: Python does it faster than a
    statement's fixed cost; big batches (and rebuilds) use SQL.
    """
    if old.num_rows + new.num_rows > _PYTHON_DIFF_ROWS:
        o, n = reg(old), reg(new)
        diff = con.sql(f"SELECT true AS gone, {key} FROM (SELECT * FROM {o} EXCEPT "
                       f"SELECT * FROM {n}) UNION ALL SELECT false, {key} FROM "
                       f"(SELECT * FROM {n} EXCEPT SELECT * FROM {o})").to_arrow_table()
        gone = diff.column("gone")
        return (diff.filter(gone).column(key).to_pylist(),
                diff.filter(pc.invert(gone)).column(key).to_pylist())
    before = dict(zip(old.column(key).to_pylist(),
                      zip(*(c.to_pylist() for c in old.columns), strict=True), strict=True))
    after = dict(zip(new.column(key).to_pylist(),
                     zip(*(c.to_pylist() for c in new.columns), strict=True), strict=True))
    return ([k for k, row in before.items() if after.get(k) != row],
            [k for k, row in after.items() if before.get(k) != row])


def _values(table: pa.Table, column: str, keys: list[str] | None = None) -> list[str]:
    """A column's values (of the rows whose first column is in `keys`, if given)."""
    if keys is not None:
        table = table.filter(pc.is_in(table.column(0), value_set=pa.array(keys, pa.string())))
    return table.column(column).to_pylist()


def _count(result: duckdb.DuckDBPyConnection) -> int:
    """The row count an INSERT statement (or a count query) returns."""
    rows = result.fetchall()  # all of it: DuckDB refuses new work while a result is unfinished
    return int(rows[0][0]) if rows else 0


def rebuild_all(con: duckdb.DuckDBPyConnection) -> None:
    """Migration hook: cluster the events already in a file being upgraded."""
    refresh_clusters(con, None)
