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
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

WINDOW_DAYS = 7
_SPAN_DAYS = {"season": 91}
_QUANTITY_RANGE = {"approx": (0.9, 1.1), "upper": (0.5, 1.0), "lower": (1.0, 2.0)}

Block = tuple[str, str, str, str]  # type, actor, target, lower(location); '' for NULL

BLOCK_SQL = ("e.type, coalesce(e.actor, ''), coalesce(e.target, ''), "
             "coalesce(lower(trim(e.location)), '')")

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

_EVENT_SELECT = f"""
SELECT e.event_id, e.article_id, e.type, e.actor, e.target, e.location, e.location_country,
       e.quantity, e.unit, e.quantity_qualifier, e.date, e.date_precision, e.status,
       coalesce(a.published, CAST(a.fetched_at AS DATE)) AS seen, a.feed,
       {BLOCK_SQL}
FROM events e JOIN articles a USING (article_id)
"""


@dataclass
class _Mention:
    event_id: str
    article_id: str
    type: str
    actor: str | None
    target: str | None
    location: str | None
    location_country: str | None
    quantity: int | None
    unit: str | None
    qualifier: str | None
    day: date | None
    precision: str | None
    status: str
    seen: date
    feed: str | None
    span: tuple[date, date] = field(init=False)

    def __post_init__(self) -> None:
        self.span = date_span(self.day, self.precision, self.seen)


def date_span(day: date | None, precision: str | None, seen: date) -> tuple[date, date]:
    """The days an event may have happened on: its date's whole span, else the day it was seen."""
    if day is None:
        return seen, seen
    if precision == "month":
        return day, day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if precision == "year":
        return day, date(day.year, 12, 31)
    return day, day + timedelta(days=_SPAN_DAYS.get(precision or "day", 0))


def quantity_range(quantity: int | None, qualifier: str | None) -> tuple[float, float] | None:
    """The values a reported quantity allows, or None when there is no number."""
    if quantity is None:
        return None
    low, high = _QUANTITY_RANGE.get(qualifier or "exact", (1.0, 1.0))
    return quantity * low, quantity * high


@dataclass
class _Cluster:
    members: list[_Mention]
    days: tuple[date, date]               # intersection of [start, end + window]
    quantities: tuple[float, float] | None
    unit: str | None

    def accepts(self, m: _Mention) -> bool:
        start, end = max(self.days[0], m.span[0]), min(self.days[1], m.span[1] + _WINDOW)
        if start > end:
            return False
        q = quantity_range(m.quantity, m.qualifier)
        if q is None or self.quantities is None:
            return True
        if (m.unit or "") != (self.unit or ""):
            return False
        return max(self.quantities[0], q[0]) <= min(self.quantities[1], q[1])

    def add(self, m: _Mention) -> None:
        self.members.append(m)
        self.days = (max(self.days[0], m.span[0]), min(self.days[1], m.span[1] + _WINDOW))
        q = quantity_range(m.quantity, m.qualifier)
        if q is not None:
            if self.quantities is None:
                self.quantities, self.unit = q, m.unit
            else:
                self.quantities = (max(self.quantities[0], q[0]), min(self.quantities[1], q[1]))


_WINDOW = timedelta(days=WINDOW_DAYS)


