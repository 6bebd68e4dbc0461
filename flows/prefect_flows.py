"""Prefect flows: thin wiring of the plain pipeline steps into observable runs.

Tasks are coarse (one for polling, one load per batch of articles; the batch after it is
fetched and cleaned meanwhile, flows/overlap.py) because Prefect's
per-task overhead would dominate a task-per-article design.  The warehouse is
the source of truth, so task results are not persisted or cached.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated

from extractors import RuleSet
from ingest.crawl import PageRequest
from ingest.feeds import FeedConfig
from ingest.poll import FeedItem, FeedPoll
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote
from pydantic import Field
from warehouse.store import Warehouse

from flows import pipeline as steps
from flows.overlap import process_batches
from flows.parallel import FetchedBatch
from flows.rules_cache import cached_ruleset
from flows.run_guard import single_writer
from flows.run_report import run_parameters
from flows.settings import MusterSettings, load_settings


@task(name="poll-feeds", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5)
def poll_feeds_task(settings: MusterSettings, feeds: Sequence[FeedConfig]) -> list[FeedPoll]:
    """Poll all feeds concurrently (one task: polling is I/O-bound and cheap)."""
    return steps.poll_feeds(settings, feeds)


@task(name="process-batch", cache_policy=NO_CACHE)
def process_batch_task(
    settings: MusterSettings,
    items: Sequence[FeedItem],
    ruleset: RuleSet,
    run_id: str,
    dry_run: bool,
) -> steps.RunReport:
    """Fetch, clean, extract and load one batch; one warehouse transaction."""
    return steps.process_batch(settings, items, ruleset, run_id, dry_run)


@task(name="load-batch", cache_policy=NO_CACHE)
def load_batch_task(
    settings: MusterSettings,
    items: Sequence[FeedItem],
    fetched: FetchedBatch,
    version: str,
    run_id: str,
    dry_run: bool,
) -> steps.RunReport:
    """Load one fetched, cleaned and extracted batch: one warehouse transaction.

    Its fetching and cleaning ran one batch ahead, outside the task (flows/overlap.py),
    so the task's duration is the load alone; the run summary has time per stage.
    """
    return steps.load_batch(settings, items, fetched, version, run_id, dry_run)


@task(name="fetch-batch", cache_policy=NO_CACHE)
def fetch_batch_task(
    settings: MusterSettings,
    items: Sequence[FeedItem],
    requests: Sequence[PageRequest],
    configs_dir: str,
    version: str,
) -> FetchedBatch:
    """Fetch, clean and extract one batch on a Dask worker; writes nothing (dask_runner.py)."""
    from flows.dask_runner import worker_ruleset

    ruleset = worker_ruleset(configs_dir, version)
    return steps.fetch_batch(settings, items, ruleset, requests=requests, workers=0)


@flow(name="muster-pipeline", validate_parameters=True)
@single_writer("muster-pipeline")
def pipeline(
    feeds: list[str] | None = None,
    tags: list[str] | None = None,
    max_articles_per_feed: Annotated[int | None, Field(ge=1)] = None,
    since: dt.date | None = None,
    dry_run: bool = False,
    db_path: str | None = None,
    feeds_path: str | None = None,
) -> steps.RunReport:
    """Poll the configured feeds, fetch new articles, extract events, load DuckDB.

    The ``Args`` below are what the Prefect UI shows under each field of the run form.
    ``@single_writer`` holds the warehouse's one writer slot for the run and publishes
    its artifacts.

    Args:
        feeds: Names of the feeds to poll, as in the feeds file. Empty: every enabled feed.
        tags: Poll only the feeds carrying any of these tags (feeds.yaml `tags`). Empty: no filter.
        max_articles_per_feed: Take at most this many new articles from each feed. Empty: no limit.
        since: Skip feed items published before this date (items without a date are kept).
        dry_run: Fetch and extract, but write nothing to the warehouse.
        db_path: The DuckDB file. Empty: from settings (data/muster.duckdb).
        feeds_path: The feeds YAML file. Empty: from settings (configs/feeds.yaml).
    """
    logger = get_run_logger()
    settings = load_settings(
        db_path=db_path,
        feeds_path=feeds_path,
        max_articles_per_feed=max_articles_per_feed,
    )
    run_id = str(flow_run.get_id() or uuid.uuid4())
    report = steps.RunReport(run_id=run_id, db_path=str(settings.db_path), dry_run=dry_run)
    feed_configs = steps.resolve_feeds(settings, feeds, tags)
    params = run_parameters(settings, feeds, tags, max_articles_per_feed, since, dry_run)
    with Warehouse(settings.db_path) as wh:
        wh.start_run(run_id, flow_run.get_id(), params)
    status = "failed"
    try:
        polls = steps.published_since(poll_feeds_task(settings, feed_configs), since)
        steps.record_polls(settings, feed_configs, polls, report)
        for failure in report.feed_failures():
            logger.warning("feed %s: %s %s", failure.feed, failure.reason, failure.detail)
        items = steps.plan_items(settings, polls, settings.max_articles_per_feed, report)
        logger.info(
            "%d feeds polled, %d new articles to fetch, %d already stored",
            report.feeds_polled,
            len(items),
            report.articles_seen_before,
        )
        batches = steps.batches(items, settings.batch_size)
        # Compiled only when there is something to extract (a run that finds nothing new
        # skips it), and once per process: the CLI compiled the same files to check them.
        ruleset = cached_ruleset(settings.configs_dir) if batches else None
        if ruleset is not None and settings.task_runner == "dask":  # load here, rest on Dask
            from flows.dask_runner import run_batches

            run_batches(settings, batches, ruleset, run_id, dry_run, report, fetch_batch_task)
        elif ruleset is not None:  # batch k+1 is fetched and cleaned while batch k loads
            # ``quote``: Prefect would otherwise walk every page and event of the batch
            # looking for futures to resolve (none there), ~0.1 s of a task's start-up.
            process_batches(settings, batches, ruleset, lambda batch, fetched: report.merge(
                load_batch_task(settings, quote(batch), quote(fetched), ruleset.version, run_id,
                                dry_run)))
        steps.save_feed_states(settings, feed_configs, polls, report)  # after the loads: see there
        status = "completed"
    finally:
        with Warehouse(settings.db_path) as wh:
            wh.finish_run(run_id, status, report.as_counts())
            snapshot = steps.publish_snapshot_if_changed(wh, report)
        if snapshot is not None:
            logger.info("published read-only snapshot %s", snapshot)
    logger.info("run %s %s: %s", run_id, status, report.as_counts())
    return report


@contextmanager
def terminal_run() -> Iterator[None]:
    """Settings for a flow run started from a terminal (``muster run``), not a deployment.

    Prefect sends flow-run heartbeats from a thread that sleeps a second at a time, and a
    synchronous flow joins that thread when it ends: every run then waits 0-1 s (0.5 s on
    average, 2 % of a 2,000-page run) after it has finished. Heartbeats only serve to mark
    a run Crashed when its process vanishes, through an automation; a terminal run's user
    sees that in the terminal. So ``muster run`` turns them off unless the user set
    ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` (or its legacy name) in the environment or the
    Prefect profile; scheduled and UI-triggered runs (``muster serve``) keep Prefect's
    default.
    """
    from prefect.context import get_settings_context
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    profile = {getattr(key, "name", str(key)) for key in get_settings_context().profile.settings}
    if any(os.environ.get(name) or name in profile for name in _HEARTBEAT_VARIABLES):
        yield  # the user chose a frequency (environment or Prefect profile): keep it
        return

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


_HEARTBEAT_VARIABLES = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")
