"""``muster run`` when nothing is new: poll, find nothing to fetch, record it, no flow run.

Why: a re-run against unchanged feeds (every feed answers 304, or lists only stored
articles) has nothing to fetch, clean, extract or load, yet starting Prefect for it
(importing Prefect, creating a flow run on the API, the writer slot, artifacts) took
~2.5 s of a ~3.3 s no-op run. Scheduled runs keep running as Prefect flows (deployments
are not affected); this is only the CLI's ad-hoc ``muster run``, which first polls the
feeds itself with the stored validators, exactly as the flow would (same steps, same
poll intervals and robots.txt), and:

- if nothing is to be fetched and nothing waits in the spool, records the run as the
  flow would (a ``runs`` row without a Prefect flow-run id, the polls in ``fetch_log``,
  the feeds' new validators) and stops;
- otherwise hands over to the Prefect flow and writes nothing; the flow polls again (one
  more feed request, only when a feed did change).

It is skipped (straight to the flow) for a dry run, when a batch is spooled, when a feed
due for polling has never been polled (a first run always finds something), and when the
file is locked by a run in progress (the flow queues on the writer slot instead).
``muster run --always-flow`` turns it off.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from ingest.feeds import FeedConfig
from warehouse import Warehouse, WarehouseLockedError
from warehouse.spool import pending

from flows import crawl_steps, sinks
from flows import pipeline as steps
from flows.run_report import RunReport, publish_snapshot_if_changed
from flows.settings import MusterSettings

__all__ = ["run_if_nothing_new"]


def run_if_nothing_new(
    settings: MusterSettings,
    feeds: Sequence[FeedConfig],
    params: dict[str, Any],
    max_per_feed: int | None = None,
) -> RunReport | None:
    """The recorded run's report if no feed has anything new; None: run the flow."""
    if pending(settings.db_path):
        return None
    try:
        with Warehouse(settings.db_path, lock_timeout=0.5) as wh:
            states = {f.name: wh.get_feed_state(f.name) for f in feeds}
    except WarehouseLockedError:
        return None  # a run holds the file: let the flow wait for the writer slot
    due, _ = crawl_steps.split_due(feeds, states)
    if any(states.get(f.name) is None for f in due):
        return None
    polls = steps.poll_feeds(settings, feeds)
    if _anything_to_fetch(settings, polls, max_per_feed):
        return None
    run_id = str(uuid.uuid4())
    report = RunReport(run_id=run_id, db_path=str(settings.db_path))
    try:
        with Warehouse(settings.db_path, lock_timeout=0.5) as wh:
            wh.start_run(run_id, None, {**params, "prefect": "no flow run: nothing new"})
        steps.record_polls(settings, feeds, polls, report)
        steps.save_feed_states(settings, feeds, polls, report)
        with Warehouse(settings.db_path) as wh:
            wh.finish_run(run_id, "completed", report.as_counts())
            publish_snapshot_if_changed(wh, report)
    except WarehouseLockedError:
        return None  # nothing was stored for this run but its 'running' row: the flow redoes it
    return report


def _anything_to_fetch(settings: MusterSettings, polls: Sequence[Any],
                       max_per_feed: int | None) -> bool:
    """True if planning these polls would fetch a page (``plan_items`` minus the spool)."""
    urls = set(steps.polled_items(polls, max_per_feed))
    if not urls:
        return False
    with sinks.warehouse_for(settings) as wh:
        return bool(urls - steps.stored_urls(settings, wh, urls))
