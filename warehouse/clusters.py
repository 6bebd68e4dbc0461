"""Event clusters: one row per real-world happening, however many articles report it.

GDELT counts every article about a happening as a new event, which inflates
counts whenever a story is widely covered.  Here each event keeps its own row
and evidence, and clusters group the events that describe the same happening:

- same *block*: type, actor, target and place (place compared case-insensitively;
  a missing slot only matches a missing slot);
- dates within `WINDOW_DAYS` of each other, a partial date counting as its
  whole span (month, season ~ 92 days, year) and an undated event as the
  day its article was published;
- compatible quantities: a missing quantity fits anything; two quantities need
  the same unit and overlapping ranges, where exact q is [q, q], approx
  [0.9q, 1.1q], upper ("as many as") [0.5q, q] and lower ("at least") [q, 2q].

Membership is *complete linkage*: an event joins a cluster only when it is
compatible with every member, so chains (A~B, B~C, A!~C) never merge A and C.
Because every constraint is an interval, "compatible with every member" is
"overlaps the running intersection" (Helly's theorem in one dimension), which
keeps the pass linear.  Events are visited in a fixed order (start of date
span, publication day, event_id), and the cluster id hashes the block with the
earliest member's event_id, so the same events always give the same clusters
and the same ids, in any process, however the rows arrived.

Clusters are refreshed block by block inside the transaction that changes the
events (`refresh_clusters`), so they are never out of date and a re-run that
changes no event changes no cluster row.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import json.encoder
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.arrow_rows import registered
from warehouse.cluster_sql import (
    BLOCK_SQL,
    CLUSTER_SQL,
    EVENTS_IN_BLOCKS,
    MENTIONS,
    QUANTITY_RANGE,
    REMOVED,
    REMOVED_ROWS,
    SEGMENTS,
    SPAN_DAYS,
    WINDOW_DAYS,
)

Block = tuple[str, str, str, str]  # type, actor, target, lower(location); '' for NULL
CLUSTER_COLUMNS: dict[str, str] = {
    "cluster_id": "VARCHAR", "type": "VARCHAR", "actor": "VARCHAR", "target": "VARCHAR",
    "location": "VARCHAR", "location_country": "VARCHAR", "quantity": "BIGINT",
    "quantity_min": "BIGINT", "quantity_max": "BIGINT", "unit": "VARCHAR",
    "date_start": "DATE", "date_end": "DATE", "first_seen": "DATE", "last_seen": "DATE",
    "mention_count": "INTEGER", "article_count": "INTEGER", "source_count": "INTEGER",
    "feeds": "VARCHAR[]", "statuses": "VARCHAR[]", "first_event_id": "VARCHAR",
}
MEMBER_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR", "cluster_id": "VARCHAR", "article_id": "VARCHAR",
    "mention_rank": "INTEGER",
}


def date_span(day: date | None, precision: str | None, seen: date) -> tuple[date, date]:
    """The days an event may have happened on: its date's whole span, else the day it was seen."""
    if day is None:
        return seen, seen
    if precision == "month":
        return day, day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if precision == "year":
        return day, date(day.year, 12, 31)
    return day, day + timedelta(days=SPAN_DAYS.get(precision or "day", 0))


def quantity_range(quantity: int | None, qualifier: str | None) -> tuple[float, float] | None:
    """The values a reported quantity allows, or None when there is no number."""
    if quantity is None:
        return None
    low, high = QUANTITY_RANGE.get(qualifier or "exact", (1.0, 1.0))
    return quantity * low, quantity * high


_encode_ascii = json.encoder.encode_basestring_ascii  # what json.dumps uses by default


def cluster_id(block: Block, first_event_id: str) -> str:
    """sha256 over the block and the earliest member, 16 hex chars (stable across processes).

    The hashed text is exactly ``json.dumps(["cluster", *block, first_event_id],
    separators=(",", ":"))``, built without json.dumps' per-call set-up.
    """
    text = "[" + ",".join(map(_encode_ascii, ("cluster", *block, first_event_id))) + "]"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


