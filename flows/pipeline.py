"""The pipeline's steps as plain functions: poll, plan, fetch+clean+extract, load.

Prefect flows (``flows/prefect_flows.py``) only call these, so tests can run
every step without Prefect and the flow stays a thin, readable wiring diagram.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable, Sequence

import httpx
from extractors import RuleSet
from ingest.crawl import PageRequest
from ingest.feeds import FeedConfig, load_feeds
from ingest.fetch import FetchLimits, FetchResult, is_transient, make_client
from ingest.poll import FeedItem, FeedPoll, feed_robots, poll_feed
from ingest.robots import RobotsCache
from ingest.urls import canonicalize
from warehouse import ArticleRecord, FetchLogRow, LoadCounts, Warehouse, WarehouseLockedError
from warehouse import spool

from flows import crawl_steps, parallel, sinks
from flows.parallel import FetchedBatch, PageOutcome
from flows.progress import NullProgress, current
from flows.run_report import (  # re-exported: callers import them from here
    Failure,
    RunReport,
    data_changed,
    publish_snapshot_if_changed,
)
from flows.settings import MusterSettings


def resolve_feeds(
    settings: MusterSettings, names: Sequence[str] | None = None, tags: Sequence[str] | None = None
) -> list[FeedConfig]:
    """The enabled feeds to poll, with local folders resolved against the feeds file.

    Unknown names are an error that lists the known ones, so a typo in the UI
    form or on the command line does not silently poll nothing.  ``tags`` keeps the
    feeds carrying any of them (unknown tags are an error the same way).
    """
    resolved = load_feeds(settings.feeds_path)
    if tags:
        resolved = crawl_steps.select_tagged(resolved, tags, settings.feeds_path)
    if names:
        known = {f.name: f for f in resolved}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(
                f"unknown feed name(s) {', '.join(unknown)} in {settings.feeds_path}"
                + (f" with tag(s) {', '.join(tags)}" if tags else "")
                + f"; known: {', '.join(sorted(known))}"
            )
        return [known[n] for n in names]
    return [f for f in resolved if f.enabled]


def fetch_limits(settings: MusterSettings) -> FetchLimits:
    """The fetch section of the settings (ingest's own validated limits object)."""
    return settings.fetch


async def _poll_all(
    feeds: Sequence[FeedConfig],
    limits: FetchLimits,
    validators: dict[str, dict],
    progress: NullProgress | None = None,
    hints: dict[str, str] | None = None,
) -> list[FeedPoll]:
    p = progress or NullProgress()

    async def one(client: httpx.AsyncClient, f: FeedConfig, robots: RobotsCache | None) -> FeedPoll:
        poll = await poll_feed(
            client, f, validators=validators.get(f.name), limits=limits,
            discovered=(hints or {}).get(f.name), robots=robots,
        )
        p.advance("poll")
        return poll

    async with make_client(limits) as client:
        robots = feed_robots(client, limits)  # robots.txt obeyed for feeds too, once per host
        return list(await asyncio.gather(*(one(client, f, robots) for f in feeds)))


def poll_feeds(
    settings: MusterSettings, feeds: Sequence[FeedConfig], progress: NullProgress | None = None
) -> list[FeedPoll]:
    """Poll every feed concurrently, with the validators remembered from last time."""
    p = progress or current()
    p.total("poll", len(feeds))
    with Warehouse(settings.db_path) as wh:
        states = {f.name: wh.get_feed_state(f.name) for f in feeds}
        hints = crawl_steps.discovery_hints(wh, feeds)
    validators = {
        name: {"etag": s.etag, "last_modified": s.last_modified}
        for name, s in states.items()
        if s is not None and s.url == _url_of(feeds, name) and s.last_status != "retry"
    }
    due, skipped = crawl_steps.split_due(feeds, states)  # poll_interval not over yet
    p.advance("poll", len(skipped))
    with p.timing("poll"):
        return skipped + asyncio.run(_poll_all(due, fetch_limits(settings), validators, p, hints))


def _url_of(feeds: Sequence[FeedConfig], name: str) -> str:
    return next(f.url for f in feeds if f.name == name)


def record_polls(
    settings: MusterSettings, feeds: Sequence[FeedConfig], polls: Sequence[FeedPoll], report: RunReport
) -> None:
    """Store each feed's new validators and log its outcome; count feed failures."""
    urls = {f.name: f.url for f in feeds}
    rows: list[FetchLogRow] = []
    for poll in polls:
        if poll.skipped:  # not due (poll_interval): logged, not polled, state untouched
            report.feeds_skipped += 1
            rows.append(FetchLogRow(run_id=report.run_id, url=urls[poll.feed], feed=poll.feed,
                                    stage="feed", outcome="skipped", reason=poll.skipped,
                                    detail=poll.detail))
            continue
        report.feeds_polled += 1
        report.items_filtered += poll.filtered
        if poll.not_modified:
            report.feeds_not_modified += 1
        if poll.error:
            report.failures.append(
                Failure("feed", urls[poll.feed], poll.feed, poll.error, poll.detail or "")
            )
        rows.append(
            FetchLogRow(
                run_id=report.run_id,
                url=urls[poll.feed],
                feed=poll.feed,
                stage="feed",
                status_code=None,
                outcome=("skipped" if poll.error in crawl_steps.SKIP_REASONS else "error")
                if poll.error else ("not_modified" if poll.not_modified else "ok"),
                reason=poll.error,
                detail=poll.detail,
                elapsed_ms=None,
            )
        )
    if report.dry_run:
        return
    with Warehouse(settings.db_path) as wh:
        crawl_steps.save_feed_meta(wh, feeds, polls)
        wh.log_fetches(rows)


def save_feed_states(
    settings: MusterSettings, feeds: Sequence[FeedConfig], polls: Sequence[FeedPoll], report: RunReport
) -> None:
    """Remember each feed's validators (ETag, Last-Modified), only once its items are loaded.

    Saved at poll time, a run killed or failed mid-way would leave validators for items
    that never reached the warehouse: the next run's conditional GET gets a 304 and those
    items are lost for good (tests/test_reliability_kill.py). A feed with an item that
    failed transiently (timeout, 5xx, reset...) is saved as "retry", so the next run reads
    it unconditionally and fetches the item again (tests/test_reliability_network.py).
    """
    if report.dry_run:
        return
    urls = {f.name: f.url for f in feeds}
    retry = {f.feed for f in report.failures if f.stage != "feed" and is_transient(f.reason)}
    with Warehouse(settings.db_path) as wh:
        for poll in polls:
            if not poll.error and not poll.skipped:
                status = "retry" if poll.feed in retry else "ok"
                wh.save_feed_state(poll.feed, urls[poll.feed], poll.etag, poll.last_modified, status)


def polled_items(polls: Iterable[FeedPoll], max_per_feed: int | None) -> dict[str, FeedItem]:
    """The polls' items by canonical URL, the first feed's item kept for a URL in several."""
    unique: dict[str, FeedItem] = {}
    for poll in polls:
        for item in poll.items[: max_per_feed or None]:
            unique.setdefault(canonicalize(item.url), item)
    return unique


def stored_urls(settings: MusterSettings, wh: Warehouse, urls: Iterable[str]) -> set[str]:
    """The URLs among ``urls`` already stored and not due for a (conditional) refetch."""
    seen = wh.seen_urls(list(urls))
    if settings.refetch_after is not None:
        seen -= crawl_steps.stale_urls(wh, seen, settings.refetch_after)
    return seen


def plan_items(
    settings: MusterSettings,
    polls: Iterable[FeedPoll],
    max_per_feed: int | None,
    report: RunReport,
    progress: NullProgress | None = None,
) -> list[FeedItem]:
    """New items only: de-duplicated across feeds and skipping URLs already stored."""
    unique = polled_items(polls, max_per_feed)
    with sinks.warehouse_for(settings) as wh:  # seen URLs and spool: the sink's too
        if not report.dry_run:  # load batches a locked file kept back last time, first
            drained = spool.drain(wh, settings.db_path)
            report.articles_new += drained.articles_new
            report.events_written += drained.events_written
        seen = stored_urls(settings, wh, unique)
    report.articles_seen_before += len(seen)
    planned = [item for url, item in unique.items() if url not in seen]
    p = progress or current()
    for stage in ("fetch", "clean", "extract", "load"):
        p.total(stage, len(planned))
    return planned


def build_records(
    items: Sequence[FeedItem],
    results: Sequence[FetchResult],
    outcomes: Sequence[PageOutcome | None],
    extractor_version: str,
    fetched_at: dt.datetime,
    report: RunReport,
) -> list[ArticleRecord]:
    """Turn each cleaned page into a record; failures become values in the report.

    Cleaning and extraction already happened, in item order (:mod:`flows.parallel`):
    ``outcomes[i]`` is None where page ``i`` was not cleaned (a 304, a fetch error).
    """
    records: list[ArticleRecord] = []
    for item, result, outcome in zip(items, results, outcomes, strict=True):
        if result.not_modified:  # 304: unchanged since we last saw it; nothing to redo
            report.pages_not_modified += 1
            continue
        if result.error or result.body is None or outcome is None:
            report.failures.append(
                Failure("page", item.url, item.feed, result.error or "empty", result.detail or "")
            )
            continue
        if outcome.article is None:
            report.failures.append(Failure("clean", item.url, item.feed,
                                           outcome.error or "no_text", outcome.detail or ""))
            continue
        art = outcome.article
        published = art.published or (item.published.date() if item.published else None)
        language = art.language or item.language
        if skip := crawl_steps.extraction_skip_reason(language):  # stored, but no events
            report.failures.append(Failure("clean", item.url, item.feed, skip,
                                           f"language {language}"))
        records.append(
            ArticleRecord(
                url=item.url,
                canonical_url=art.canonical_url or canonicalize(item.url),
                feed=item.feed,
                title=art.title or item.title,
                author=art.author,
                published=published,
                fetched_at=fetched_at,
                language=language,
                text=art.text,
                content_hash=art.content_hash,
                extractor_version=extractor_version,
                events=[] if skip else outcome.events,
            )
        )
    return records


def process_batch(
    settings: MusterSettings,
    items: Sequence[FeedItem],
    ruleset: RuleSet,
    run_id: str,
    dry_run: bool,
    progress: NullProgress | None = None,
) -> RunReport:
    """Fetch, clean, extract and load one batch in a single warehouse transaction.

    The next batch is fetched only after this one is loaded, so a run killed mid-load
    has fetched nothing beyond it (tests/test_reliability_kill.py).
    """
    p = progress or current()
    fetched = fetch_batch(settings, items, ruleset, progress=p)
    return load_batch(settings, items, fetched, ruleset.version, run_id, dry_run, p)


def fetch_batch(
    settings: MusterSettings,
    items: Sequence[FeedItem],
    ruleset: RuleSet,
    requests: Sequence[PageRequest] | None = None,
    workers: int | None = None,
    progress: NullProgress | None = None,
    on_fetched: Callable[[], None] | None = None,
) -> FetchedBatch:
    """Fetch a batch; pages are cleaned and extracted on every core as they arrive.

    Writes nothing, so it can run anywhere (a Dask worker gets ``requests``, the pages
    with their stored validators, from the flow and ``workers=0``). ``on_fetched``: as in
    ``parallel.fetch_and_clean``."""
    if requests is None:
        requests = crawl_steps.page_requests(settings, items)
    return parallel.fetch_and_clean(
        requests, items, settings.fetch, ruleset,
        settings.workers if workers is None else workers, progress or current(), on_fetched,
    )


def load_batch(
    settings: MusterSettings,
    items: Sequence[FeedItem],
    fetched: FetchedBatch,
    extractor_version: str,
    run_id: str,
    dry_run: bool,
    progress: NullProgress | None = None,
) -> RunReport:
    """Build the batch's records and load them in one warehouse transaction (this process)."""
    p = progress or current()
    report = RunReport(run_id=run_id, db_path=str(settings.db_path), dry_run=dry_run)
    report.host_delays.update(fetched.host_delays)
    results = fetched.results
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    records = build_records(items, results, fetched.outcomes, extractor_version, now, report)
    records = crawl_steps.drop_duplicate_content(settings, records, report)
    for record in records:
        report.events_by_type.update(e.type for e in record.events)
    if dry_run:
        report.articles_new += len(records)
        p.advance("load", len(items))
        return report
    page_log = _page_log(run_id, items, results, report)
    try:
        with p.timing("load"), sinks.batch_warehouse(settings) as wh:
            drained = spool.drain(wh, settings.db_path)  # batches an earlier lock kept back
            counts: LoadCounts = wh.load_articles(records)
            wh.log_fetches(page_log)
            crawl_steps.save_page_states(wh, items, results, records, report)
    except WarehouseLockedError as exc:
        # A reader held the live file too long: keep the batch, the next batch/run loads it.
        kept = spool.spool_batch(settings.db_path, records, page_log)
        report.failures.extend(Failure("load", r.url, r.feed or "", "db_locked_spooled",
                                       f"kept in {kept}: {exc}") for r in records)
        p.advance("load", len(items))
        return report
    p.advance("load", len(items))
    report.articles_new += drained.articles_new
    report.articles_updated += drained.articles_updated
    report.events_written += drained.events_written
    report.articles_new += counts.articles_new
    report.articles_updated += counts.articles_updated
    report.articles_unchanged += counts.articles_unchanged
    report.events_written += counts.events_written
    return report


def _page_log(
    run_id: str, items: Sequence[FeedItem], results: Sequence[FetchResult], report: RunReport
) -> list[FetchLogRow]:
    """One fetch-log row per page, with the clean-stage reason where cleaning failed."""
    clean_failures = {f.url: f for f in report.failures if f.stage == "clean"}
    rows = []
    for item, result in zip(items, results, strict=True):
        failure = clean_failures.get(item.url)
        reason = result.error or (failure.reason if failure else None)
        rows.append(
            FetchLogRow(
                run_id=run_id,
                url=item.url,
                feed=item.feed,
                stage="clean" if failure else "page",
                status_code=result.status,
                outcome=crawl_steps.page_outcome(result, reason),
                reason=reason,
                detail=result.detail or (failure.detail if failure else None),
                elapsed_ms=result.elapsed_ms,
            )
        )
    return rows


def batches(items: Sequence[FeedItem], size: int) -> list[list[FeedItem]]:
    """Split the plan into bounded batches so memory stays flat and loads stay small."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def published_since(polls: Sequence[FeedPoll], since: dt.date | None) -> list[FeedPoll]:
    """Drop feed items published before ``since``; items without a date are kept.

    Why keep undated items: many sitemaps and folders carry no dates, and skipping them
    would make ``since`` silently mean "nothing" for those feeds.
    """
    if since is None:
        return list(polls)
    return [
        poll.model_copy(update={"items": [
            item for item in poll.items
            if item.published is None or item.published.date() >= since
        ]})
        for poll in polls
    ]
