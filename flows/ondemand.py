"""On-demand flows: ingest a pasted list of URLs, and re-extract stored articles.

Both exist so that the two things an analyst asks for between scheduled runs ("load
these articles now", "re-run the new rules over what we have") are one form in the
Prefect UI instead of a shell session.  They reuse the pipeline's own steps
(``flows/pipeline.py``) and ``flows/reextract.py``, so a URL ingested here is stored
exactly as if a feed had listed it, and both hold the same single-writer slot as the
pipeline (``flows/run_guard.py``).  The docstrings' ``Args`` are the UI's field help.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Literal

from extractors.loader import load_ruleset
from extractors.model import EVENT_TYPES
from ingest.guard import origin_of
from ingest.poll import FeedItem
from ingest.urls import canonicalize
from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from warehouse.store import Warehouse

from flows import pipeline as steps
from flows.prefect_flows import process_batch_task
from flows.reextract import ReextractReport, reextract
from flows.run_guard import single_writer
from flows.settings import load_settings

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]  # the UI renders a pick-list
_SEPARATORS = re.compile(r"[\s,]+")


def split_urls(urls: list[str]) -> list[str]:
    """Every URL of the form, in order, once; a field may hold many (pasted with newlines)."""
    seen: dict[str, str] = {}
    for chunk in urls:
        for url in _SEPARATORS.split(chunk or ""):
            if url:
                seen.setdefault(canonicalize(url), url)
    return list(seen.values())


@flow(name="muster-ingest-urls", validate_parameters=True)
@single_writer("muster-ingest-urls")
def ingest_urls(
    urls: list[str],
    label: str = "manual",
    dry_run: bool = False,
    db_path: str | None = None,
) -> steps.RunReport:
    """Fetch, clean, extract and load a list of article URLs, as the pipeline does for feeds.

    Args:
        urls: Article URLs (http or https). Paste one per line; one field may hold many.
        label: Stored as the articles' feed name, to tell these articles apart later.
        dry_run: Fetch and extract, but write nothing to the warehouse.
        db_path: The DuckDB file. Empty: from settings (data/muster.duckdb).
    """
    logger = get_run_logger()
    settings = load_settings(db_path=db_path)
    wanted = split_urls(urls)
    if not wanted:
        raise ValueError("no URL given: paste at least one article URL into 'urls'")
    run_id = str(flow_run.get_id() or uuid.uuid4())
    report = steps.RunReport(run_id=run_id, db_path=str(settings.db_path), dry_run=dry_run)
    ruleset = load_ruleset(settings.configs_dir)
    # Typed in by the operator, so trusted like a configured feed's own host (SSRF guard).
    items = [FeedItem(url=url, feed=label, origin=origin_of(url)) for url in wanted]
    params = {"kind": "ingest-urls", "urls": wanted, "label": label, "dry_run": dry_run,
              "db_path": str(settings.db_path)}
    with Warehouse(settings.db_path) as wh:
        wh.start_run(run_id, flow_run.get_id(), params)
    status = "failed"
    try:
        logger.info("%d URL(s) to fetch", len(items))
        for batch in steps.batches(items, settings.batch_size):
            report.merge(process_batch_task(settings, batch, ruleset, run_id, dry_run))
        status = "completed"
    finally:
        with Warehouse(settings.db_path) as wh:
            wh.finish_run(run_id, status, report.as_counts())
            if status == "completed" and not dry_run:
                wh.publish_snapshot()
    for failure in report.failures:
        logger.warning("%s: %s %s", failure.url, failure.reason, failure.detail)
    logger.info("run %s %s: %s", run_id, status, report.as_counts())
    return report


@flow(name="muster-reextract", validate_parameters=True)
@single_writer("muster-reextract")
def reextract_stored(
    since: dt.date | None = None,
    types: list[EventType] | None = None,
    db_path: str | None = None,
) -> ReextractReport:
    """Re-run the current rules over the articles already stored (no refetching).

    Args:
        since: Only articles published on or after this date. Empty: every article.
        types: Only replace events of these types; the others stay. Empty: every type.
        db_path: The DuckDB file. Empty: from settings (data/muster.duckdb).
    """
    logger = get_run_logger()
    settings = load_settings(db_path=db_path)
    flow_run_id = flow_run.get_id()
    report = reextract(settings, since=since, types=list(types) if types else None,
                       run_id=str(flow_run_id or uuid.uuid4()), flow_run_id=flow_run_id)
    for warning in report.warnings:
        logger.warning(warning)
    logger.info("re-extraction %s: %s", report.run_id, report.as_counts())
    return report
