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

Clusters are refreshed inside the transaction that changes the events
(`cluster_refresh.refresh_clusters`, which uses `dirty_segments` and
`membership` below), so they are never out of date and a re-run that changes
no event changes no cluster row.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import json.encoder
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from warehouse.cluster_sql import (
    MEMBER_DATA,
    QUANTITY_RANGE,
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
    "mention_rank": "INTEGER", **{name: dtype for name, (_, dtype) in MEMBER_DATA.items()},
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


_WINDOW_INT = WINDOW_DAYS  # spans are whole days in `SEGMENTS`


def assign_block(i: int, j: int, s: list[int], e: list[int], q_lo: list[float | None],
                 q_hi: list[float | None], unit: list[str | None], new_cluster: Any,
                 cl: list[int], ranks: list[int]) -> None:
    """Complete-linkage clustering of rows i..j-1 (one block or date segment, in visiting
    order): writes each row's cluster number (`cl`, from `new_cluster(row)`) and rank.

    A cluster keeps the running intersection of its members' date windows
    ([start, end + WINDOW_DAYS]) and quantity ranges; a mention joins the first
    open cluster whose intersection it overlaps (same unit when both have a
    number), else starts a new one.  Mentions come in start order and every
    span ends no earlier than it starts, so a cluster's window, once past,
    stays past (it is dropped from `open_`), and an open one always overlaps
    the next mention's window: only quantities need checking.
    """
    open_: list[list[Any]] = []  # [number, window end, q_lo, q_hi, unit, members]
    for r in range(i, j):
        start, lo, hi = s[r], q_lo[r], q_hi[r]
        if open_:
            open_ = [c for c in open_ if c[1] >= start]
        until = e[r] + _WINDOW_INT
        for c in open_:
            if lo is not None and c[2] is not None and (
                    (unit[r] or "") != c[4]
                    or (c[2] if c[2] > lo else lo) > (c[3] if c[3] < hi else hi)):
                continue
            c[5] += 1
            cl[r], ranks[r] = c[0], c[5]
            if until < c[1]:
                c[1] = until
            if lo is not None:
                if c[2] is None:
                    c[2], c[3], c[4] = lo, hi, unit[r] or ""
                else:
                    if lo > c[2]:
                        c[2] = lo
                    if hi < c[3]:
                        c[3] = hi
            break
        else:
            cl[r] = number = new_cluster(r)
            open_.append([number, until, lo, hi, unit[r] or "", 1] if lo is not None else
                         [number, until, None, None, "", 1])


def _run_starts(table: pa.Table, keys: Sequence[str]) -> list[int]:
    """Row numbers where the value of `keys` changes (runs of equal keys; rows in key order)."""
    n = table.num_rows
    if n < 2:
        return [0] if n else []
    change = None
    for name in keys:
        col = table.column(name)
        ne = pc.not_equal(col.slice(1), col.slice(0, n - 1))
        change = ne if change is None else pc.or_(change, ne)
    return [0, *(pc.add(pc.indices_nonzero(change), 1).to_pylist())]


_BLOCK = ("b0", "b1", "b2", "b3")


def dirty_segments(table: pa.Table) -> pa.Table:
    """The rows of `SEGMENTS` in dirty date segments, with their segment number `seg`.

    In visiting order, a mention whose span starts after every earlier mention's
    window (span end + WINDOW_DAYS; mentions with the same start decide
    together) has closed starts a new segment.  `assign_block` closes a cluster
    once a mention starts past its window, so no cluster spans two segments and
    each segment clusters alone to the same result.  A segment is dirty when it
    holds an added or removed (`touched`) mention; segments are cut over the
    stored, added and removed mentions together, so a clean segment has exactly
    its old events, hence its old clusters, and is left alone.  Blocks without
    a stored member that stays (not `mixed`: all of a fresh file) are dirty as
    a whole (one segment, 0) and need no cutting.
    """
    n = table.num_rows
    starts = _run_starts(table, _BLOCK)
    mixed = table.column("mixed").take(pa.array(starts, pa.int64())).to_pylist()
    segs = [0] * n
    if not any(mixed):
        return table.append_column("seg", pa.array(segs, pa.int32()))
    keep = [True] * n
    s, e, touched = (table.column(c).to_pylist() for c in ("s", "e", "touched"))
    for i, j, cut in zip(starts, [*starts[1:], n], mixed, strict=True):
        if not cut:
            continue
        seg, first, dirty = 0, i, False
        done = group = None  # latest window end before the current start; of the current start
        prev = None
        for r in range(i, j):
            if s[r] != prev:
                if group is not None:
                    done = group if done is None or group > done else done
                prev, group = s[r], None
                if done is None or s[r] > done + WINDOW_DAYS:
                    if not dirty:
                        keep[first:r] = [False] * (r - first)
                    seg, first, dirty = seg + 1, r, False
            group = e[r] if group is None or e[r] > group else group
            dirty = dirty or touched[r]
            segs[r] = seg
        if not dirty:
            keep[first:j] = [False] * (j - first)
    return table.append_column("seg", pa.array(segs, pa.int32())).filter(
        pa.array(keep, pa.bool_()))


def membership(table: pa.Table) -> tuple[pa.Array, list[int], list[int]]:
    """Each row's (cluster_id, mention_rank, cluster size), for the current mentions of
    `SEGMENTS` (every row of a dirty segment but the removed ones, in its order:
    block, segment, span start, seen day, event_id).

    Segments of one mention become a cluster of one directly; longer ones go
    through `assign_block`.  The text `cluster_id` hashes is built from a
    per-block prefix; ids and sizes are spread to the rows with ``take``.
    """
    total = table.num_rows
    if not total:
        return pa.array([], pa.string()), [], []
    starts = _run_starts(table, (*_BLOCK, "seg"))
    at = pa.array(starts, pa.int64())
    blocks = list(zip(*(table.column(f"b{k}").take(at).to_pylist() for k in range(4)),
                      strict=True))
    eid = table.column("event_id").to_pylist()
    s, e, q_lo, q_hi, unit = (table.column(c).to_pylist()
                              for c in ("s", "e", "q_lo", "q_hi", "unit"))
    cl = [0] * total
    ranks = [1] * total
    cids: list[str] = []
    sha, enc = hashlib.sha256, _encode_ascii
    prefix = ""

    def new_cluster(row: int) -> int:
        cids.append(sha((prefix + enc(eid[row]) + "]").encode()).hexdigest()[:16])
        return len(cids) - 1

    last: tuple[str, ...] = ()
    for i, j, block in zip(starts, [*starts[1:], total], blocks, strict=True):
        if block != last:  # the text cluster_id hashes, up to the first member's id
            last, prefix = block, '["cluster",' + ",".join(map(enc, block)) + ","
        if j - i == 1:
            cl[i] = new_cluster(i)
        else:
            assign_block(i, j, s, e, q_lo, q_hi, unit, new_cluster, cl, ranks)
    members = Counter(cl)
    ids = pa.array(cids, pa.string()).take(pa.array(cl, pa.int64()))
    return ids, ranks, list(map(members.__getitem__, cl))