def cluster_id(block: Block, first_event_id: str) -> str:
    """sha256 over the block and the earliest member, 16 hex chars (stable across processes)."""
    text = json.dumps(["cluster", *block, first_event_id], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def assign(mentions: Iterable[tuple[Block, _Mention]]) -> dict[Block, list[_Cluster]]:
    """Group (block, mention) pairs into clusters, block by block, in the fixed visiting order.

    The block comes from SQL (`BLOCK_SQL`), so the same lower()/trim() decide both
    which clusters a refresh replaces and which events it regroups.
    """
    by_block: dict[Block, list[_Mention]] = {}
    for key, m in mentions:
        by_block.setdefault(key, []).append(m)
    out: dict[Block, list[_Cluster]] = {}
    for key, items in by_block.items():
        items.sort(key=lambda m: (m.span[0], m.seen, m.event_id))
        clusters: list[_Cluster] = []
        open_: list[_Cluster] = []
        for m in items:
            # Later events start no earlier, so a cluster whose window closed stays closed.
            open_ = [c for c in open_ if c.days[1] >= m.span[0]]
            home = next((c for c in open_ if c.accepts(m)), None)
            if home is None:
                home = _Cluster([], (m.span[0], m.span[1] + _WINDOW), None, None)
                clusters.append(home)
                open_.append(home)
            home.add(m)
        out[key] = clusters
    return out


def _rows(block: Block, c: _Cluster) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    ms = c.members
    first = ms[0]
    cid = cluster_id(block, first.event_id)
    quantities = [m.quantity for m in ms if m.quantity is not None]
    mode = Counter(quantities).most_common(1)[0][0] if quantities else None
    dates = [m.day for m in ms if m.day is not None]
    row = (
        cid, first.type, first.actor, first.target,
        next((m.location for m in ms if m.location), None),
        next((m.location_country for m in ms if m.location_country), None),
        mode, min(quantities) if quantities else None, max(quantities) if quantities else None,
        c.unit, min(dates) if dates else None, max(dates) if dates else None,
        min(m.seen for m in ms), max(m.seen for m in ms),
        len(ms), len({m.article_id for m in ms}), len({m.feed for m in ms if m.feed}),
        sorted({m.feed for m in ms if m.feed}), sorted({m.status for m in ms}), first.event_id,
    )
    members = [(m.event_id, cid, m.article_id, rank) for rank, m in enumerate(ms, start=1)]
    return row, members


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str],
            rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    selects = ", ".join(f"unnest(?::{dtype}[])" for dtype in columns.values())
    con.execute(f"INSERT INTO {table} ({names}) SELECT {selects}",
                [list(col) for col in zip(*rows, strict=True)])


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


def refresh_clusters(con: duckdb.DuckDBPyConnection, blocks: Iterable[Block] | None = None) -> int:
    """Recompute the clusters of `blocks` (None: all) from the events now stored.

    Call inside the transaction that changed the events, with the blocks of
    both the removed and the added events.  Returns the number of clusters written.
    """
    block_list = None if blocks is None else sorted(set(blocks))
    if block_list is not None and not block_list:
        return 0
    where, params = "", {}
    if block_list is not None:
        where = f" WHERE [{BLOCK_SQL}] IN (SELECT unnest($blocks::VARCHAR[][]))"
        params = {"blocks": [list(b) for b in block_list]}
    rows = con.execute(_EVENT_SELECT + where, params).fetchall()
    new_clusters: dict[str, tuple[Any, ...]] = {}
    new_members: dict[str, tuple[Any, ...]] = {}
    pairs = ((tuple(r[15:19]), _Mention(*r[:15])) for r in rows)
    for block, clusters in assign(pairs).items():  # type: ignore[arg-type]
        for c in clusters:
            row, members = _rows(block, c)
            new_clusters[row[0]] = _frozen(row)
            new_members.update((m[0], m) for m in members)
    # Write only what changed, so a load touching a big block rewrites a few rows, not all.
    old_clusters = {r[0]: _frozen(r) for r in con.execute(
        f"SELECT {', '.join(CLUSTER_COLUMNS)} FROM event_clusters e{where}", params).fetchall()}
    old_members = {r[0]: tuple(r) for r in con.execute(
        f"SELECT {', '.join(MEMBER_COLUMNS)} FROM event_cluster_members WHERE cluster_id IN "
        f"(SELECT cluster_id FROM event_clusters e{where})", params).fetchall()}
    gone_c = [cid for cid, r in old_clusters.items() if new_clusters.get(cid) != r]
    gone_m = [eid for eid, r in old_members.items() if new_members.get(eid) != r]
    # Events deleted by the caller may have left member rows behind in these clusters.
    if gone_c:
        con.execute("DELETE FROM event_clusters WHERE cluster_id IN "
                    "(SELECT unnest($ids::VARCHAR[]))", {"ids": gone_c})
    if gone_m:
        con.execute("DELETE FROM event_cluster_members WHERE event_id IN "
                    "(SELECT unnest($ids::VARCHAR[]))", {"ids": gone_m})
    added_c = [r for cid, r in new_clusters.items() if old_clusters.get(cid) != r]
    _insert(con, "event_clusters", CLUSTER_COLUMNS,
            [tuple(list(v) if isinstance(v, tuple) else v for v in r) for r in added_c])
    _insert(con, "event_cluster_members", MEMBER_COLUMNS,
            [r for eid, r in new_members.items() if old_members.get(eid) != r])
    return len(added_c)


def _frozen(row: Sequence[Any]) -> tuple[Any, ...]:
    """A cluster row with its lists as tuples, so rows can be compared and hashed."""
    return tuple(tuple(v) if isinstance(v, list) else v for v in row)


def rebuild_all(con: duckdb.DuckDBPyConnection) -> None:
    """Migration hook: cluster the events already in a file being upgraded."""
    refresh_clusters(con, None)
