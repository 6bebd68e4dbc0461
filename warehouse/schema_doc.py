"""What every table, view and column means.

Kept as data so it can be applied to the database itself (COMMENT ON, visible
in ``duckdb_columns()`` to anyone exploring the file) and rendered into
``warehouse/SCHEMA.md``; a test fails when a column exists without a line
here or a line here names no column, so the docs cannot drift.
"""

from __future__ import annotations

_ISO3 = "ISO 3166-1 alpha-3 code, or NULL"

# The event columns, shared by the events table and events_with_articles.
EVENT_FIELD_DOCS: dict[str, str] = {
    "type": "event type: military_deployment, weapons_unveiling, weapons_test, attack, "
            "territorial_control, casualties, agreement, arms_transfer, condemnation",
    "actor": f"the state that does it; {_ISO3} (non-state doers are in actor_name)",
    "actor_name": "the words in the text that named the actor",
    "target": f"the other state (host, ally, target, recipient, other party); {_ISO3}",
    "target_name": "the target as written",
    "location": "the most specific place named for the event, gazetteer spelling",
    "location_country": f"the country the location is in; {_ISO3}",
    "quantity": "the number the event carries (troops, tons, casualties, units)",
    "unit": "troops, tons, killed, injured, killed_or_injured or units",
    "quantity_qualifier": "exact, approx, upper (as many as) or lower (at least)",
    "weapon_class": "destroyer, ballistic_missile, drone, ... (see the event contract)",
    "weapon_name": "the weapon's proper name, if any",
    "direction": "deployments only: deploy or withdraw",
    "date": "when the event happened; partial dates are stored as the first day "
            "(see date_precision)",
    "date_precision": "day, month, season or year",
    "status": "asserted, reported, claimed, denied or planned",
    "attributed_to": "who says so (e.g. KCNA)",
    "sentence": "the evidence sentence",
    "char_start": "offset of the evidence in articles.text",
    "char_end": "end offset of the evidence in articles.text",
    "rule_id": "the extractor rule that produced the event",
    "confidence": "extractor confidence, 0..1",
    "rule_version": "version of that rule",
}

