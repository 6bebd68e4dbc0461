"""flows/overlap.py with flows/sinks.py: a run's batch loop holds the DuckDB file.

Real pages from a real local HTTP server, the real pool and rule set, real DuckDB files.
The loop must open the file at most once a batch (it opened it three times a batch), load
exactly what per-batch opens load, let another process have the file while it waits for
pages, and, when another process holds the file as the loop starts, keep every batch in
the spool for the next run instead of losing it.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest.poll import FeedItem
from warehouse import Warehouse
from warehouse import parquet_sink, store
from warehouse.spool import pending

from flows import crawl_steps, parallel, pipeline, sinks
from flows.overlap import process_batches
from flows.rules_cache import cached_ruleset
from flows.settings import MusterSettings, load_settings
from tests.fixtures_http import LocalHTTPServer, Route
from tests.test_warehouse_concurrency import HOLDER

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.html.gz"))
SEED_HTML = ROOT / "configs" / "demo" / "seed-article.html"


@pytest.fixture(autouse=True)
def fresh_pool() -> Iterator[None]:
    parallel.shutdown()
    yield
    parallel.shutdown()


def _items(server: LocalHTTPServer) -> list[FeedItem]:
    """The seed and the fixture pages, served over HTTP, as one feed's items."""
    server.add("/n/seed.html", Route(body=SEED_HTML.read_bytes()))
    paths = ["/n/seed.html"]
    for page in PAGES:
        path = f"/n/{page.name.removesuffix('.gz')}"
        server.add(path, Route(body=gzip.decompress(page.read_bytes())))
        paths.append(path)
    origin = str(server).removeprefix("http://").rstrip("/")
    return [FeedItem(url=server.url(p), feed="t", origin=origin, title=f"item {i}",
                     published=dt.datetime(2024, 5, 1)) for i, p in enumerate(paths)]


def _run(settings: MusterSettings, items: list[FeedItem], run_id: str) -> pipeline.RunReport:
    report = pipeline.RunReport(run_id=run_id, db_path=str(settings.db_path))
    ruleset = cached_ruleset(settings.configs_dir)
    process_batches(settings, pipeline.batches(items, 3), ruleset, lambda batch, fetched:
                    report.merge(pipeline.load_batch(settings, batch, fetched, ruleset.version,
                                                     run_id, False)))
    return report


def _counts(db: Path) -> dict[str, int]:
    with Warehouse(db) as wh:
        return wh.counts()


