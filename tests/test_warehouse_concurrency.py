"""Ad-hoc SQL while a run writes: real processes on real DuckDB files.

DuckDB lets one process hold a file, and a process holding it read-only blocks
a writer.  The design under test: the writer opens the file per batch and
waits up to its lock timeout; `muster sql` waits briefly for the live file and
otherwise answers from the snapshot the writer publishes; a batch that still
cannot be written is spooled and loaded later, never dropped.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flows import pipeline
from flows.pipeline import RunReport
from flows.settings import load_settings
from ingest.poll import FeedItem
from warehouse import Warehouse, run_readonly
from warehouse.spool import pending

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "configs" / "demo" / "seed-article.html"

WRITER = r"""
import json, sys, time
from datetime import date
from extractors.model import Event
from warehouse import ArticleRecord, FetchLogRow, Warehouse

db, batches = sys.argv[1], int(sys.argv[2])
wh = Warehouse(db)
for b in range(batches):
    records = [ArticleRecord(
        url=f"https://news.example/{b}/{i}", feed=f"feed{i}", published=date(2024, 11, 1 + i),
        text=f"batch {b} article {i}: North Korea sent {1000 * (b + 1)} troops.",
        extractor_version="v1",
        events=[Event(type="military_deployment", actor="PRK", target="RUS",
                      quantity=1000 * (b + 1), unit="troops", sentence="s", char_start=0,
                      char_end=1, rule_id="r"),
                Event(type="condemnation", actor="KOR", target="PRK", sentence="c",
                      char_start=5, char_end=6, rule_id="r")]) for i in range(4)]
    wh.load_articles(records)                        # raises if the batch could not be written
    wh.log_fetches([FetchLogRow(run_id="r", url=r.url, stage="page", outcome="ok")
                    for r in records])
    if b % 4 == 3:
        wh.publish_snapshot()                        # as the flow does after each run
    time.sleep(0.03)
print(json.dumps(wh.counts()), flush=True)
"""

HOLDER = r"""
import duckdb, sys, time
mode, path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + 30
while True:  # a writer may hold the file right now; DuckDB does not wait, so retry
    try:
        con = duckdb.connect(path, read_only=(mode == "ro"))
        break
    except duckdb.IOException:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.05)
print("held", flush=True)
time.sleep(seconds)
con.close()
"""


def muster_sql(db: Path, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flows", "sql", sql, "--db", str(db),
                           "--format", "csv"], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, check=False)


def test_readers_during_a_run_never_fail_the_writer(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    with Warehouse(db) as wh:
        wh.publish_snapshot()
    batches = 12
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(batches)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    answers: list[subprocess.CompletedProcess[str]] = []
    holds: list[int] = []

    def hammer() -> None:
        while writer.poll() is None:
            answers.append(muster_sql(db, "SELECT count(*) AS n FROM articles"))

    def hold_live_file() -> None:
        # a second process holding the live file open read-only for a while, as a DuckDB CLI does
        while writer.poll() is None:
            done = subprocess.run([sys.executable, "-c", HOLDER, "ro", str(db), "0.3"],
                                  capture_output=True, text=True, timeout=60, check=False)
            holds.append(done.returncode)
            time.sleep(1.0)

    threads = [threading.Thread(target=hammer), threading.Thread(target=hammer),
               threading.Thread(target=hold_live_file)]
    for t in threads:
        t.start()
    out, errors = writer.communicate(timeout=300)
    for t in threads:
        t.join(timeout=120)

    assert writer.returncode == 0, errors
    counts = json.loads(out)
    assert (counts["articles"], counts["events"], counts["fetch_log"]) == (
        4 * batches, 8 * batches, 4 * batches)  # no batch lost
    assert counts["event_cluster_members"] == counts["events"]
    assert len(answers) >= 2, "the writer finished before any reader ran; the test proved nothing"
    for done in answers:
        assert done.returncode == 0, done.stderr
        n = int(done.stdout.strip().splitlines()[-1])
        assert 0 <= n <= 4 * batches and n % 4 == 0  # whole batches only
    assert holds and all(code == 0 for code in holds)
    assert run_readonly(db, "SELECT count(*) FROM articles")[1] == [(4 * batches,)]


def test_batch_blocked_by_a_long_reader_is_spooled_then_loaded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "live.duckdb"
    settings = load_settings(db_path=db)
    impatient = functools.partial(Warehouse, lock_timeout=0.3)  # not 10 s: keeps the test fast
    monkeypatch.setattr(pipeline, "Warehouse", impatient)
    crawl_steps = getattr(pipeline, "crawl_steps", None)  # lookups that degrade when locked
    if crawl_steps is not None and hasattr(crawl_steps, "Warehouse"):
        monkeypatch.setattr(crawl_steps, "Warehouse", impatient)
    with Warehouse(db):
        pass
    items = [FeedItem(url=SEED.as_uri(), title="seed", feed="demo")]
    ruleset = pipeline_ruleset()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, "rw", str(db), "60"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        report = pipeline.process_batch(settings, items, ruleset, "run-1", dry_run=False)
    finally:
        holder.kill()
        holder.wait()
    assert [f.reason for f in report.failures] == ["db_locked_spooled"]
    assert len(pending(db)) == 1
    with Warehouse(db) as wh:
        assert wh.counts()["articles"] == 0
    # the next run loads the kept batch before planning, so the article is not fetched again
    next_run = RunReport(run_id="run-2", db_path=str(db))
    planned = pipeline.plan_items(settings, [], None, next_run)
    assert planned == [] and pending(db) == []
    assert next_run.articles_new == 1 and next_run.events_written > 0
    with Warehouse(db) as wh:
        counts = wh.counts()
    assert (counts["articles"], counts["fetch_log"]) == (1, 1)
    assert counts["events"] == next_run.events_written == counts["event_cluster_members"]


@functools.cache
def pipeline_ruleset():  # type: ignore[no-untyped-def]
    from extractors.loader import load_ruleset

    return load_ruleset(ROOT / "configs")


def test_reader_snapshot_survives_republish(tmp_path: Path) -> None:
    """A reader with the snapshot open keeps reading it while the writer publishes a new one."""
    db = tmp_path / "live.duckdb"
    with Warehouse(db) as wh:
        snap = wh.publish_snapshot()
    reader = subprocess.Popen(
        [sys.executable, "-c",
         ("import duckdb, sys, time; con = duckdb.connect(sys.argv[1], read_only=True); "
          "print('open', flush=True); time.sleep(1.5); "
          "print(con.execute('SELECT count(*) FROM articles').fetchone()[0], flush=True)"),
         str(snap)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        start = time.monotonic()
        with Warehouse(db) as wh:
            wh.publish_snapshot()
        assert time.monotonic() - start < 1.5  # publishing did not wait for the reader
        assert reader.stdout.readline().strip() == "0"
    finally:
        reader.kill()
        reader.wait()
