"""The warehouse's schema history, as an append-only list of SQL steps.

Rules (why they exist): a migration that has shipped is never edited, because
files in the wild were built by it; every change is a new entry at the end.
`schema.migrate` applies the missing ones in order, each in its own
transaction together with its `schema_version` row, so a crash mid-upgrade
leaves the file at the previous version rather than half-upgraded.
Column documentation lives in `schema_doc.py` (applied as COMMENT ON).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from warehouse.cluster_refresh import rebuild_all


@dataclass(frozen=True)
class Migration:
    """One schema version: what it is for, and the statements that build it.

    `after` runs in the same transaction once the statements have: for data
    that SQL alone cannot derive (clustering the events already in a file).
    """

    version: int
    description: str
    steps: tuple[str, ...]
    after: Callable[[duckdb.DuckDBPyConnection], None] | None = None


_V1_TABLES = (
    """
    CREATE TABLE feeds (
        name VARCHAR PRIMARY KEY,
        url VARCHAR,
        etag VARCHAR,
        last_modified VARCHAR,
        last_polled TIMESTAMP,
        last_status VARCHAR
    )
    """,
    """
    CREATE TABLE articles (
        article_id VARCHAR PRIMARY KEY,
        url VARCHAR NOT NULL,
        canonical_url VARCHAR NOT NULL,
        feed VARCHAR,
        title VARCHAR,
        author VARCHAR,
        published DATE,
        fetched_at TIMESTAMP NOT NULL,
        language VARCHAR,
        text VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        extractor_version VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE events (
        event_id VARCHAR PRIMARY KEY,
        article_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        actor VARCHAR,
        actor_name VARCHAR,
        target VARCHAR,
        target_name VARCHAR,
        location VARCHAR,
        location_country VARCHAR,
        quantity BIGINT,
        unit VARCHAR,
        quantity_qualifier VARCHAR,
        weapon_class VARCHAR,
        weapon_name VARCHAR,
        direction VARCHAR,
        date DATE,
        date_precision VARCHAR,
        status VARCHAR NOT NULL,
        attributed_to VARCHAR,
        sentence VARCHAR NOT NULL,
        char_start INTEGER NOT NULL,
        char_end INTEGER NOT NULL,
        rule_id VARCHAR NOT NULL,
        confidence DOUBLE NOT NULL,
        rule_version INTEGER NOT NULL,
        extractor_version VARCHAR NOT NULL,
        extracted_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE fetch_log (
        run_id VARCHAR,
        url VARCHAR,
        feed VARCHAR,
        stage VARCHAR NOT NULL,
        status_code INTEGER,
        outcome VARCHAR NOT NULL,
        reason VARCHAR,
        detail VARCHAR,
        elapsed_ms INTEGER,
        logged_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE runs (
        run_id VARCHAR PRIMARY KEY,
        flow_run_id VARCHAR,
        parameters JSON,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        status VARCHAR NOT NULL,
        counts JSON
    )
    """,
)

_V2_VIEWS = (
    """
    CREATE VIEW events_with_articles AS
    SELECT e.*, a.url, a.canonical_url, a.title, a.published, a.feed
    FROM events e JOIN articles a USING (article_id)
    """,
    """
    CREATE VIEW deployments AS
    SELECT event_id, article_id, actor, actor_name, target, target_name,
           location, location_country,
           CASE WHEN unit = 'troops' THEN quantity END AS troops,
           quantity, unit, quantity_qualifier,
           coalesce(direction, 'deploy') AS direction,
           date, date_precision, status, attributed_to, sentence,
           url, title, published
    FROM events_with_articles
    WHERE type = 'military_deployment'
    """,
    """
    CREATE VIEW weapons_events AS
    SELECT event_id, article_id, type, actor, actor_name, weapon_class, weapon_name,
           quantity, unit, location, location_country, date, date_precision,
           status, attributed_to, sentence, url, title, published
    FROM events_with_articles
    WHERE type IN ('weapons_unveiling', 'weapons_test')
    """,
    """
    CREATE VIEW daily_counts AS
    SELECT coalesce(a.published, CAST(a.fetched_at AS DATE)) AS day,
           e.type, e.actor, count(*) AS n
    FROM events e JOIN articles a USING (article_id)
    GROUP BY ALL
    """,
)

_V3_CLUSTERS = (
    """
    CREATE TABLE event_clusters (
        cluster_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        actor VARCHAR,
        target VARCHAR,
        location VARCHAR,
        location_country VARCHAR,
        quantity BIGINT,
        quantity_min BIGINT,
        quantity_max BIGINT,
        unit VARCHAR,
        date_start DATE,
        date_end DATE,
        first_seen DATE NOT NULL,
        last_seen DATE NOT NULL,
        mention_count INTEGER NOT NULL,
        article_count INTEGER NOT NULL,
        source_count INTEGER NOT NULL,
        feeds VARCHAR[] NOT NULL,
        statuses VARCHAR[] NOT NULL,
        first_event_id VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE event_cluster_members (
        event_id VARCHAR NOT NULL,
        cluster_id VARCHAR NOT NULL,
        article_id VARCHAR NOT NULL,
        mention_rank INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE reextract_log (
        run_id VARCHAR NOT NULL,
        article_id VARCHAR NOT NULL,
        old_version VARCHAR,
        new_version VARCHAR NOT NULL,
        types VARCHAR[],
        outcome VARCHAR NOT NULL,
        events_before INTEGER NOT NULL,
        events_after INTEGER NOT NULL,
        events_added INTEGER NOT NULL,
        events_removed INTEGER NOT NULL,
        logged_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE VIEW clusters_with_sources AS
    SELECT c.*,
           (SELECT list(struct_pack(event_id := e.event_id, url := a.url, title := a.title,
                                    published := a.published, feed := a.feed,
                                    status := e.status, quantity := e.quantity,
                                    date := e.date, sentence := e.sentence)
                        ORDER BY m.mention_rank)
            FROM event_cluster_members m
            JOIN events e ON e.event_id = m.event_id
            JOIN articles a ON a.article_id = e.article_id
            WHERE m.cluster_id = c.cluster_id) AS sources
    FROM event_clusters c
    """,
    """
    CREATE VIEW events_with_clusters AS
    SELECT e.*, m.cluster_id, m.mention_rank, c.mention_count AS cluster_mentions
    FROM events_with_articles e
    LEFT JOIN event_cluster_members m USING (event_id)
    LEFT JOIN event_clusters c USING (cluster_id)
    """,
)

_V4_INGEST_STATE = (
    """
    CREATE TABLE url_state (
        url VARCHAR PRIMARY KEY,
        feed VARCHAR,
        etag VARCHAR,
        last_modified VARCHAR,
        status_code INTEGER,
        reason VARCHAR,
        content_hash VARCHAR,
        discovered_feed VARCHAR,
        fetched_at TIMESTAMP,
        checked_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE feed_config (
        name VARCHAR PRIMARY KEY,
        url VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        enabled BOOLEAN NOT NULL,
        tags VARCHAR[] NOT NULL,
        language VARCHAR,
        poll_interval INTEGER,
        include VARCHAR[] NOT NULL,
        exclude VARCHAR[] NOT NULL,
        updated_at TIMESTAMP NOT NULL
    )
    """,
)

# Article text compressed with ZSTD instead of DuckDB's automatic choice (FSST/dictionary).
# Why: compressing the text was ~1.1 of the ~1.4 CPU s that COMMIT of 100,000 events on
# 20,000 articles (89 MB of text) took; ZSTD does it in ~0.2 s and the file is smaller.
# DuckDB cannot change a column's compression in place (no ALTER ... SET COMPRESSION),
# so the table is rebuilt once, with the same columns, order, types and key; the views
# bind by name, so they keep working.  The rebuild rewrites every article's text once.
_V5_ZSTD_TEXT = (
    _V1_TABLES[1].replace("articles (", "articles_v5 (").replace(
        "text VARCHAR NOT NULL", "text VARCHAR USING COMPRESSION zstd NOT NULL"),
    "INSERT INTO articles_v5 SELECT * FROM articles",
    "DROP TABLE articles",
    "ALTER TABLE articles_v5 RENAME TO articles",
)

# Each member row keeps what clustering needs of its event: the block, the date span and
# seen day (days since 1970), the quantity range and unit.  Why: a refresh then reads the
# blocks a batch touches from this one narrow table; before, it joined every event of
# those blocks with its article (most of the ~120 ms a batch of 50 cost in a file of
# 100,000 events).  `after` re-clusters the file, which fills the columns (the clusters
# come out the same; every member row is rewritten once).
_V6_MEMBER_DATA = tuple(
    f"ALTER TABLE event_cluster_members ADD COLUMN {column}" for column in (
        "block_type VARCHAR", "block_actor VARCHAR", "block_target VARCHAR",
        "block_place VARCHAR", "span_start INTEGER", "seen_day INTEGER", "span_end INTEGER",
        "quantity_low DOUBLE", "quantity_high DOUBLE", "unit VARCHAR"))

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "core tables: feeds, articles, events, fetch_log, runs", _V1_TABLES),
    Migration(2, "analysis views: events_with_articles, deployments, weapons_events, daily_counts",
              _V2_VIEWS),
    # Migration 3 used to cluster an upgraded file's events itself (after=rebuild_all);
    # that now needs migration 6's member columns, so migration 6 does it.
    Migration(3, "event clusters and membership, reextract_log, clusters_with_sources and "
              "events_with_clusters views", _V3_CLUSTERS),
    Migration(4, "ingest state: url_state (per-URL validators, outcome, discovered feed) and "
              "feed_config (tags, language, filters of each feed)", _V4_INGEST_STATE),
    Migration(5, "articles.text stored with ZSTD compression (loads 4x cheaper to commit)",
              _V5_ZSTD_TEXT),
    Migration(6, "event_cluster_members keeps each event's block, date span and quantity "
              "range (refreshes read no events)", _V6_MEMBER_DATA, after=rebuild_all),
)

LATEST_VERSION: int = MIGRATIONS[-1].version
