"""The SQL of event clustering (`clusters.py`), kept apart so each file stays readable.

The rules live in one place: the constants below are used both by this SQL and by
the Python reference functions in `clusters.py` (`date_span`, `quantity_range`),
so the two cannot drift apart.

Each member row (`event_cluster_members`, migration 6) keeps what clustering needs
of its event: the block, the date span and seen day (days since 1970) and the
quantity range.  So a refresh reads the blocks it touches from that one narrow
table, without joining events to articles, and only the events of the batch (and
the few stored members of the clusters whose row must be recomputed) are read from
`events` / `articles`.  Placeholders (`{gone}`, `{new}`, ...) name Arrow tables that
`cluster_refresh.py` registers for one refresh.
"""

from __future__ import annotations

WINDOW_DAYS = 7
SPAN_DAYS = {"season": 91}
QUANTITY_RANGE = {"approx": (0.9, 1.1), "upper": (0.5, 1.0), "lower": (1.0, 2.0)}

# The stored member columns (after event_id, cluster_id, article_id, mention_rank) and
# their short names in the SQL below: block b0..b3, span start s, seen day sd, span
# end e, quantity range q_lo..q_hi, unit.
MEMBER_DATA: dict[str, tuple[str, str]] = {
    "block_type": ("b0", "VARCHAR"), "block_actor": ("b1", "VARCHAR"),
    "block_target": ("b2", "VARCHAR"), "block_place": ("b3", "VARCHAR"),
    "span_start": ("s", "INTEGER"), "seen_day": ("sd", "INTEGER"),
    "span_end": ("e", "INTEGER"), "quantity_low": ("q_lo", "DOUBLE"),
    "quantity_high": ("q_hi", "DOUBLE"), "unit": ("unit", "VARCHAR"),
}
SHORT = ", ".join(short for short, _ in MEMBER_DATA.values())
# Stored rows under their short names (plus their old cluster and rank).
STORED = ("SELECT event_id, article_id, "
          + ", ".join(f"{col} AS {short}" for col, (short, _) in MEMBER_DATA.items())
          + ", cluster_id AS old_cid, mention_rank AS old_rank FROM event_cluster_members")
MEMBER_COLS = "event_id, cluster_id, article_id, mention_rank, " + ", ".join(MEMBER_DATA)
BLOCK_KEYS = "b0, b1, b2, b3"


def _case(column: str, values: dict[str, float], default: float) -> str:
    """A SQL CASE over `column` from a Python dict, so the factors have one definition."""
    return (f"CASE {column} " + " ".join(f"WHEN '{k}' THEN {v!r}" for k, v in values.items())
            + f" ELSE {default!r} END::DOUBLE")


# What clustering needs of each event, computed in SQL so Python gets plain ints and
# floats: `date_span` and `quantity_range` above, as days since 1970 and DOUBLEs (the
# same IEEE products as in Python).  Over columns d (date), p (precision), seen.
SPAN_START = "(coalesce(d, seen) - DATE '1970-01-01')::INTEGER"
SEEN_DAY = "(seen - DATE '1970-01-01')::INTEGER"
SPAN_END = f"""(CASE WHEN d IS NULL THEN seen WHEN p = 'month' THEN last_day(d)
            WHEN p = 'year' THEN make_date(year(d), 12, 31)
            {" ".join(f"WHEN p = '{k}' THEN d + {v}" for k, v in SPAN_DAYS.items())}
            ELSE d END - DATE '1970-01-01')::INTEGER"""
Q_LO = f"quantity::DOUBLE * {_case('qq', {k: v[0] for k, v in QUANTITY_RANGE.items()}, 1.0)}"
Q_HI = f"quantity::DOUBLE * {_case('qq', {k: v[1] for k, v in QUANTITY_RANGE.items()}, 1.0)}"

# The events just written, as mentions, with what their cluster row needs (their
# article's seen day and feed): from `{events}` / `{articles}`, either the batch's own
# Arrow tables (a load) or the stored tables filtered by `{where}` (dirty articles,
# optionally some types: re-extraction).
ADDED = f"""
SELECT event_id, article_id, type AS b0, coalesce(actor, '') AS b1, coalesce(target, '') AS b2,
       coalesce(lower(trim(location)), '') AS b3, {SPAN_START} AS s, {SEEN_DAY} AS sd,
       {SPAN_END} AS e, {Q_LO} AS q_lo, {Q_HI} AS q_hi, unit,
       type, actor, target, location, location_country, quantity, d, status, feed
FROM (SELECT e.event_id, e.article_id, e.type, e.actor, e.target, e.location,
             e.location_country, e.quantity, e.unit, e.quantity_qualifier AS qq, e.date AS d,
             e.date_precision AS p, e.status, a.feed,
             coalesce(a.published, CAST(a.fetched_at AS DATE)) AS seen
      FROM {{events}} e JOIN {{articles}} a USING (article_id) {{where}})
"""
FIELDS = "type, actor, target, location, location_country, quantity, d, status, feed"
_NO_FIELDS = ", ".join(f"NULL::{dtype} AS {name}" for name, dtype in zip(
    FIELDS.split(", "), ["VARCHAR"] * 5 + ["BIGINT", "DATE", "VARCHAR", "VARCHAR"], strict=True))