_WINDOW_INT = WINDOW_DAYS  # spans are whole days in `MENTIONS`

# A mention as a plain tuple, so a block sorts in the fixed visiting order natively
# (span start, seen, event_id); event_ids are unique, so later fields never decide.
Mention = tuple[int, int, str, int, float | None, float | None, str | None]


def assign_block(items: list[Mention]) -> list[list[str]]:
    """Complete-linkage clusters of one block: lists of event_ids, each in mention order.

    A cluster keeps the running intersection of its members' date windows
    ([start, end + WINDOW_DAYS]) and quantity ranges; a mention joins the first
    open cluster whose intersection it overlaps (same unit when both have a
    number), else starts a new one.
    """
    items.sort()
    if len(items) == 1:
        return [[items[0][2]]]
    clusters: list[list[Any]] = []  # [event_ids, day_lo, day_hi, q_lo, q_hi, unit]
    open_: list[list[Any]] = []
    for start, _seen, eid, end, q_lo, q_hi, unit in items:
        # Later mentions start no earlier, so a cluster whose window closed stays closed.
        open_ = [c for c in open_ if c[2] >= start]
        until = end + _WINDOW_INT
        home = None
        for c in open_:
            if max(c[1], start) > min(c[2], until):
                continue
            if q_lo is not None and c[3] is not None and (
                    (unit or "") != (c[5] or "") or max(c[3], q_lo) > min(c[4], q_hi)):
                continue
            home = c
            break
        if home is None:
            home = [[], start, until, None, None, None]
            clusters.append(home)
            open_.append(home)
        home[0].append(eid)
        home[1], home[2] = max(home[1], start), min(home[2], until)
        if q_lo is not None:
            if home[3] is None:
                home[3], home[4], home[5] = q_lo, q_hi, unit
            else:
                home[3], home[4] = max(home[3], q_lo), min(home[4], q_hi)
    return [c[0] for c in clusters]


def membership(table: pa.Table) -> dict[str, list[Any]]:
    """`event_cluster_members` columns but article_id, from the `MENTIONS` result.

    Segments of one mention become a cluster of one directly; only longer
    segments go through `assign_block`.
    """
    s, sd, eid, e, q_lo, q_hi, unit, b0, b1, b2, b3, n = (c.to_pylist() for c in table.columns)
    eids: list[str] = []
    cids: list[str] = []
    ranks: list[int] = []
    i, total = 0, len(eid)
    while i < total:
        k = n[i]
        block = (b0[i], b1[i], b2[i], b3[i])
        if k == 1:
            eids.append(eid[i])
            cids.append(cluster_id(block, eid[i]))
            ranks.append(1)
        else:
            j = i + k
            items = list(zip(s[i:j], sd[i:j], eid[i:j], e[i:j], q_lo[i:j], q_hi[i:j], unit[i:j],
                             strict=True))
            for members in assign_block(items):
                eids.extend(members)
                cids.extend([cluster_id(block, members[0])] * len(members))
                ranks.extend(range(1, len(members) + 1))
        i += k
    return {"event_id": eids, "cluster_id": cids, "mention_rank": ranks}


def blocks_of_articles(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str],
                       types: Sequence[str] | None = None) -> set[Block]:
    """The blocks the stored events of these articles (optionally of these types) fall in."""
    if not article_ids:
        return set()
    sql = (f"SELECT DISTINCT {BLOCK_SQL} FROM events e "
           "WHERE e.article_id IN (SELECT unnest($ids::VARCHAR[]))")
    params: dict[str, Any] = {"ids": list(article_ids)}
    if types:
        sql += " AND e.type IN (SELECT unnest($types::VARCHAR[]))"
        params["types"] = list(types)
    return {tuple(r) for r in con.execute(sql, params).fetchall()}  # type: ignore[misc]