def test_loop_opens_the_file_once_and_loads_what_per_batch_opens_load(
        http_server: LocalHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = _items(http_server)
    assert len(pipeline.batches(items, 3)) >= 3, "needs several batches to mean anything"
    per_batch = load_settings(db_path=tmp_path / "per_batch.duckdb")
    held = load_settings(db_path=tmp_path / "held.duckdb")
    for settings in (per_batch, held):
        with Warehouse(settings.db_path):
            pass  # schema created before counting opens

    # per-batch opens: what the loop did before it held the file
    monkeypatch.setattr(sinks, "held_for_batches", _no_hold)
    report_a = _run(per_batch, items, "run-a")
    monkeypatch.undo()

    opens: list[Path] = []
    real_open = store.open_duckdb

    def counting_open(path: Path, **kwargs):  # type: ignore[no-untyped-def]
        opens.append(Path(path))
        return real_open(path, **kwargs)

    monkeypatch.setattr(store, "open_duckdb", counting_open)
    report_b = _run(held, items, "run-b")
    n_batches = len(pipeline.batches(items, 3))
    assert set(opens) == {held.db_path}
    assert 1 <= len(opens) <= n_batches, f"{len(opens)} opens for {n_batches} batches"
    assert report_b.articles_new == report_a.articles_new > 0
    assert report_b.events_written == report_a.events_written > 0
    a, b = _counts(per_batch.db_path), _counts(held.db_path)
    assert {k: v for k, v in a.items() if k != "runs"} == {k: v for k, v in b.items()
                                                            if k != "runs"}


@functools.wraps(sinks.held_for_batches)
def _no_hold(settings: MusterSettings):  # type: ignore[no-untyped-def]
    from contextlib import nullcontext

    return nullcontext(None)


def test_file_locked_as_the_loop_starts_spools_every_batch_for_the_next_run(
        http_server: LocalHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = _items(http_server)
    settings = load_settings(db_path=tmp_path / "live.duckdb")
    with Warehouse(settings.db_path):
        pass
    impatient = functools.partial(Warehouse, lock_timeout=0.3)  # not 10 s: keeps the test fast
    for module in (sinks, crawl_steps, pipeline, parquet_sink):
        monkeypatch.setattr(module, "Warehouse", impatient)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, "rw", str(settings.db_path), "120"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        report = _run(settings, items, "run-1")
    finally:
        holder.kill()
        holder.wait()
    spooled = [f for f in report.failures if f.reason == "db_locked_spooled"]
    assert spooled and report.articles_new == 0
    assert len(pending(settings.db_path)) == len(pipeline.batches(items, 3))
    assert _counts(settings.db_path)["articles"] == 0
    next_run = pipeline.RunReport(run_id="run-2", db_path=str(settings.db_path))
    assert pipeline.plan_items(settings, [], None, next_run) == []
    assert pending(settings.db_path) == []
    assert next_run.articles_new == len(spooled) == _counts(settings.db_path)["articles"]


def test_another_process_gets_the_file_while_the_loop_waits_for_pages(
        http_server: LocalHTTPServer, tmp_path: Path) -> None:
    """A slow page in the second batch: the loop waits for it without holding the file."""
    import threading
    import time

    items = _items(http_server)
    slow = items[4]  # second batch of three
    http_server.add(slow.url.split(str(http_server).rstrip("/"), 1)[1],
                    Route(body=SEED_HTML.read_bytes(), delay=3.0))
    settings = load_settings(db_path=tmp_path / "live.duckdb")
    with Warehouse(settings.db_path):
        pass
    got_file: list[float] = []

    def other_writer() -> None:
        proc = subprocess.run([sys.executable, "-c", HOLDER, "rw", str(settings.db_path), "0.2"],
                              capture_output=True, text=True, timeout=60, check=False)
        if proc.stdout.strip() == "held":
            got_file.append(time.monotonic())

    report = pipeline.RunReport(run_id="run-1", db_path=str(settings.db_path))
    ruleset = cached_ruleset(settings.configs_dir)
    started: list[threading.Thread] = []

    def load(batch, fetched):  # type: ignore[no-untyped-def]
        report.merge(pipeline.load_batch(settings, batch, fetched, ruleset.version, "run-1",
                                         False))
        if not started:  # after the first batch: the second waits ~3 s for its slow page
            started.append(threading.Thread(target=other_writer))
            started[0].start()

    process_batches(settings, pipeline.batches(items, 3), ruleset, load)
    loop_end = time.monotonic()
    started[0].join(timeout=60)
    assert got_file, "the other process never got the file"
    assert got_file[0] < loop_end, "the other process only got the file after the loop"
    assert not [f for f in report.failures if f.reason == "db_locked_spooled"]
    assert report.articles_new == _counts(settings.db_path)["articles"] > 0


def test_file_taken_while_released_degrades_like_a_locked_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reopening the released file finds it locked: no validators, no duplicate check,
    the batch spooled; nothing raises."""
    from warehouse import ArticleRecord

    settings = load_settings(db_path=tmp_path / "live.duckdb")
    monkeypatch.setattr(sinks, "Warehouse", functools.partial(Warehouse, lock_timeout=0.3))
    item = FeedItem(url="https://news.example/a", feed="t")
    record = ArticleRecord(url=item.url, feed="t", text="North Korea sent troops.",
                           content_hash="h1", extractor_version="v")
    with sinks.held_for_batches(settings) as held:
        assert held is not None
        sinks.release_held(settings)
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, "rw", str(settings.db_path),
                                   "60"], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            requests = crawl_steps.page_requests(settings, [item])
            report = pipeline.RunReport(run_id="r", db_path=str(settings.db_path))
            kept = crawl_steps.drop_duplicate_content(settings, [record], report)
        finally:
            holder.kill()
            holder.wait()
    assert [r.url for r in requests] == [item.url] and requests[0].validators is None
    assert kept == [record] and not report.failures


def test_next_batch_is_fetched_while_this_one_is_cleaned_never_two_ahead_of_a_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch k+1's fetching starts once batch k's pages have all arrived, before batch k is
    cleaned (the workers never wait at a batch boundary), and batch k+2's only after batch
    k's load has returned (a killed run has fetched at most one batch beyond its load)."""
    import threading
    import time

    from flows.parallel import FetchedBatch

    settings = load_settings(db_path=tmp_path / "live.duckdb")
    with Warehouse(settings.db_path):
        pass
    log: list[str] = []
    lock = threading.Lock()

    def note(what: str) -> None:
        with lock:
            log.append(what)

    def fake_fetch_batch(settings, batch, ruleset, requests=None, on_fetched=None, **kw):  # type: ignore[no-untyped-def]
        k = int(batch[0].url.rsplit("/", 1)[1])
        note(f"fetch {k}")
        on_fetched()  # every page of batch k has arrived; the workers are still cleaning
        deadline = time.monotonic() + 2.0
        while k < 3 and f"fetch {k + 1}" not in log and time.monotonic() < deadline:
            time.sleep(0.01)
        note(f"cleaned {k}")
        return FetchedBatch(results=[], outcomes=[])

    def load(batch, fetched) -> None:  # type: ignore[no-untyped-def]
        k = int(batch[0].url.rsplit("/", 1)[1])
        time.sleep(0.05)
        note(f"loaded {k}")

    monkeypatch.setattr(pipeline, "fetch_batch", fake_fetch_batch)
    batches = [[FeedItem(url=f"https://n.example/{k}", feed="t")] for k in range(4)]
    process_batches(settings, batches, None, load)  # type: ignore[arg-type]
    assert [e for e in log if e.startswith("loaded")] == [f"loaded {k}" for k in range(4)]
    for k in range(3):
        assert log.index(f"fetch {k + 1}") < log.index(f"cleaned {k}"), log
    for k in range(2):
        assert log.index(f"fetch {k + 2}") > log.index(f"loaded {k}"), log
