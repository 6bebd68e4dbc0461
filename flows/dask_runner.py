"""Batches on a Dask cluster: fetch, clean and extract there, load here, in order.

``task_runner: dask`` in the settings (with ``dask_address`` of a running scheduler) sends
each batch's "fetch + clean + extract" to the cluster as a Prefect task through
``prefect_dask.DaskTaskRunner``; the flow process keeps the one thing that cannot spread
out: writing DuckDB (one writer per file).  Batches are loaded in plan order, each as its
result arrives, so the database is the same as with the default runner
(``tests/test_dask_runner.py``).

Why it is shaped this way:
- Workers write nothing and read no database: the flow looks up each batch's stored
  validators (conditional GET) and sends them with the batch, so a worker only needs the
  network, the code and the rules.
- The rule set is not shipped with every task (6.5 MB pickled): a worker loads it once from
  ``configs_dir`` (same path on every worker, as the code is) and checks that its version is
  the run's, so a worker with other rules fails loudly instead of extracting differently.
- A bounded window of batches is in flight (two per worker thread), so the flow process
  holds a few batches' results at a time, not the run's.
- Dask workers are daemonic processes, which may not start a process pool: they clean
  in-process (``workers=0``), one batch per worker thread.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from extractors import RuleSet
from extractors.loader import load_ruleset
from ingest.poll import FeedItem

from flows import crawl_steps, sinks
from flows import pipeline as steps
from flows.progress import current
from flows.settings import MusterSettings

_rulesets: dict[tuple[str, str], RuleSet] = {}
_rulesets_lock = threading.Lock()


def worker_ruleset(configs_dir: str, version: str) -> RuleSet:
    """The rule set at ``configs_dir`` (loaded once per worker process), if it is ``version``."""
    with _rulesets_lock:
        key = (configs_dir, version)
        if key not in _rulesets:
            ruleset = load_ruleset(Path(configs_dir))
            if ruleset.version != version:
                raise ValueError(
                    f"the rules in {configs_dir} on this Dask worker are version "
                    f"{ruleset.version}, the run uses {version}: deploy the same configs"
                )
            _rulesets[key] = ruleset
        return _rulesets[key]


def run_batches(
    settings: MusterSettings,
    batches: Sequence[Sequence[FeedItem]],
    ruleset: RuleSet,
    run_id: str,
    dry_run: bool,
    report: steps.RunReport,
    fetch_task: Callable[..., Any],
) -> None:
    """Fetch+clean+extract every batch on the cluster; load each here, in order, into ``report``.

    ``fetch_task`` is the Prefect task (``flows.prefect_flows.fetch_batch_task``) taking
    ``settings, items, requests, configs_dir, version``.
    """
    from prefect_dask import DaskTaskRunner

    p = current()
    with (DaskTaskRunner(address=settings.dask_address) as runner,
          sinks.held_for_batches(settings)):  # one connection for the loads: flows/sinks.py
        threads = sum(runner.client.nthreads().values()) or 1
        pending = iter(batches)
        window: deque[tuple[Sequence[FeedItem], Any]] = deque()

        def submit_next() -> None:
            batch = next(pending, None)
            if batch is None:
                return
            params = {
                "settings": settings, "items": list(batch),
                "requests": crawl_steps.page_requests(settings, batch),
                "configs_dir": str(Path(settings.configs_dir).resolve()),
                "version": ruleset.version,
            }
            window.append((batch, runner.submit(fetch_task, parameters=params)))

        for _ in range(2 * threads):
            submit_next()
        while window:
            batch, future = window.popleft()
            if not _finished(future):  # waiting for the cluster: others may have the file
                sinks.release_held(settings)
            with p.timing("fetch"):  # waiting for the cluster: fetch, clean and extract there
                fetched = future.result()
            for stage in ("fetch", "clean", "extract"):
                p.advance(stage, len(batch))
            report.merge(steps.load_batch(settings, batch, fetched, ruleset.version, run_id,
                                          dry_run, p))
            submit_next()


def _finished(future: Any) -> bool:
    """Whether a Prefect-Dask future's result is there (its Dask future says; unknown: no)."""
    done = getattr(getattr(future, "wrapped_future", future), "done", None)
    return bool(done()) if callable(done) else False
