"""Per-URL fetch state and the feed configuration, for polite and cheap re-runs.

Why a table per URL: a feed's ETag lives in ``feeds``, but pages need the same memory so
that a page we saw before costs a ``304 Not Modified`` instead of a full download. It also
remembers what the last fetch came to (``reason``: dropped as duplicate, robots, ...) and,
for feeds configured as a site's HTML page, which feed was discovered on it.

Functions take a :class:`warehouse.Warehouse` (open per call, like its own methods), so
this module adds to the warehouse without touching ``store.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from warehouse.records import to_utc_naive, utcnow
from warehouse.store import Warehouse, insert_rows

__all__ = [
    "UrlState",
    "discovered_feeds",
    "get_url_states",
    "hash_owners",
    "save_feed_configs",
    "save_url_states",
    "stale_urls",
]

URL_STATE_COLUMNS: dict[str, str] = {
    "url": "VARCHAR", "feed": "VARCHAR", "etag": "VARCHAR", "last_modified": "VARCHAR",
    "status_code": "INTEGER", "reason": "VARCHAR", "content_hash": "VARCHAR",
    "discovered_feed": "VARCHAR", "fetched_at": "TIMESTAMP", "checked_at": "TIMESTAMP",
}


class UrlState(BaseModel):
    """A ``url_state`` row. ``not_modified=True`` only refreshes ``checked_at``/status."""

    url: str
    feed: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    status_code: int | None = None
    reason: str | None = None
    content_hash: str | None = None
    discovered_feed: str | None = None
    fetched_at: datetime | None = None
    checked_at: datetime = Field(default_factory=utcnow)
    not_modified: bool = False

    @property
    def validators(self) -> dict[str, str | None] | None:
        """What the next conditional GET should send, or None if there is nothing."""
        if not (self.etag or self.last_modified):
            return None
        return {"etag": self.etag, "last_modified": self.last_modified}


def _unique(values: Iterable[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


def get_url_states(wh: Warehouse, urls: Iterable[str]) -> dict[str, UrlState]:
    """Stored state of the given URLs (missing ones are absent)."""
    ids = _unique(urls)
    if not ids:
        return {}
    cols = [c for c in URL_STATE_COLUMNS]
    with wh._connection() as con:
        rows = con.execute(
            f"SELECT {', '.join(cols)} FROM url_state WHERE url IN (SELECT unnest($ids::VARCHAR[]))",
            {"ids": ids},
        ).fetchall()
    return {row[0]: UrlState(**dict(zip(cols, row, strict=True))) for row in rows}


def save_url_states(wh: Warehouse, states: Sequence[UrlState]) -> int:
    """Upsert states in one transaction. A 304 keeps the stored body facts (hash, reason).

    A None etag/last_modified keeps the stored one, since a 304 often omits them.
    """
    latest: dict[str, UrlState] = {s.url: s for s in states}
    if not latest:
        return 0
    rows: list[tuple[Any, ...]] = [
        (s.url, s.feed, s.etag, s.last_modified, s.status_code, s.reason, s.content_hash,
         s.discovered_feed, to_utc_naive(s.fetched_at), to_utc_naive(s.checked_at))
        for s in latest.values()
    ]
    keep_on_304 = {s.url for s in latest.values() if s.not_modified}
    with wh._transaction(f"Saving the fetch state of {len(rows)} URLs") as con:
        con.execute("CREATE TEMP TABLE IF NOT EXISTS _url_state_in AS "
                    "SELECT * FROM url_state LIMIT 0")
        con.execute("DELETE FROM _url_state_in")
        insert_rows(con, "_url_state_in", URL_STATE_COLUMNS, rows)
        con.execute(
            "INSERT INTO url_state SELECT * FROM _url_state_in WHERE true "
            "ON CONFLICT (url) DO UPDATE SET "
            "feed = coalesce(excluded.feed, url_state.feed), "
            "etag = coalesce(excluded.etag, url_state.etag), "
            "last_modified = coalesce(excluded.last_modified, url_state.last_modified), "
            "status_code = excluded.status_code, "
            "reason = CASE WHEN list_contains($keep, excluded.url) THEN url_state.reason "
            "ELSE excluded.reason END, "
            "content_hash = coalesce(excluded.content_hash, url_state.content_hash), "
            "discovered_feed = coalesce(excluded.discovered_feed, url_state.discovered_feed), "
            "fetched_at = coalesce(excluded.fetched_at, url_state.fetched_at), "
            "checked_at = excluded.checked_at",
            {"keep": sorted(keep_on_304) or [""]},
        )
        con.execute("DELETE FROM _url_state_in")
    return len(rows)


def stale_urls(wh: Warehouse, urls: Iterable[str], older_than_seconds: float) -> set[str]:
    """URLs not requested for ``older_than_seconds`` (or never recorded): due for a refetch."""
    ids = _unique(urls)
    if not ids:
        return set()
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with wh._connection() as con:
        fresh = {
            row[0] for row in con.execute(
                "SELECT url FROM url_state WHERE url IN (SELECT unnest($ids::VARCHAR[])) "
                "AND checked_at >= $cutoff", {"ids": ids, "cutoff": cutoff}).fetchall()
        }
    return set(ids) - fresh


def hash_owners(wh: Warehouse, hashes: Iterable[str]) -> dict[str, str]:
    """content_hash -> canonical_url of a stored article with that text (first by id)."""
    ids = _unique(hashes)
    if not ids:
        return {}
    with wh._connection() as con:
        rows = con.execute(
            "SELECT content_hash, min(canonical_url) FROM articles "
            "WHERE content_hash IN (SELECT unnest($ids::VARCHAR[])) GROUP BY content_hash",
            {"ids": ids}).fetchall()
    return {row[0]: row[1] for row in rows}


def discovered_feeds(wh: Warehouse, page_urls: Iterable[str]) -> dict[str, str]:
    """For feeds configured as an HTML page: page URL -> the feed URL found on it last time."""
    return {u: s.discovered_feed for u, s in get_url_states(wh, page_urls).items()
            if s.discovered_feed}


def save_feed_configs(wh: Warehouse, feeds: Sequence[dict[str, Any]]) -> int:
    """Record the feeds file as used by this run (one row per feed name, replaced)."""
    if not feeds:
        return 0
    now = utcnow()
    rows = [(f["name"], f["url"], f.get("kind", "auto"), bool(f.get("enabled", True)),
             list(f.get("tags") or []), f.get("language"), f.get("poll_interval"),
             list(f.get("include") or []), list(f.get("exclude") or []), now) for f in feeds]
    columns = {"name": "VARCHAR", "url": "VARCHAR", "kind": "VARCHAR", "enabled": "BOOLEAN",
               "tags": "VARCHAR[]", "language": "VARCHAR", "poll_interval": "INTEGER",
               "include": "VARCHAR[]", "exclude": "VARCHAR[]", "updated_at": "TIMESTAMP"}
    with wh._transaction(f"Saving the configuration of {len(rows)} feeds") as con:
        insert_rows(con, "feed_config", columns, rows, verb="INSERT OR REPLACE")
    return len(rows)
