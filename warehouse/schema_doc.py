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
    "daily_counts": {
        "doc": "View: events per day, type and actor. The day is the article's publication "
               "day (fetch day if unknown), because event dates are often missing or coarse.",
        "columns": {
            "day": "article publication date (or fetch date)",
            "type": "event type", "actor": "actor state (NULL grouped together)",
            "n": "number of events",
        },
    },
}
