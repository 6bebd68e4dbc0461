"""The SQL of event clustering (`clusters.py`), kept apart so each file stays readable.

The rules live in one place: the constants below are used both by this SQL and by
the Python reference functions in `clusters.py` (`date_span`, `quantity_range`),
so the two cannot drift apart.  Temp tables: `_muster_ev` (events of the blocks
being refreshed with their article's day and feed), `_muster_seg` (mentions of the
dirty date segments), `_muster_new_m` / `_muster_aff` (new membership, clusters to
recompute).
"""

from __future__ import annotations

WINDOW_DAYS = 7
SPAN_DAYS = {"season": 91}
QUANTITY_RANGE = {"approx": (0.9, 1.1), "upper": (0.5, 1.0), "lower": (1.0, 2.0)}

BLOCK_SQL = ("e.type, coalesce(e.actor, ''), coalesce(e.target, ''), "
             "coalesce(lower(trim(e.location)), '')")


def _case(column: str, values: dict[str, float], default: float) -> str:
    """A SQL CASE over `column` from a Python dict, so the factors have one definition."""
    return (f"CASE {column} " + " ".join(f"WHEN '{k}' THEN {v!r}" for k, v in values.items())
            + f" ELSE {default!r} END::DOUBLE")


# The events of the blocks being refreshed, with what clustering needs of their article,
# read once per refresh (the big join) into a temp table that the steps below share.
EVENTS_IN_BLOCKS = """
CREATE OR REPLACE TEMP TABLE _muster_ev AS
SELECT e.event_id, e.article_id, e.type, e.actor, e.target, e.location, e.location_country,
       e.quantity, e.unit, e.quantity_qualifier AS qq, e.date AS d, e.date_precision AS p,
       e.status, coalesce(a.published, CAST(a.fetched_at AS DATE)) AS seen, a.feed,
       e.type AS b0, coalesce(e.actor, '') AS b1, coalesce(e.target, '') AS b2,
       coalesce(lower(trim(e.location)), '') AS b3
FROM events e JOIN articles a USING (article_id) {where}
"""

# What clustering needs of each event, computed in SQL so Python gets plain ints and
# floats: `date_span` and `quantity_range` above, as days since 1970 and DOUBLEs (the
# same IEEE products as in Python).  Over columns d (date), p (precision), seen.
SPAN_START = "coalesce(d, seen) - DATE '1970-01-01'"
SEEN_DAY = "seen - DATE '1970-01-01'"
SPAN_END = f"""CASE WHEN d IS NULL THEN seen WHEN p = 'month' THEN last_day(d)
            WHEN p = 'year' THEN make_date(year(d), 12, 31)
            {" ".join(f"WHEN p = '{k}' THEN d + {v}" for k, v in SPAN_DAYS.items())}
            ELSE d END - DATE '1970-01-01'"""

# The events a caller is about to delete, as mentions (read before the DELETE, so
# `refresh_clusters` knows which date segments lost an event).
REMOVED = f"""
SELECT event_id, b0, b1, b2, b3, {SPAN_START} AS s, {SEEN_DAY} AS sd, {SPAN_END} AS e
FROM (SELECT e.event_id, e.date AS d, e.date_precision AS p,
             coalesce(a.published, CAST(a.fetched_at AS DATE)) AS seen, {BLOCK_SQL}
      FROM events e JOIN articles a USING (article_id)
      WHERE e.article_id IN (SELECT unnest($ids::VARCHAR[])) {{types}}) t(event_id, d, p, seen,
                                                                      b0, b1, b2, b3)
"""

