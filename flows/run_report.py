"""What a run did: the report every pipeline step adds to, and the failures it carries.

Its own module so that the pipeline's step modules (``flows/pipeline.py``,
``flows/crawl_steps.py``, ``flows/parallel.py``) can all use it without importing each
other; ``flows.pipeline`` re-exports both names.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse import Warehouse
from warehouse.snapshot import default_snapshot_path

if TYPE_CHECKING:
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


def data_changed(report: RunReport) -> bool:
    """True when the run added or changed articles or events (drained spool batches count)."""
    return bool(report.articles_new or report.articles_updated or report.events_written)


def publish_snapshot_if_changed(wh: Warehouse, report: RunReport) -> Path | None:
    """Publish the read-only snapshot, unless the run changed no article or event.

    The snapshot is a whole-file copy that readers use while a run holds the file; a run
    that found nothing new (the feed answered 304) would copy the same data again, so it
    keeps the last one (its ``runs`` and ``fetch_log`` rows then lag by those runs).
    """
    if report.dry_run or (not data_changed(report) and default_snapshot_path(wh.path).is_file()):
        return None
    return wh.publish_snapshot()


def run_parameters(
    settings: MusterSettings,
    feeds: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    max_articles_per_feed: int | None = None,
    since: dt.date | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """A pipeline run's parameters as the ``runs`` table stores them (flow or CLI alike)."""
    return {
        "feeds": list(feeds) if feeds is not None else None,
        "tags": list(tags) if tags is not None else None,
        "max_articles_per_feed": max_articles_per_feed,
        "since": since.isoformat() if since else None,
        "dry_run": dry_run,
        "db_path": str(settings.db_path),
        "feeds_path": str(settings.feeds_path),
    }
