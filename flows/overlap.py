"""One batch of lookahead: batch k+1 is fetched and cleaned while batch k is loaded.

Why: loading is serial (one DuckDB writer, the file opened and checkpointed per batch), and
while the run's own process loads a batch the cleaning workers used to sit idle until the
next batch's pages arrived. With one batch fetched ahead, the workers keep cleaning through
every load, and the load hides behind the cleaning instead of adding to it.

The next batch's fetching starts as soon as every page of the batch before it has
*arrived*, not once they are all cleaned: its pages queue behind that batch's in the worker
pool, so the workers never wait at a batch boundary for a fresh crawl's first pages
(~70-100 ms a boundary, each worker, before).

What stays as before:
- Loads happen in plan order, in this process, one transaction per batch (``load``).
- At most one batch beyond the one loading is fetched: batch k+2's fetching starts after
  batch k's load has returned. A run killed mid-load has fetched at most that batch, whose
  pages are not stored, so the re-run fetches them again (tests/test_reliability_kill.py):
  nothing is lost, only refetched.
- Page requests (with the validators stored for each URL) are read from the warehouse in
  this thread, between loads: the fetch threads never open the file.
- The loop holds one connection to the file across its batches, and lets go of it while it
  waits for the workers (``sinks.held_for_batches``, ``sinks.release_held``).

Plain functions, shared by the Prefect flow and the no-Prefect run (benchmarks/plain_pipeline.py).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from extractors import RuleSet
from ingest.poll import FeedItem

from flows import crawl_steps, pipeline, sinks
from flows.parallel import FetchedBatch
from flows.settings import MusterSettings

__all__ = ["process_batches"]


def process_batches(
    settings: MusterSettings,
    batches: Sequence[Sequence[FeedItem]],
    ruleset: RuleSet,
    load: Callable[[Sequence[FeedItem], FetchedBatch], None],
) -> None:
    """Fetch + clean + extract each batch one ahead of ``load(batch, fetched)``, in order."""
    pending = iter(batches)
    window: deque[tuple[Sequence[FeedItem], Future[FetchedBatch], threading.Event]] = deque()
    # Two threads: batch k+1 crawls while batch k's fetch_and_clean collects its outcomes.
    with (sinks.held_for_batches(settings),  # one connection for the loop: flows/sinks.py
          ThreadPoolExecutor(max_workers=2, thread_name_prefix="muster-fetch") as fetcher):

        def fetch_next() -> None:
            batch = next(pending, None)
            if batch is not None:
                requests = crawl_steps.page_requests(settings, batch)
                arrived = threading.Event()
                future = fetcher.submit(pipeline.fetch_batch, settings, batch, ruleset,
                                        requests=requests, on_fetched=arrived.set)
                future.add_done_callback(lambda _: arrived.set())  # failed before fetching
                window.append((batch, future, arrived))

        def wait(ready: Callable[[], bool], block: Callable[[], object]) -> None:
            if not ready():  # waiting for the network or the workers: others may have the file
                sinks.release_held(settings)
            block()

        fetch_next()
        try:
            while window:
                batch, future, arrived = window[0]
                if len(window) == 1:  # start the next batch once this one's pages are in
                    wait(arrived.is_set, arrived.wait)
                    fetch_next()
                window.popleft()
                wait(future.done, future.exception)
                load(batch, future.result())
        finally:
            for _, pending_future, _ in window:  # a failed load: no wait for an unused fetch
                pending_future.cancel()
