"""flows/parallel.py: pages cleaned in worker processes as they arrive, same result as one by one.

Real pages from a real local HTTP server, a real process pool (forkserver workers) and the
real rule set: the pool's outcomes must equal in-process cleaning page for page and in item
order, failures and 304s must stay values, the pool must not start for a batch with nothing
to clean, and a worker killed with SIGKILL must not lose a page.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from extractors import RuleSet
from extractors.loader import load_ruleset
from ingest.crawl import PageRequest
from ingest.fetch import FetchLimits
from ingest.poll import FeedItem

from flows import parallel
from flows.progress import NullProgress
from tests.fixtures_http import LocalHTTPServer, Route

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "pages"
SEED_HTML = ROOT / "configs" / "demo" / "seed-article.html"
LIMITS = FetchLimits(min_host_delay=0, max_per_host=4)


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset(ROOT / "configs")


@pytest.fixture(autouse=True)
def fresh_pool() -> Iterator[None]:
    parallel.shutdown()
    yield
    parallel.shutdown()


def _batch(server: LocalHTTPServer) -> tuple[list[PageRequest], list[FeedItem]]:
    """The seed, the real fixture pages, a 404, an empty page and a 304-capable page."""
    server.add("/a/seed.html", Route(body=SEED_HTML.read_bytes()))
    paths = ["/a/seed.html"]
    for page in sorted(PAGES.glob("*.html.gz")):
        name = page.name.removesuffix(".gz")
        server.add(f"/a/{name}", Route(body=gzip.decompress(page.read_bytes())))
        paths.append(f"/a/{name}")
    server.add("/a/missing.html", Route(status=404, body="gone"))
    server.add("/a/empty.html", Route(body="<html><body><p>Too short.</p></body></html>"))
    server.add("/a/same.html", Route(body=SEED_HTML.read_bytes(), etag='"s1"'))
    paths += ["/a/missing.html", "/a/empty.html", "/a/same.html"]
    origin = str(server).removeprefix("http://").rstrip("/")
    requests = [PageRequest(server.url(p), origin=origin,
                            validators={"etag": '"s1"'} if p == "/a/same.html" else None)
                for p in paths]
    items = [FeedItem(url=server.url(p), feed="t", title=f"feed title {i}",
                      published=dt.datetime(2024, 5, 1)) for i, p in enumerate(paths)]
    return requests, items


def _summary(batch: parallel.FetchedBatch) -> list[tuple]:
    return [
        (r.url, r.error, r.not_modified, None if o is None else o.model_dump(mode="json"))
        for r, o in zip(batch.results, batch.outcomes, strict=True)
    ]


def test_pool_gives_the_in_process_outcomes_in_item_order(
    http_server: LocalHTTPServer, ruleset: RuleSet
) -> None:
    requests, items = _batch(http_server)
    progress = NullProgress()
    pooled = parallel.fetch_and_clean(requests, items, LIMITS, ruleset, workers=2,
                                      progress=progress)
    assert parallel._pool is not None  # really cleaned in worker processes
    alone = parallel.fetch_and_clean(requests, items, LIMITS, ruleset, workers=0)

    assert _summary(pooled) == _summary(alone)
    assert [r.url for r in pooled.results] == [r.url for r in requests]
    by_path = {r.url.rsplit("/", 1)[1]: (r, o) for r, o in zip(pooled.results, pooled.outcomes)}
    seed_result, seed = by_path["seed.html"]
    assert seed is not None and seed.article is not None and seed.events
    assert seed_result.body == b""  # cleaned: the bytes are not carried further
    assert by_path["missing.html"] == (by_path["missing.html"][0], None)
    assert by_path["missing.html"][0].error == "http_404"
    assert by_path["empty.html"][1].error == "no_text"
    assert by_path["same.html"][0].not_modified and by_path["same.html"][1] is None
    n = len(requests)
    assert progress.done == {"fetch": n, "clean": n, "extract": n}
    assert {"fetch", "clean", "extract"} <= set(progress.seconds)


def test_no_pool_for_a_batch_with_nothing_to_clean(
    http_server: LocalHTTPServer, ruleset: RuleSet
) -> None:
    http_server.add("/a/same.html", Route(body=SEED_HTML.read_bytes(), etag='"s1"'))
    http_server.add("/a/missing.html", Route(status=404))
    origin = str(http_server).removeprefix("http://").rstrip("/")
    requests = [PageRequest(http_server.url("/a/same.html"), origin, {"etag": '"s1"'}),
                PageRequest(http_server.url("/a/missing.html"), origin)]
    items = [FeedItem(url=r.url, feed="t") for r in requests]
    batch = parallel.fetch_and_clean(requests, items, LIMITS, ruleset, workers=2)
    assert batch.outcomes == [None, None]
    assert batch.results[0].not_modified and batch.results[1].error == "http_404"
    assert parallel._pool is None


def test_prestarted_workers_are_the_ones_that_clean(
    http_server: LocalHTTPServer, ruleset: RuleSet
) -> None:
    import time

    from flows.clean_worker import ready

    parallel.prestart(ruleset, workers=2)
    deadline = time.monotonic() + 60
    while parallel._pool is None or len(parallel._pool._processes or {}) < 2:
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.05)
    pool, started = parallel._pool, set(parallel._pool._processes)
    assert pool.submit(ready).result(timeout=60) in started
    requests, items = _batch(http_server)
    batch = parallel.fetch_and_clean(requests, items, LIMITS, ruleset, workers=2)
    assert sum(o is not None and o.article is not None for o in batch.outcomes) >= 2
    assert parallel._pool is pool and set(pool._processes) == started  # no second start


def test_a_killed_worker_loses_no_page(http_server: LocalHTTPServer, ruleset: RuleSet) -> None:
    requests, items = _batch(http_server)
    expected = _summary(parallel.fetch_and_clean(requests, items, LIMITS, ruleset, workers=0))
    # Start the pool, then kill its workers as the OOM killer would.
    parallel.fetch_and_clean(requests[:2], items[:2], LIMITS, ruleset, workers=2)
    pool = parallel._pool
    assert pool is not None and pool._processes
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    again = parallel.fetch_and_clean(requests, items, LIMITS, ruleset, workers=2)
    assert _summary(again) == expected



def test_workers_skip_extraction_the_run_would_throw_away(
    ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A German article is cleaned but not extracted in the worker (the run stores it as
    ``not_english`` with no events); the English seed is extracted as before."""
    from flows import clean_worker

    calls: list[str] = []
    real = clean_worker.extract
    monkeypatch.setattr(clean_worker, "extract",
                        lambda text, *a, **k: calls.append(text[:20]) or real(text, *a, **k))
    german = gzip.decompress((PAGES / "fundus_de_BR_2024_04_22.html.gz").read_bytes())
    out = clean_worker.page_work(german, "http://127.0.0.1/de.html", None, None, None,
                                 ruleset=ruleset)
    assert out.article is not None and out.article.language == "de"
    assert out.events == [] and calls == []
    seed = clean_worker.page_work(SEED_HTML.read_bytes(), "http://127.0.0.1/a/seed.html", None,
                                  None, None, "de", ruleset=ruleset)  # detection beats the feed's "de"
    assert seed.article is not None and seed.article.language == "en"
    assert seed.events and len(calls) == 1


def test_workers_run_at_lower_cpu_priority_than_the_run(ruleset: RuleSet) -> None:
    """The forkserver (and so every worker) is reniced by WORKER_NICENESS; the run is not.

    The constant is read from the source: importing flows.clean_warmup would renice this
    process too."""
    source = (ROOT / "flows" / "clean_warmup.py").read_text()
    niceness = int(source.split("WORKER_NICENESS = ", 1)[1].split()[0])
    mine = os.nice(0)
    pool = parallel._get_pool(ruleset, 2)
    assert {pool.submit(os.nice, 0).result(timeout=120) for _ in range(4)} == {
        min(mine + niceness, 19)}
    assert os.nice(0) == mine
