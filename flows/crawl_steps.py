"""Ingest-side pipeline steps: poll intervals, discovery hints, polite page fetching,
per-URL conditional requests and content de-duplication.

Kept out of ``flows/pipeline.py`` (which only calls these) so the wiring there stays a
readable list of steps. Warehouse lookups here degrade instead of failing when the file
is locked by a reader: a fetch without validators costs bandwidth, not correctness.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ingest.crawl import PageRequest
from ingest.feeds import FeedConfig, is_local
from ingest.fetch import FetchResult
from ingest.poll import FeedItem, FeedPoll
from warehouse import ArticleRecord, FeedState, Warehouse, WarehouseLockedError
from warehouse.url_state import (
    UrlState,
    discovered_feeds,
    get_url_states,
    hash_owners,
    save_feed_configs,
    save_url_states,
    stale_urls,
)

from flows import sinks
from flows.extract_scope import extraction_skip_reason

if TYPE_CHECKING:
    from flows.pipeline import RunReport
    from flows.settings import MusterSettings

__all__ = [
    "discovery_hints",
    "drop_duplicate_content",
    "extraction_skip_reason",
    "page_outcome",
    "page_requests",
    "save_feed_meta",
    "save_page_states",
    "select_tagged",
    "split_due",
    "stale_urls",
]

# Not fetched (or not extracted) on purpose (a rule said no), as opposed to failed.
SKIP_REASONS = frozenset({"robots_disallowed", "blocked_url", "duplicate_content", "not_english"})

def page_outcome(result: FetchResult, reason: str | None) -> str:
    """fetch_log ``outcome`` of a page: ok, not_modified, skipped (a rule said no) or error."""
    if reason in SKIP_REASONS:
        return "skipped"
    if reason:
        return "error"
    return "not_modified" if result.not_modified else "ok"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def select_tagged(
    feeds: Sequence[FeedConfig], tags: Sequence[str], source: object
) -> list[FeedConfig]:
    """The feeds carrying any of ``tags`` (``muster run --tag``).

    A tag no feed in the file carries is an error listing the known ones (a typo must not
    silently poll nothing); so is a selection with no enabled feed left.
    """
    known = sorted({t for f in feeds for t in f.tags})
    unknown = [t for t in tags if t not in known]
    if unknown:
        raise ValueError(f"unknown tag(s) {', '.join(unknown)} in {source}; "
                         f"known: {', '.join(known) or '(no feed has tags)'}")
    wanted = set(tags)
    chosen = [f for f in feeds if wanted & set(f.tags)]
    if not any(f.enabled for f in chosen):
        raise ValueError(f"no enabled feed in {source} has tag(s) {', '.join(tags)}")
    return chosen


def split_due(
    feeds: Sequence[FeedConfig], states: Mapping[str, FeedState | None]
) -> tuple[list[FeedConfig], list[FeedPoll]]:
    """(feeds to poll now, polls marking the others skipped with reason ``poll_interval``).

    A feed is skipped when it was polled successfully less than ``poll_interval`` seconds
    ago (``feeds.last_polled``); a changed URL or a failed last poll never blocks a poll.
    """
    now = _utcnow()
    due: list[FeedConfig] = []
    skipped: list[FeedPoll] = []
    for feed in feeds:
        state = states.get(feed.name)
        if feed.poll_interval and state is not None and state.last_polled is not None \
                and state.url == feed.url:
            age = (now - state.last_polled).total_seconds()
            if age < feed.poll_interval:
                skipped.append(FeedPoll(
                    feed=feed.name, skipped="poll_interval",
                    detail=f"polled {int(age)}s ago; poll_interval is {feed.poll_interval}s"))
                continue
        due.append(feed)
    return due, skipped


def discovery_hints(wh: Warehouse, feeds: Sequence[FeedConfig]) -> dict[str, str]:
    """Feed name -> the feed URL found last time on its HTML page (polled directly)."""
    pages = {f.url: f.name for f in feeds if not is_local(f.url) and f.kind in ("auto", "discover")}
    return {pages[url]: found for url, found in discovered_feeds(wh, pages).items()}


def save_feed_meta(wh: Warehouse, feeds: Sequence[FeedConfig], polls: Sequence[FeedPoll]) -> None:
    """Store the feeds' configuration (tags, language, filters) and discovered feed URLs."""
    save_feed_configs(wh, [f.model_dump() for f in feeds])
    urls = {f.name: f.url for f in feeds}
    found = [UrlState(url=urls[p.feed], feed=p.feed, discovered_feed=p.discovered_url)
             for p in polls if p.discovered_url and p.feed in urls]
    if found:
        save_url_states(wh, found)


def page_requests(settings: MusterSettings, items: Sequence[FeedItem]) -> list[PageRequest]:
    """The batch's page requests, with the validators stored for each URL (conditional GET)."""
    states: dict[str, UrlState] = {}
    urls = [i.url for i in items]
    try:
        held = sinks.held_warehouse(settings)  # the run's batch loop holds the file
        if held is not None:
            states = get_url_states(held, urls)
        else:
            with Warehouse(settings.db_path) as wh:
                states = get_url_states(wh, urls)
    except WarehouseLockedError:
        pass  # unconditional fetches: slower, still correct
    return [
        PageRequest(i.url, origin=i.origin,
                    validators=states[i.url].validators if i.url in states else None)
        for i in items
    ]


def drop_duplicate_content(
    settings: MusterSettings, records: Sequence[ArticleRecord], report: RunReport
) -> list[ArticleRecord]:
    """Drop records whose text is already stored (or earlier in the batch) at another URL.

    Same ``content_hash`` under a different canonical URL means the same article reached
    us twice (syndication, print/AMP variants without ``rel=canonical``): the first one is
    kept, the others become ``duplicate_content`` failures naming the original.
    """
    from flows.pipeline import Failure

    owners: dict[str, str] = {}
    hashes = [r.content_hash or "" for r in records]
    try:
        held = sinks.held_warehouse(settings)  # reopening it may find the file locked
        if held is not None:
            owners = hash_owners(held, hashes)
        else:
            with Warehouse(settings.db_path) as wh:
                owners = hash_owners(wh, hashes)
    except WarehouseLockedError:
        pass  # duplicates within the batch are still caught
    kept: list[ArticleRecord] = []
    for record in records:
        owner = owners.get(record.content_hash or "")
        if owner is not None and owner != record.canonical_url:
            report.failures.append(Failure("clean", record.url, record.feed or "",
                                           "duplicate_content", f"same text as {owner}"))
            continue
        owners.setdefault(record.content_hash or "", record.canonical_url or record.url)
        kept.append(record)
    return kept


def save_page_states(
    wh: Warehouse,
    items: Sequence[FeedItem],
    results: Sequence[FetchResult],
    records: Sequence[ArticleRecord],
    report: RunReport,
) -> None:
    """Remember validators and outcome of every HTTP page request of the batch."""
    reasons = {f.url: f.reason for f in report.failures if f.stage in ("page", "clean")}
    hashes = {r.url: r.content_hash for r in records}
    now = _utcnow()
    states = [
        UrlState(
            url=item.url, feed=item.feed, etag=result.etag, last_modified=result.last_modified,
            status_code=result.status, reason=reasons.get(item.url),
            content_hash=hashes.get(item.url), not_modified=result.not_modified,
            fetched_at=now if result.body is not None else None, checked_at=now,
        )
        for item, result in zip(items, results, strict=True)
        if result.status is not None and not item.url.startswith("file:")
    ]
    save_url_states(wh, states)