def removed_events(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str],
                   types: Sequence[str] | None = None) -> pa.Table:
    """The stored events of these articles (optionally of these types), as mentions.

    Call BEFORE deleting them and pass the result to `refresh_clusters(removed=)`:
    it is how the refresh finds the date segments that lost an event.
    """
    params: dict[str, Any] = {"ids": list(article_ids)}
    where = ""
    if types:
        where = "AND e.type IN (SELECT unnest($types::VARCHAR[]))"
        params["types"] = list(types)
    return con.sql(REMOVED.format(types=where), params=params).to_arrow_table()


def blocks_of_removed(removed: pa.Table) -> set[Block]:
    """The blocks of a `removed_events` table."""
    cols = [removed.column(f"b{i}").to_pylist() for i in range(4)]
    return set(zip(*cols, strict=True))  # type: ignore[arg-type]


def blocks_of_table(con: duckdb.DuckDBPyConnection, events: pa.Table) -> set[Block]:
    """The blocks of the events in an Arrow table about to be (or just) inserted."""
    if events.num_rows == 0:
        return set()
    with registered(con, events) as src:
        return {tuple(r) for r in  # type: ignore[misc]
                con.execute(f"SELECT DISTINCT {BLOCK_SQL} FROM {src} e").fetchall()}


def refresh_clusters(con: duckdb.DuckDBPyConnection, blocks: Iterable[Block] | None = None,
                     dirty_articles: Sequence[str] | None = None,
                     removed: pa.Table | None = None) -> int:
    """Recompute the clusters of `blocks` (None: all) from the events now stored.

    Call inside the transaction that changed the events, with the blocks of
    both the removed and the added events; `dirty_articles`: every article
    whose events or article row were written (None: re-cluster everything in
    `blocks`); `removed`: the deleted events (`removed_events`, read before the
    DELETE; None: nothing was deleted).  With `dirty_articles`, only the date
    segments holding an event of a dirty article or a removed event are
    re-clustered.  Returns the number of cluster rows written.
    """
    block_list = None if blocks is None else sorted(set(blocks))
    if block_list is not None and not block_list:
        return 0
    dirty = pa.table({"id": pa.array(list(dirty_articles or []), pa.string())})
    gone = removed if removed is not None else pa.table(
        {"event_id": pa.array([], pa.string()), **{f"b{i}": pa.array([], pa.string())
                                                   for i in range(4)},
         "s": pa.array([], pa.int64()), "sd": pa.array([], pa.int64()),
         "e": pa.array([], pa.int64())})
    with registered(con, dirty) as dirty_src, registered(con, gone) as gone_src:
        if block_list is None:
            return _refresh(con, "", None, gone_src)
        cols = list(zip(*block_list, strict=True))
        table = pa.table({f"b{i}": pa.array(list(c), pa.string()) for i, c in enumerate(cols)})
        with registered(con, table) as src:
            where = (f" SEMI JOIN {src} b ON e.type = b.b0 AND coalesce(e.actor, '') = b.b1 AND "
                     "coalesce(e.target, '') = b.b2 AND "
                     "coalesce(lower(trim(e.location)), '') = b.b3")
            return _refresh(con, where, None if dirty_articles is None else dirty_src, gone_src)


_TEMP = ("_muster_ev", "_muster_seg", "_muster_new_m", "_muster_old_m", "_muster_gone_m",
         "_muster_add_m", "_muster_aff", "_muster_new_c", "_muster_old_c")


