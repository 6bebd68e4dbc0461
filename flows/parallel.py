"""Cleaning and extraction on every core, overlapped with fetching.

Cleaning HTML (trafilatura) is the irreducible cost per article, and it is CPU-bound
Python: one process cleans on one core.  So a batch's pages go, *as they arrive* from the
async fetcher, to a pool of worker processes that clean them and extract their events
(``page_work``: bytes -> :class:`PageOutcome`); the parent keeps fetching meanwhile and
collects the outcomes in item order, so the output is the same as cleaning one by one.

Why these choices:
- Plain functions, no Prefect: the no-Prefect run (``benchmarks/plain_pipeline.py``) and
  the flow get the same speed-up, and Dask workers call the same code in-process.
- One pool per process, started lazily on the first page to clean: a run that fetches
  nothing (the feed answered 304) pays nothing; a long-lived process (``muster serve``)
  keeps it across runs.  Its size is ``settings.workers`` (default: ``os.cpu_count()``);
  0 or 1 cleans in-process (tests of single steps, Dask workers: daemonic processes may
  not start children).
- Workers start with "forkserver" (the parent has threads: Prefect, httpx), preloaded with
  trafilatura and the extractors only (``flows/clean_worker.py``, ``flows/clean_warmup.py``),
  and receive the parent's rule set once (pickled, 0.2 s instead of 0.9 s to compile it):
  the parent's ``ruleset.version`` is the one applied.
- A worker that dies (out of memory, a crash in lxml) breaks the pool; the page is then
  cleaned in-process and the pool is restarted on the next batch: a failure stays a value.
- Results are small pydantic models (the article text and its events); bodies never come
  back, and a fetched body is replaced by ``b""`` once cleaned, so batches shipped between
  Dask processes stay small.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from extractors import RuleSet
from ingest.content import charset_of
from ingest.crawl import Crawler, PageRequest
from ingest.fetch import FetchLimits, FetchResult, make_client
from pydantic import BaseModel, ConfigDict

from flows.clean_worker import PageOutcome, _init_worker, page_work, ready
from flows.progress import NullProgress

__all__ = ["FetchedBatch", "PageOutcome", "fetch_and_clean", "page_work", "pool_size", "prestart",
           "shutdown"]


class FetchedBatch(BaseModel):
    """A batch fetched, cleaned and extracted: what the loader needs, in item order.

    ``outcomes[i]`` is None where page ``i`` was not cleaned (fetch error, 304).
    """

    model_config = ConfigDict(extra="forbid")

    results: list[FetchResult]
    outcomes: list[PageOutcome | None]
    host_delays: dict[str, float] = {}


# --- the parent side -------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None
_pool_key: tuple[str, int] | None = None
_pool_lock = threading.Lock()


def pool_size(workers: int | None) -> int:
    """Worker processes to use: ``workers`` if set, else one per core; <= 1 means in-process."""
    return (os.cpu_count() or 1) if workers is None else workers


def _get_pool(ruleset: RuleSet, workers: int) -> ProcessPoolExecutor:
    """The process pool for ``ruleset`` (restarted when the rules or the size change)."""
    global _pool, _pool_key
    with _pool_lock:
        key = (ruleset.version, workers)
        if _pool is None or _pool_key != key:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["flows.clean_worker", "flows.clean_warmup"])
            _pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=ctx, initializer=_init_worker,
                initargs=(ruleset, os.getpid()),
            )
            _pool_key = key
        return _pool


def prestart(ruleset: RuleSet, workers: int | None = None) -> None:
    """Start the worker processes now, in the background, instead of on the first page.

    Starting them (the forkserver imports trafilatura, each worker unpickles the rule set)
    takes ~1.5 s, during which the first pages wait. ``muster run`` calls this when it
    hands over to the flow, so the start overlaps Prefect's own start-up instead.
    """
    n = pool_size(workers)
    if n <= 1:
        return

    def start() -> None:
        try:
            pool = _get_pool(ruleset, n)
            for _ in range(n):
                pool.submit(ready)
        except Exception:  # noqa: BLE001, S110 - the first page starts (or works without) it
            pass

    threading.Thread(target=start, name="muster-pool-start", daemon=True).start()


def shutdown() -> None:
    """Stop the worker processes (tests; a process that exits stops them anyway)."""
    global _pool, _pool_key
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
        _pool, _pool_key = None, None


def _drop_pool(broken: ProcessPoolExecutor) -> None:
    global _pool, _pool_key
    with _pool_lock:
        if _pool is broken:
            _pool, _pool_key = None, None
    broken.shutdown(wait=False, cancel_futures=True)


async def _crawl_streaming(
    requests: Sequence[PageRequest], limits: FetchLimits,
    on_result: Callable[[int, FetchResult], None],
) -> tuple[list[FetchResult], dict[str, float]]:
    """``ingest.crawl.crawl``, calling ``on_result(i, result)`` as each page arrives."""
    async with make_client(limits) as client:
        crawler = Crawler(client, limits)

        async def one(i: int, request: PageRequest) -> FetchResult:
            result = await crawler.fetch(request)
            on_result(i, result)
            return result

        results = await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
        return list(results), dict(crawler.host_delays)


def fetch_and_clean(
    requests: Sequence[PageRequest],
    items: Sequence[object],
    limits: FetchLimits,
    ruleset: RuleSet,
    workers: int | None = None,
    progress: NullProgress | None = None,
    on_fetched: Callable[[], None] | None = None,
) -> FetchedBatch:
    """Fetch ``requests`` and clean + extract each page as it arrives; outcomes in order.

    ``items`` are the feed items behind the requests (their ``published`` and ``title``
    fill what a page lacks). ``on_fetched`` is called once every page has arrived (or the
    fetching failed), while the workers may still be cleaning: the next batch's fetching
    can start then (flows/overlap.py). Progress: ``fetch`` is the time until the last page
    arrived; with a pool, ``clean`` is the wait for the workers after that (cleaning *and*
    extraction that did not hide behind fetching) and ``extract`` stays ~0; in-process,
    both are measured page by page as before.
    """
    p = progress or NullProgress()
    n_workers = pool_size(workers)
    feeder = _Feeder(ruleset, n_workers) if n_workers > 1 else None
    jobs: dict[int, tuple] = {}

    def submit(i: int, result: FetchResult) -> None:
        if result.not_modified or result.error or result.body is None:
            return
        item = items[i]
        published = getattr(item, "published", None)
        jobs[i] = (result.body, result.final_url or result.url, charset_of(result.content_type),
                   published.date() if published else None, getattr(item, "title", None),
                   getattr(item, "language", None))
        if feeder is not None:
            feeder.put(i, jobs[i])

    try:
        with p.timing("fetch"):
            results, delays = asyncio.run(_crawl_streaming(requests, limits, submit))
    finally:
        futures = feeder.close() if feeder is not None else {}
        if on_fetched is not None:
            on_fetched()
    p.advance("fetch", len(requests))
    outcomes: list[PageOutcome | None] = []
    for i, result in enumerate(results):
        outcome = None
        if i in jobs:
            outcome = _collect(futures.get(i), jobs[i], ruleset, p)
            results[i] = result.model_copy(update={"body": b""})  # cleaned: bytes not needed
        p.advance("clean")
        p.advance("extract")
        outcomes.append(outcome)
    with p.timing("extract"):  # the stage exists even when the workers did all extraction
        pass
    return FetchedBatch(results=results, outcomes=outcomes, host_delays=delays)


class _Feeder:
    """Hands pages to the pool from its own thread, started on the first page.

    The first submit starts the worker processes (and the forkserver, which imports
    trafilatura first): seconds during which the fetcher's event loop must keep running,
    or its timeouts would fire on pages that were merely waiting for it.
    """

    def __init__(self, ruleset: RuleSet, workers: int) -> None:
        self._ruleset, self._workers = ruleset, workers
        self._queue: queue.SimpleQueue[tuple[int, tuple] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._futures: dict[int, Future[PageOutcome]] = {}

    def put(self, i: int, job: tuple) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="muster-clean-feeder",
                                            daemon=True)
            self._thread.start()
        self._queue.put((i, job))

    def _run(self) -> None:
        while (entry := self._queue.get()) is not None:
            i, job = entry
            try:
                self._futures[i] = _get_pool(self._ruleset, self._workers).submit(page_work, *job)
            except Exception:  # noqa: BLE001 - no working pool: _collect cleans it in-process
                pass

    def close(self) -> dict[int, Future[PageOutcome]]:
        """Wait until every page is handed over; the futures by item index."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        return self._futures


def _collect(
    future: Future[PageOutcome] | None, job: tuple, ruleset: RuleSet, p: NullProgress
) -> PageOutcome:
    """The worker's outcome, or the page cleaned here when there is no (working) pool."""
    if future is not None:
        try:
            with p.timing("clean"):
                return future.result()
        except BrokenProcessPool:  # a worker died: restart the pool on the next batch
            pool = _pool
            if pool is not None:
                _drop_pool(pool)
        except Exception:  # noqa: BLE001, S110 - e.g. a result that did not unpickle: redo here
            pass
    return page_work(*job, ruleset=ruleset, progress=p)