SCHEMA: dict[str, dict[str, object]] = {
    "schema_version": {
        "doc": "One row per applied migration; max(version) is the file's schema version.",
        "columns": {
            "version": "migration number (warehouse/migrations.py)",
            "description": "what the migration did",
            "applied_at": "when it was applied to this file (UTC)",
        },
    },
    "feeds": {
        "doc": "Per-feed polling state, for conditional GETs (ETag / Last-Modified).",
        "columns": {
            "name": "feed name from the feeds config (primary key)",
            "url": "the feed URL last polled",
            "etag": "ETag the server returned last time, sent back as If-None-Match",
            "last_modified": "Last-Modified header last returned, sent back as If-Modified-Since",
            "last_polled": "when the feed was last polled (UTC)",
            "last_status": "outcome of the last poll (e.g. ok, not_modified, a reason code)",
        },
    },
    "articles": {
        "doc": "One row per article (by canonical URL): cleaned text and metadata.",
        "columns": {
            "article_id": "sha256(canonical_url) hex prefix, 16 chars (warehouse.ids)",
            "url": "the URL the article was fetched from",
            "canonical_url": "canonical form of the URL; the identity of the article",
            "feed": "name of the feed it came from",
            "title": "headline",
            "author": "byline, if any",
            "published": "publication date, if known",
            "fetched_at": "when the page was fetched (UTC)",
            "language": "detected language code",
            "text": "cleaned article text; events' char offsets point into it",
            "content_hash": "sha256 of the normalised text; a change triggers re-extraction",
            "extractor_version": "RuleSet.version that produced this article's events",
            "loaded_at": "when this row was last written (UTC)",
        },
    },
    "events": {
        "doc": "One row per extracted event; every field of the event contract "
               "(shared/spec/events.md) is a column.",
        "columns": {
            "event_id": "hash of (article_id, type, actor, target, location, quantity, unit, "
                        "char_start), 16 hex chars (warehouse.ids)",
            "article_id": "the article it came from (articles.article_id)",
            **EVENT_FIELD_DOCS,
            "extractor_version": "RuleSet.version that produced it",
            "extracted_at": "when it was extracted/loaded (UTC)",
        },
    },
    "fetch_log": {
        "doc": "One row per attempt at a stage for a URL: the audit trail of a run.",
        "columns": {
            "run_id": "the run (runs.run_id)",
            "url": "the URL concerned",
            "feed": "the feed it belongs to",
            "stage": "feed, page, clean or extract",
            "status_code": "HTTP status code, if any",
            "outcome": "ok, not_modified, error or skipped",
            "reason": "machine reason code (http_404, timeout, not_html, ...)",
            "detail": "human-readable detail",
            "elapsed_ms": "time taken, milliseconds",
            "logged_at": "when the attempt was logged (UTC); named so because AT is an SQL keyword",
        },
    },
    "url_state": {
        "doc": "Per-URL fetch state (pages, discovered feeds): the validators for the next "
               "conditional GET, and what the last fetch came to.",
        "columns": {
            "url": "the URL requested (canonical form; primary key)",
            "feed": "the feed that listed it last",
            "etag": "ETag last returned, sent back as If-None-Match",
            "last_modified": "Last-Modified last returned, sent back as If-Modified-Since",
            "status_code": "HTTP status of the last request (304 when unchanged)",
            "reason": "reason code the last fetch was dropped for (NULL if loaded)",
            "content_hash": "content hash of the last cleaned text, if any",
            "discovered_feed": "for a feed configured as an HTML page: the feed URL found on it",
            "fetched_at": "when a body was last received (UTC)",
            "checked_at": "when the URL was last requested (UTC)",
        },
    },
    "feed_config": {
        "doc": "The feeds file as of the last run, so articles can be joined to a feed's tags.",
        "columns": {
            "name": "feed name (articles.feed; primary key)",
            "url": "configured URL",
            "kind": "auto, rss, atom, sitemap, folder or discover",
            "enabled": "false if the feed is switched off",
            "tags": "the feed's tags",
            "language": "configured language (fallback for pages without one)",
            "poll_interval": "minimum seconds between polls, if set",
            "include": "URL regexes an item must match (any)",
            "exclude": "URL regexes that drop an item",
            "updated_at": "when this row was written (UTC)",
        },
    },
    "runs": {
        "doc": "One row per pipeline run.",
        "columns": {
            "run_id": "Muster run id (primary key)",
            "flow_run_id": "Prefect flow run id, if run under Prefect",
            "parameters": "run parameters (JSON)",
            "started_at": "start (UTC)",
            "finished_at": "end (UTC); NULL while running or if it crashed",
            "status": "running, then the final status given by the flow (e.g. completed, failed)",
            "counts": "final counters (JSON), e.g. LoadCounts",
        },
    },
    "events_with_articles": {
        "doc": "View: events with their article's url, title, publication date and feed.",
        "columns": {
            "event_id": "see events", "article_id": "see events", **EVENT_FIELD_DOCS,
            "extractor_version": "see events", "extracted_at": "see events",
            "url": "article URL", "canonical_url": "article canonical URL",
            "title": "article headline", "published": "article publication date",
            "feed": "article feed",
        },
    },
    "deployments": {
        "doc": "View: military_deployment events with troop numbers and their article.",
        "columns": {
            "event_id": "see events", "article_id": "see events",
            "actor": "sending state", "actor_name": "as written",
            "target": "host or ally state", "target_name": "as written",
            "location": "where", "location_country": "country of location",
            "troops": "quantity when unit is troops, else NULL",
            "quantity": "raw quantity (troops, units, ...)", "unit": "its unit",
            "quantity_qualifier": "exact, approx, upper, lower",
            "direction": "deploy (default when NULL) or withdraw",
            "date": "event date", "date_precision": "its precision",
            "status": "asserted, reported, ...", "attributed_to": "source",
            "sentence": "evidence", "url": "article URL", "title": "article headline",
            "published": "article publication date",
        },
    },
    "weapons_events": {
        "doc": "View: weapons_unveiling and weapons_test events with their article.",
        "columns": {
            "event_id": "see events", "article_id": "see events",
            "type": "weapons_unveiling or weapons_test",
            "actor": "state", "actor_name": "as written",
            "weapon_class": "class", "weapon_name": "proper name",
            "quantity": "e.g. tons for ships", "unit": "its unit",
            "location": "where", "location_country": "country of location",
            "date": "event date", "date_precision": "its precision",
            "status": "asserted, reported, ...", "attributed_to": "source",
            "sentence": "evidence", "url": "article URL", "title": "article headline",
            "published": "article publication date",
        },
    },
    "event_clusters": {
        "doc": "One row per real-world happening: events of the same type, actor, target and "
               "place, with dates within 7 days (partial dates count as their whole span, an "
               "undated event as its article's day) and compatible quantities (same unit, "
               "overlapping ranges: approx +-10%, 'as many as' q = [q/2, q], 'at least' q = "
               "[q, 2q]). Every member must fit every other, so clusters do not chain. "
               "Maintained in the same transaction as every load and re-extraction "
               "(warehouse/clusters.py).",
        "columns": {
            "cluster_id": "sha256 of (type, actor, target, place, first member's event_id), "
                          "16 hex chars; the same events always give the same id",
            "type": "event type shared by every member",
            "actor": "actor state shared by every member (NULL: none named)",
            "target": "target state shared by every member",
            "location": "place shared by every member (compared case-insensitively)",
            "location_country": "country of that place (first member that names one)",
            "quantity": "the quantity most members report (ties: the earliest mention)",
            "quantity_min": "smallest quantity reported by a member",
            "quantity_max": "largest quantity reported by a member",
            "unit": "unit of the quantities",
            "date_start": "earliest event date among the members (NULL: none dated)",
            "date_end": "latest event date among the members",
            "first_seen": "first day an article reported it (publication day, else fetch day)",
            "last_seen": "last day an article reported it",
            "mention_count": "number of member events (mentions)",
            "article_count": "number of distinct articles among the members",
            "source_count": "number of distinct feeds among the members",
            "feeds": "the distinct feeds that reported it, sorted",
            "statuses": "the distinct statuses the members carry (asserted, denied, ...)",
            "first_event_id": "the earliest mention (events.event_id)",
        },
    },
    "event_cluster_members": {
        "doc": "Which cluster each event belongs to; every event is in exactly one cluster "
               "and keeps its own row and evidence in events.",
        "columns": {
            "event_id": "the event (events.event_id, primary key)",
            "cluster_id": "its cluster (event_clusters.cluster_id)",
            "article_id": "the event's article (articles.article_id)",
            "mention_rank": "1 for the earliest mention, then in date, publication and id order",
            "block_type": "clustering input: the event's type",
            "block_actor": "clustering input: the event's actor ('' for none)",
            "block_target": "clustering input: the event's target ('' for none)",
            "block_place": "clustering input: lower(trim(location)) ('' for none)",
            "span_start": "clustering input: first day the event may have happened on "
                          "(days since 1970-01-01; undated: its article's day)",
            "seen_day": "clustering input: its article's publication (else fetch) day, "
                        "days since 1970-01-01",
            "span_end": "clustering input: last day of the event's date span (days since "
                        "1970-01-01)",
            "quantity_low": "clustering input: lowest value the reported quantity allows",
            "quantity_high": "clustering input: highest value the reported quantity allows",
            "unit": "clustering input: the event's unit",
        },
    },
    "reextract_log": {
        "doc": "One row per article whose events a `muster reextract` run replaced or "
               "re-stamped: which extractor version produced what, and when.",
        "columns": {
            "run_id": "the reextract run (runs.run_id)",
            "article_id": "the article (articles.article_id)",
            "old_version": "extractor_version of the article before",
            "new_version": "extractor_version (RuleSet.version) that produced the events now stored",
            "types": "event types re-extracted (NULL: all)",
            "outcome": "replaced (the events changed) or restamped (same events, new version)",
            "events_before": "events of those types before",
            "events_after": "events of those types after",
            "events_added": "event ids that are new",
            "events_removed": "event ids that are gone",
            "logged_at": "when (UTC)",
        },
    },
    "daily_counts": {
        "doc": "View: events per day, type and actor. The day is the article's publication "
               "day (fetch day if unknown), because event dates are often missing or coarse.",
        "columns": {
            "day": "article publication date (or fetch date)",
            "type": "event type", "actor": "actor state (NULL grouped together)",
            "n": "number of events",
        },
    },
    "clusters_with_sources": {
        "doc": "View: event_clusters with their sources, one list entry per mention in "
               "mention_rank order.",
        "columns": {
            **{c: "see event_clusters" for c in (
                "cluster_id", "type", "actor", "target", "location", "location_country",
                "quantity", "quantity_min", "quantity_max", "unit", "date_start", "date_end",
                "first_seen", "last_seen", "mention_count", "article_count", "source_count",
                "feeds", "statuses", "first_event_id")},
            "sources": "list of {event_id, url, title, published, feed, status, quantity, date, "
                       "sentence}, one per mention",
        },
    },
    "events_with_clusters": {
        "doc": "View: events_with_articles plus each event's cluster.",
        "columns": {
            "event_id": "see events", "article_id": "see events", **EVENT_FIELD_DOCS,
            "extractor_version": "see events", "extracted_at": "see events",
            "url": "article URL", "canonical_url": "article canonical URL",
            "title": "article headline", "published": "article publication date",
            "feed": "article feed",
            "cluster_id": "the event's cluster (event_clusters.cluster_id)",
            "mention_rank": "its rank among the cluster's mentions (1 = first)",
            "cluster_mentions": "the cluster's mention_count",
        },
    },
}