def _refresh(con: duckdb.DuckDBPyConnection, where: str, dirty: str | None, gone: str) -> int:
    """`refresh_clusters` for the blocks selected by `where` (a semi join on alias e, or '').

    Python does only what SQL cannot: the order-dependent assignment of each
    event to a cluster, for the dirty date segments only (`SEGMENTS`; all of
    them when `dirty` is None).  Everything else is SQL over temp tables: the
    member rows that differ from the stored ones; the clusters whose row may
    differ (a member changed, or a member's article is in `dirty`, the name of
    a one-column table of article ids); their rows aggregated and compared
    with the stored ones.  Only differing rows are deleted and inserted, so a
    load touching a big block rewrites a few rows.  `gone` names the table of
    removed events (`removed_events`).
    """
    con.execute(EVENTS_IN_BLOCKS.format(where=where))
    added = "true" if dirty is None else f"article_id IN (SELECT id FROM {dirty})"
    con.execute(SEGMENTS.format(added=added, removed=REMOVED_ROWS.format(src=gone)))
    new_m = membership(con.sql(MENTIONS).to_arrow_table())
    mcols, ccols = ", ".join(MEMBER_COLUMNS), ", ".join(CLUSTER_COLUMNS)
    with registered(con, pa.table({k: pa.array(v, pa.int32() if k == "mention_rank" else
                                                pa.string()) for k, v in new_m.items()})) as src:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _muster_new_m AS SELECT {mcols} "
                    f"FROM {src} JOIN _muster_ev USING (event_id)")
    # The stored members of the clusters being recomputed: every cluster of the blocks,
    # or (dirty given) every cluster holding an event of a dirty segment, removed or not
    # (old clusters never span segments, so these are whole clusters).
    if dirty is None:
        old = f"SELECT cluster_id FROM event_clusters e{where}"
    else:
        old = ("SELECT cluster_id FROM event_cluster_members WHERE event_id IN "
               "(SELECT event_id FROM _muster_seg)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _muster_old_m AS SELECT {mcols} FROM "
                f"event_cluster_members WHERE cluster_id IN ({old})")
    con.execute("CREATE OR REPLACE TEMP TABLE _muster_gone_m AS "
                "SELECT * FROM _muster_old_m EXCEPT SELECT * FROM _muster_new_m")
    con.execute("CREATE OR REPLACE TEMP TABLE _muster_add_m AS "
                "SELECT * FROM _muster_new_m EXCEPT SELECT * FROM _muster_old_m")
    if dirty is None:
        affected = ("SELECT cluster_id FROM _muster_new_m UNION "
                    f"SELECT cluster_id FROM event_clusters e{where}")
    else:
        affected = ("SELECT cluster_id FROM _muster_gone_m UNION "
                    "SELECT cluster_id FROM _muster_add_m UNION "
                    f"SELECT cluster_id FROM _muster_new_m SEMI JOIN {dirty} d ON article_id = d.id "
                    f"UNION SELECT cluster_id FROM _muster_old_m SEMI JOIN {dirty} d "
                    "ON article_id = d.id")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _muster_aff AS {affected}")
    con.execute("CREATE OR REPLACE TEMP TABLE _muster_new_c AS " + CLUSTER_SQL)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _muster_old_c AS SELECT {ccols} "
                "FROM event_clusters WHERE cluster_id IN (SELECT cluster_id FROM _muster_aff)")
    con.execute("DELETE FROM event_clusters WHERE cluster_id IN (SELECT cluster_id FROM "
                "(SELECT * FROM _muster_old_c EXCEPT SELECT * FROM _muster_new_c))")
    con.execute("DELETE FROM event_cluster_members WHERE event_id IN "
                "(SELECT event_id FROM _muster_gone_m)")
    row = con.execute(f"INSERT INTO event_clusters ({ccols}) SELECT * FROM "
                      "(SELECT * FROM _muster_new_c EXCEPT SELECT * FROM _muster_old_c)").fetchone()
    con.execute(f"INSERT INTO event_cluster_members ({mcols}) SELECT * FROM _muster_add_m")
    for name in _TEMP:
        con.execute(f"DROP TABLE {name}")
    return int(row[0]) if row else 0


def rebuild_all(con: duckdb.DuckDBPyConnection) -> None:
    """Migration hook: cluster the events already in a file being upgraded."""
    refresh_clusters(con, None)
