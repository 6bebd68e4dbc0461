"""One batch of lookahead: batch k+1 is fetched and cleaned while batch k is loaded.

Why: loading is serial (one DuckDB writer, the file opened and checkpointed per batch), and
while the run's own process loads a batch the cleaning workers used to sit idle until the
next batch's pages arrived. With one batch fetched ahead, the workers keep cleaning through
every load, and the load hides behind the cleaning instead of adding to it.

What stays as before:
- Loads happen in plan order, in this process, one transaction per batch (``load``).
- At most one batch beyond the one loading is fetched: a run killed mid-load has fetched at
  most that batch, whose pages are not stored, so the re-run fetches them again
  (tests/test_reliability_kill.py): nothing is lost, only refetched.
- Page requests (with the validators stored for each URL) are read from the warehouse in
  this thread, before the load of the batch in hand: the fetch thread never opens the file.
- The loop holds one connection to the file across its batches, and lets go of it while it
  waits for the workers (``sinks.held_for_batches``, ``sinks.release_held``).

Plain functions, shared by the Prefect flow and the no-Prefect run (benchmarks/plain_pipeline.py).
"""

from __future__ import annotations

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
    window: deque[tuple[Sequence[FeedItem], Future[FetchedBatch]]] = deque()
    with (sinks.held_for_batches(settings),  # one connection for the loop: flows/sinks.py
          ThreadPoolExecutor(max_workers=1, thread_name_prefix="muster-fetch") as fetcher):

        def fetch_next() -> None:
            batch = next(pending, None)
            if batch is not None:
                requests = crawl_steps.page_requests(settings, batch)
                window.append((batch, fetcher.submit(
                    pipeline.fetch_batch, settings, batch, ruleset, requests=requests)))

        fetch_next()
        try:
            while window:
                batch, future = window.popleft()
                if not future.done():  # waiting for the workers: others may have the file
                    sinks.release_held(settings)
                fetched = future.result()
                fetch_next()  # the next batch is fetched and cleaned while this one loads
                load(batch, fetched)
        finally:
            for _, future in window:  # a failed load: do not wait for a fetch nobody uses
                future.cancel()