# Each block is cut into *date segments*: in visiting order (span start, seen,
# event_id), a mention whose span starts after every earlier mention's window (span
# end + WINDOW_DAYS) has closed starts a new segment.  `assign_block` closes a cluster
# once a mention starts past its window, so no cluster spans two segments and each
# segment is clustered on its own with the same result.  A segment is *dirty* when it
# holds an added event (one of a dirty article) or a removed one; segments are computed
# over the current and the removed events together, so a clean segment has exactly the
# events it had before, hence the same clusters, and is left alone: a small batch into
# a big file re-clusters only the date windows it touches, not its whole blocks.
SEGMENTS = f"""
CREATE OR REPLACE TEMP TABLE _muster_seg AS
WITH m AS (
    SELECT {SPAN_START} AS s, {SEEN_DAY} AS sd, event_id, {SPAN_END} AS e,
           quantity::DOUBLE * {_case("qq", {k: v[0] for k, v in QUANTITY_RANGE.items()}, 1.0)}
               AS q_lo,
           quantity::DOUBLE * {_case("qq", {k: v[1] for k, v in QUANTITY_RANGE.items()}, 1.0)}
               AS q_hi,
           unit, b0, b1, b2, b3, {{added}} AS touched, false AS gone
    FROM _muster_ev
    {{removed}}
), g AS (
    -- RANGE frames over s alone: mentions with the same span start get the same break
    -- and segment, whatever order a sort leaves ties in (a re-added event also has its
    -- removed row, with the same keys).
    SELECT *, coalesce(s > max(e) OVER (PARTITION BY b0, b1, b2, b3 ORDER BY s
                                        RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                       + {WINDOW_DAYS}, true)::INTEGER AS brk
    FROM m
), h AS (
    SELECT *, sum(brk) OVER (PARTITION BY b0, b1, b2, b3 ORDER BY s
                             RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS seg
    FROM g
), k AS (
    SELECT *, bool_or(touched) OVER (PARTITION BY b0, b1, b2, b3, seg) AS dirty_seg FROM h
)
SELECT s, sd, event_id, e, q_lo, q_hi, unit, b0, b1, b2, b3, seg, gone FROM k WHERE dirty_seg
"""
REMOVED_ROWS = ("UNION ALL SELECT s, sd, event_id, e, NULL, NULL, NULL, b0, b1, b2, b3, true, "
                 "true FROM {src}")

# The current events of the dirty segments for `membership`: rows are
# (span start, seen, event_id, span end, quantity low, quantity high, unit, *block, n),
# ordered by block, segment and visiting order, so each segment is a contiguous run of
# n rows.  Most segments (n = 1) are one cluster of one event and need no assignment.
MENTIONS = """
SELECT s, sd, event_id, e, q_lo, q_hi, unit, b0, b1, b2, b3,
       count(*) OVER (PARTITION BY b0, b1, b2, b3, seg)::INTEGER AS n
FROM _muster_seg WHERE NOT gone ORDER BY b0, b1, b2, b3, seg, s, sd, event_id
"""
# A cluster row from its members (rank order).  Ties for the most common quantity go to the
# one mentioned first; location is the first non-empty one; unit is the first counted one.
# Clusters of one event (most of them) skip the aggregation: their row is the event's
# values, written out below exactly as the aggregates give them for a single row.
CLUSTER_SQL = """
WITH m AS (
    SELECT n.cluster_id, n.mention_rank AS r, e.event_id, e.article_id, e.type, e.actor,
           e.target, e.location, e.location_country, e.quantity, e.unit, e.d AS date,
           e.status, e.seen, e.feed
    FROM _muster_new_m n JOIN _muster_ev e USING (event_id)
    WHERE n.cluster_id IN (SELECT cluster_id FROM _muster_aff)
), multi AS (
    SELECT cluster_id FROM m WHERE r = 2
), mm AS (
    SELECT * FROM m SEMI JOIN multi USING (cluster_id)
), q AS (
    SELECT cluster_id, arg_max(quantity, n * 4294967296 - r) AS quantity
    FROM (SELECT cluster_id, quantity, count(*) AS n, min(r) AS r FROM mm
          WHERE quantity IS NOT NULL GROUP BY ALL)
    GROUP BY cluster_id
)
SELECT cluster_id, arg_min_null(type, r), arg_min_null(actor, r), arg_min_null(target, r),
       arg_min(location, r) FILTER (WHERE location <> ''),
       arg_min(location_country, r) FILTER (WHERE location_country <> ''),
       any_value(q.quantity), min(mm.quantity), max(mm.quantity),
       arg_min_null(unit, r) FILTER (WHERE mm.quantity IS NOT NULL),
       min(date), max(date), min(seen), max(seen), count(*)::INTEGER,
       count(DISTINCT article_id)::INTEGER,
       (count(DISTINCT feed) FILTER (WHERE feed <> ''))::INTEGER,
       coalesce(list_sort(list(DISTINCT feed) FILTER (WHERE feed <> '')), []::VARCHAR[]),
       list_sort(list(DISTINCT status)), arg_min(event_id, r)
FROM mm LEFT JOIN q USING (cluster_id)
GROUP BY cluster_id
UNION ALL
SELECT cluster_id, type, actor, target, CASE WHEN location <> '' THEN location END,
       CASE WHEN location_country <> '' THEN location_country END, quantity, quantity, quantity,
       CASE WHEN quantity IS NOT NULL THEN unit END, date, date, seen, seen, 1::INTEGER,
       1::INTEGER, coalesce(feed <> '', false)::INTEGER,
       CASE WHEN feed <> '' THEN [feed] ELSE []::VARCHAR[] END, [status], event_id
FROM m ANTI JOIN multi USING (cluster_id)
"""
