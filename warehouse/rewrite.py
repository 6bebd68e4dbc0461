"""Replacing the events of stored articles (re-extraction), atomically and with an audit trail.

Used through `Warehouse.articles_to_reextract` / `Warehouse.replace_events`.
Why it works this way:
- Articles are read in pages by article_id (keyset), so the reader holds
  the file only for a moment and the text of the whole corpus is never in memory.
- Extraction happens outside any transaction (it is CPU work); the write is
  *optimistic*: an article whose content_hash changed since it was read (a
  pipeline run replaced it meanwhile) is skipped as ``stale``, never clobbered.
- One transaction per page: each article's events are replaced as a unit,
  its clusters refreshed, and a `reextract_log` row says which version
  produced what.  Events that come out identical are only re-stamped with the
  new version, so their extracted_at (and their clusters) stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from extractors.model import Event
from warehouse.cluster_refresh import refresh_clusters, removed_events
from warehouse.records import LoadCounts, utcnow


@dataclass(frozen=True)
class StoredArticle:
    """What re-extraction needs of a stored article."""

    article_id: str
    url: str
    title: str | None
    published: date | None
    text: str
    content_hash: str
    extractor_version: str
    language: str | None = None  # re-extraction skips languages the rules are not written for


@dataclass(frozen=True)
class EventReplacement:
    """New events for one article, valid only if its text is still `content_hash`."""

    article_id: str
    content_hash: str
    events: list[Event]


@dataclass
class ReplaceCounts:
    """What `replace_events` did, per article outcome and per event."""

    replaced: int = 0
    restamped: int = 0
    stale: int = 0
    unchanged: int = 0
    events_added: int = 0
    events_removed: int = 0
    warnings: list[str] = field(default_factory=list)


_SCOPE = ("coalesce(published, CAST(fetched_at AS DATE)) >= coalesce($since::DATE, DATE '0001-01-01')")


def count_current(con: duckdb.DuckDBPyConnection, version: str, since: date | None) -> int:
    """Articles in scope already produced by `version` (re-extraction skips them)."""
    row = con.execute(f"SELECT count(*) FROM articles WHERE extractor_version = $v AND {_SCOPE}",
                      {"v": version, "since": since}).fetchone()
    return int(row[0]) if row else 0


def count_pending(con: duckdb.DuckDBPyConnection, version: str, since: date | None) -> int:
    """Articles in scope not yet produced by `version` (what a re-extraction will visit)."""
    row = con.execute(f"SELECT count(*) FROM articles WHERE extractor_version <> $v AND {_SCOPE}",
                      {"v": version, "since": since}).fetchone()
    return int(row[0]) if row else 0


def page_to_reextract(con: duckdb.DuckDBPyConnection, version: str, since: date | None,
                      after: str | None, limit: int) -> list[StoredArticle]:
    """The next `limit` articles (by article_id, after `after`) not produced by `version`."""
    rows = con.execute(
        "SELECT article_id, url, title, published, text, content_hash, extractor_version, language "
        f"FROM articles WHERE extractor_version <> $v AND {_SCOPE} "
        "AND article_id > coalesce($after, '') ORDER BY article_id LIMIT $limit",
        {"v": version, "since": since, "after": after, "limit": limit}).fetchall()
    return [StoredArticle(*r) for r in rows]


def replace_events(con: duckdb.DuckDBPyConnection, updates: Sequence[EventReplacement],
                   version: str, run_id: str, types: Sequence[str] | None,
                   insert: Any, event_rows: Any, event_columns: Sequence[str]) -> ReplaceCounts:
    """Inside an open transaction: replace (or re-stamp) the events of each article.

    `types` limits the replacement to those event types (the article keeps its
    extractor_version, since its other events are still the old version's).
    `insert`/`event_rows` are the store's own helpers, passed in to keep one
    definition of how event rows are built and written.
    """
    counts = ReplaceCounts()
    ids = [u.article_id for u in updates]
    stored = dict(con.execute(
        "SELECT article_id, [content_hash, extractor_version] FROM articles "
        "WHERE article_id IN (SELECT unnest($ids::VARCHAR[]))", {"ids": ids}).fetchall())
    type_filter = " AND type IN (SELECT unnest($types::VARCHAR[]))" if types else ""
    type_params: dict[str, Any] = {"types": list(types)} if types else {}
    content = list(event_columns)[:-2]  # everything but extractor_version, extracted_at
    old_rows: dict[str, dict[str, tuple[Any, ...]]] = {}
    old_versions: dict[str, set[str]] = {}
    for *row, old_version in con.execute(
            f"SELECT {', '.join(content)}, extractor_version FROM events "
            f"WHERE article_id IN (SELECT unnest($ids::VARCHAR[])){type_filter}",
            {"ids": ids, **type_params}).fetchall():
        old_rows.setdefault(row[1], {})[row[0]] = tuple(row)
        old_versions.setdefault(row[1], set()).add(old_version)
    now = utcnow()
    changed: list[str] = []
    restamped: list[str] = []
    new_rows: list[tuple[Any, ...]] = []
    log: list[tuple[Any, ...]] = []
    load_counts = LoadCounts()
    for u in updates:
        have = stored.get(u.article_id)
        if have is None or have[0] != u.content_hash:
            counts.stale += 1
            continue
        events = [e for e in u.events if not types or e.type in types]
        rows = event_rows(u.article_id, u.article_id, events, version, now, load_counts)
        new = {r[0]: tuple(r[:-2]) for r in rows}
        old = old_rows.get(u.article_id, {})
        added, removed = len(new.keys() - old.keys()), len(old.keys() - new.keys())
        if new == old and types and old_versions.get(u.article_id, {version}) == {version}:
            counts.unchanged += 1  # a --type re-run: nothing to do, nothing to log
            continue
        if new == old:
            restamped.append(u.article_id)
            counts.restamped += 1
            outcome = "restamped"
        else:
            changed.append(u.article_id)
            new_rows.extend(rows)
            counts.replaced += 1
            counts.events_added += added
            counts.events_removed += removed
            outcome = "replaced"
        log.append((run_id, u.article_id, have[1], version, list(types) if types else None,
                    outcome, len(old), len(new), added, removed, now))
    counts.warnings.extend(load_counts.warnings)
    removed = removed_events(con, changed, types) if changed else None
    if changed:
        con.execute("DELETE FROM events WHERE article_id IN (SELECT unnest($ids::VARCHAR[]))"
                    + type_filter, {"ids": changed, **type_params})
        insert(con, new_rows)
    if restamped:
        con.execute("UPDATE events SET extractor_version = $v "
                    "WHERE article_id IN (SELECT unnest($ids::VARCHAR[]))" + type_filter,
                    {"v": version, "ids": restamped, **type_params})
    if not types and (changed or restamped):
        con.execute("UPDATE articles SET extractor_version = $v, loaded_at = $now "
                    "WHERE article_id IN (SELECT unnest($ids::VARCHAR[]))",
                    {"v": version, "now": now, "ids": changed + restamped})
    refresh_clusters(con, changed, removed, types)
    if log:
        con.execute(
            "INSERT INTO reextract_log SELECT * FROM (SELECT unnest($r::VARCHAR[]), "
            "unnest($a::VARCHAR[]), unnest($o::VARCHAR[]), unnest($n::VARCHAR[]), "
            "unnest($t::VARCHAR[][]), unnest($oc::VARCHAR[]), unnest($eb::INTEGER[]), "
            "unnest($ea::INTEGER[]), unnest($ad::INTEGER[]), unnest($rm::INTEGER[]), "
            "unnest($at::TIMESTAMP[]))",
            dict(zip(("r", "a", "o", "n", "t", "oc", "eb", "ea", "ad", "rm", "at"),
                     (list(c) for c in zip(*log, strict=True)), strict=True)))
    return counts
