"""The pipeline's steps as plain functions: poll, plan, fetch+clean+extract, load.

Prefect flows (``flows/prefect_flows.py``) only call these, so tests can run
every step without Prefect and the flow stays a thin, readable wiring diagram.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import httpx
from extractors import RuleSet, extract
from ingest.clean import clean_html
from ingest.content import charset_of
from ingest.feeds import FeedConfig, load_feeds
from ingest.fetch import FetchLimits, FetchResult, is_transient, make_client
from ingest.poll import FeedItem, FeedPoll, poll_feed
from ingest.urls import canonicalize
from warehouse import ArticleRecord, FetchLogRow, LoadCounts, Warehouse, WarehouseLockedError
from warehouse import spool

from flows import crawl_steps
from flows.progress import NullProgress, current
from flows.settings import MusterSettings


@dataclass
class Failure:
    """One thing that did not make it into the warehouse, and why."""

    stage: str
    url: str
    feed: str
    reason: str
    detail: str = ""


@dataclass
class RunReport:
    """What one run did; printed as the summary and stored in ``runs.counts``."""

    run_id: str
    db_path: str
    dry_run: bool = False
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_skipped: int = 0  # not due yet (poll_interval)
    items_filtered: int = 0  # dropped by a feed's include/exclude patterns
    pages_not_modified: int = 0  # conditional page requests answered 304
    host_delays: dict[str, float] = field(default_factory=dict)  # politeness delay per host
    articles_seen_before: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    events_written: int = 0
    events_by_type: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)

    def failed_by_reason(self) -> Counter[str]:
        """Article-level failures (not feeds) counted by reason code."""
        return Counter(f.reason for f in self.failures if f.stage != "feed")

    def feed_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.stage == "feed"]

    def merge(self, other: RunReport) -> None:
        """Add a batch's counts into the run's."""
        self.articles_new += other.articles_new
        self.articles_updated += other.articles_updated
        self.articles_unchanged += other.articles_unchanged
        self.events_written += other.events_written
        self.events_by_type.update(other.events_by_type)
        self.failures.extend(other.failures)
        self.pages_not_modified += other.pages_not_modified
        self.host_delays.update(other.host_delays)

    def as_counts(self) -> dict[str, object]:
        """A JSON-ready view for the ``runs`` table and Prefect artifacts."""
        return {
            "feeds_polled": self.feeds_polled,
            "feeds_not_modified": self.feeds_not_modified,
            "feeds_failed": len(self.feed_failures()),
            "feeds_skipped": self.feeds_skipped,
            "items_filtered": self.items_filtered,
            "pages_not_modified": self.pages_not_modified,
            "host_delays": dict(self.host_delays),
            "articles_new": self.articles_new,
            "articles_updated": self.articles_updated,
            "articles_unchanged": self.articles_unchanged + self.articles_seen_before,
            "articles_failed": dict(self.failed_by_reason()),
            "events_written": self.events_written,
            "events_by_type": dict(self.events_by_type),
        }


def resolve_feeds(settings: MusterSettings, names: Sequence[str] | None = None) -> list[FeedConfig]:
    """The enabled feeds to poll, with local folders resolved against the feeds file.

    Unknown names are an error that lists the known ones, so a typo in the UI
    form or on the command line does not silently poll nothing.
    """
    resolved = load_feeds(settings.feeds_path)
    if names:
        known = {f.name: f for f in resolved}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(
                f"unknown feed name(s) {', '.join(unknown)} in {settings.feeds_path}; "
                f"known: {', '.join(sorted(known))}"
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

    async def one(client: httpx.AsyncClient, f: FeedConfig) -> FeedPoll:
        poll = await poll_feed(
            client, f, validators=validators.get(f.name), limits=limits,
            discovered=(hints or {}).get(f.name),
        )
        p.advance("poll")
        return poll

    async with make_client(limits) as client:
        return list(await asyncio.gather(*(one(client, f) for f in feeds)))


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
                outcome="error" if poll.error else ("not_modified" if poll.not_modified else "ok"),
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


def plan_items(
    settings: MusterSettings,
    polls: Iterable[FeedPoll],
    max_per_feed: int | None,
    report: RunReport,
    progress: NullProgress | None = None,
) -> list[FeedItem]:
    """New items only: de-duplicated across feeds and skipping URLs already stored."""
    unique: dict[str, FeedItem] = {}
    for poll in polls:
        for item in poll.items[: max_per_feed or None]:
            unique.setdefault(canonicalize(item.url), item)
    with Warehouse(settings.db_path) as wh:
        if not report.dry_run:  # load batches a locked file kept back last time, first
            drained = spool.drain(wh, settings.db_path)
            report.articles_new += drained.articles_new
            report.events_written += drained.events_written
        seen = wh.seen_urls(list(unique))
        if settings.refetch_after is not None:  # stored but due for a (conditional) refetch
            seen -= crawl_steps.stale_urls(wh, seen, settings.refetch_after)
    report.articles_seen_before += len(seen)
    planned = [item for url, item in unique.items() if url not in seen]
    p = progress or current()
    for stage in ("fetch", "clean", "extract", "load"):
        p.total(stage, len(planned))
    return planned


def build_records(
    items: Sequence[FeedItem],
    results: Sequence[FetchResult],
    ruleset: RuleSet,
    fetched_at: dt.datetime,
    report: RunReport,
    progress: NullProgress | None = None,
) -> list[ArticleRecord]:
    """Clean and extract each fetched page; failures become values in the report."""
    p = progress or current()
    records: list[ArticleRecord] = []
    for item, result in zip(items, results, strict=True):
        p.advance("clean")  # counted when handled, so the bars reach the end despite failures
        if result.not_modified:  # 304: unchanged since we last saw it; nothing to redo
            p.advance("extract")
            report.pages_not_modified += 1
            continue
        if result.error or result.body is None:
            p.advance("extract")
            report.failures.append(
                Failure("page", item.url, item.feed, result.error or "empty", result.detail or "")
            )
            continue
        with p.timing("clean"):
            cleaned = clean_html(result.body, result.final_url or item.url,
                                 charset=charset_of(result.content_type))
        if cleaned.article is None:
            p.advance("extract")
            report.failures.append(
                Failure("clean", item.url, item.feed, cleaned.error or "no_text", cleaned.detail or "")
            )
            continue
        art = cleaned.article
        published = art.published or (item.published.date() if item.published else None)
        with p.timing("extract"):
            events = extract(art.text, published, ruleset, title=art.title or item.title)
        p.advance("extract")
        records.append(
            ArticleRecord(
                url=item.url,
                canonical_url=art.canonical_url or canonicalize(item.url),
                feed=item.feed,
                title=art.title or item.title,
                author=art.author,
                published=published,
                fetched_at=fetched_at,
                language=art.language or item.language,
                text=art.text,
                content_hash=art.content_hash,
                extractor_version=ruleset.version,
                events=events,
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
    """Fetch, clean, extract and load one batch in a single warehouse transaction."""
    p = progress or current()
    report = RunReport(run_id=run_id, db_path=str(settings.db_path), dry_run=dry_run)
    with p.timing("fetch"):
        results = crawl_steps.fetch_items(settings, items, report)
    p.advance("fetch", len(items))
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    records = build_records(items, results, ruleset, now, report, p)
    records = crawl_steps.drop_duplicate_content(settings, records, report)
    for record in records:
        report.events_by_type.update(e.type for e in record.events)
    if dry_run:
        report.articles_new += len(records)
        p.advance("load", len(items))
        return report
    page_log = _page_log(run_id, items, results, report)
    try:
        with p.timing("load"), Warehouse(settings.db_path) as wh:
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