# Every mention of the blocks a refresh touches: the stored members that stay
# (`{stored}`: `STORED`, or none when every member is removed), the added events
# (`ADDED`, with their cluster-row fields) and the removed members (`{gone}`:
# `removed_events`), ordered by block and visiting order (span start, seen,
# event_id).  `mixed`: the block holds a stored member that stays.  Python
# (`clusters.dirty_segments`) then cuts the mixed blocks into date segments and
# keeps the dirty ones; a block without stored members is dirty as a whole.
SEGMENTS = f"""
WITH add AS ({ADDED}
), blocks AS (
    SELECT DISTINCT {BLOCK_KEYS} FROM add
    UNION SELECT DISTINCT {BLOCK_KEYS} FROM {{gone}}
), kept AS (
    SELECT * FROM ({{stored}}) m SEMI JOIN blocks USING ({BLOCK_KEYS})
    ANTI JOIN {{gone}} g USING (event_id)
), mixed AS (
    SELECT DISTINCT {BLOCK_KEYS} FROM kept
), allm AS (
    SELECT event_id, article_id, {SHORT}, old_cid, old_rank, false AS touched, false AS gone,
           {_NO_FIELDS}
    FROM kept
    UNION ALL
    SELECT event_id, article_id, {SHORT}, NULL, NULL, true, false, {FIELDS} FROM add
    UNION ALL
    SELECT event_id, article_id, {SHORT}, old_cid, old_rank, true, true, {_NO_FIELDS}
    FROM {{gone}}
)
SELECT allm.*, x.flag IS NOT NULL AS mixed
FROM allm LEFT JOIN (SELECT *, true AS flag FROM mixed) x USING ({BLOCK_KEYS})
ORDER BY {BLOCK_KEYS}, s, sd, event_id, gone
"""

# Member rows as stored, from the new membership (`{src}`: `membership`'s rows).
NEW_ROWS = f"SELECT event_id, cluster_id, article_id, mention_rank, {SHORT} FROM {{src}}"

# A cluster's members for its row (`{n}`: new member rows, with `size` from
# `membership`): members written in this transaction carry their fields
# (`SEGMENTS`); others (`CLUSTER_STORED_MEMBERS`, when a recomputed cluster has
# members that were not written) come from `events` and `articles`.
CLUSTER_MEMBERS = """
SELECT cluster_id, mention_rank AS r, size, event_id, article_id, type, actor, target, location,
       location_country, quantity, unit, d AS date, status, DATE '1970-01-01' + sd AS seen, feed
FROM {n} WHERE touched
"""
CLUSTER_STORED_MEMBERS = """
UNION ALL
SELECT n.cluster_id, n.mention_rank, n.size, n.event_id, e.article_id, e.type, e.actor, e.target,
       e.location, e.location_country, e.quantity, e.unit, e.date, e.status,
       DATE '1970-01-01' + n.sd, a.feed
FROM (SELECT * FROM {n} WHERE NOT touched) n JOIN events e USING (event_id)
JOIN articles a ON a.article_id = e.article_id
"""

# A cluster row from its members `{m}` (rank order).  Ties for the most common quantity
# go to the one mentioned first; location is the first non-empty one; unit is the first
# counted one.  Clusters of one event (most of them, `size` = 1) skip the aggregation:
# their row is the event's values, written out below exactly as the aggregates give
# them for a single row.  Distinct counts and lists are list functions over plain
# `list` aggregates: DuckDB's DISTINCT aggregates cost a hash table each.
CLUSTER_SQL = """
WITH m AS ({m}
), mm AS (
    SELECT * FROM m WHERE size > 1
), q AS (
    SELECT cluster_id, arg_max(quantity, n * 4294967296 - r) AS quantity
    FROM (SELECT cluster_id, quantity, count(*) AS n, min(r) AS r FROM mm
          WHERE quantity IS NOT NULL GROUP BY ALL)
    GROUP BY cluster_id
), agg AS (
    SELECT cluster_id, arg_min_null(type, r) AS type, arg_min_null(actor, r) AS actor,
           arg_min_null(target, r) AS target,
           arg_min(location, r) FILTER (WHERE location <> '') AS location,
           arg_min(location_country, r) FILTER (WHERE location_country <> '') AS lc,
           min(quantity) AS qmin, max(quantity) AS qmax,
           arg_min_null(unit, r) FILTER (WHERE quantity IS NOT NULL) AS unit,
           min(date) AS d0, max(date) AS d1, min(seen) AS s0, max(seen) AS s1,
           count(*)::INTEGER AS k, len(list_distinct(list(article_id)))::INTEGER AS na,
           list_sort(list_distinct(list(feed) FILTER (WHERE feed <> ''))) AS feeds,
           list_sort(list_distinct(list(status))) AS statuses, arg_min(event_id, r) AS first
    FROM mm GROUP BY cluster_id
)
SELECT cluster_id, type, actor, target, location, lc, q.quantity, qmin, qmax, unit, d0, d1,
       s0, s1, k, na, coalesce(len(feeds), 0)::INTEGER, coalesce(feeds, []::VARCHAR[]),
       statuses, first
FROM agg LEFT JOIN q USING (cluster_id)
UNION ALL
SELECT cluster_id, type, actor, target, CASE WHEN location <> '' THEN location END,
       CASE WHEN location_country <> '' THEN location_country END, quantity, quantity, quantity,
       CASE WHEN quantity IS NOT NULL THEN unit END, date, date, seen, seen, 1::INTEGER,
       1::INTEGER, coalesce(feed <> '', false)::INTEGER,
       CASE WHEN feed <> '' THEN [feed] ELSE []::VARCHAR[] END, [status], event_id
FROM m WHERE size = 1
"""
