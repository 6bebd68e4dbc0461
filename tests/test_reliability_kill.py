"""``kill -9`` of ``muster run`` in the middle of a warehouse load, then a re-run.

The killed process runs the real CLI with one test hook (``tests/reliability_kill_hook.py``):
the second batch's events are inserted inside the open transaction, then the process
announces itself and is SIGKILLed by the test. Batch 1 is committed, batch 2 is half
written, batch 3 may have been fetched one ahead of the load (flows/overlap.py) but not
stored, batch 4 was never fetched, and the feed was polled (with an ETag).

Proof: the file opens afterwards with exactly the committed batch, and after a plain
re-run of the pipeline the database equals (every row of every data table, ids included)
the one an uninterrupted run produces. Both runs use a frozen copy of the rules, so the
comparison is about the data, not about rules edited in between.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures_http import LocalHTTPServer, Route, rss, start_server
from tests.reliability_support import (
    FAST_FETCH_ENV,
    PAGES,
    REAL_PAGES,
    ROOT,
    SEED_HTML,
    db_state,
    frozen_configs,
    query,
    run_flow,
    write_feeds,
)

pytestmark = pytest.mark.slow

BATCH = 2


def _site(server: LocalHTTPServer) -> list[str]:
    """Seven article pages behind an RSS feed that supports conditional GET."""
    server.add("/a/seed.html", Route(body=SEED_HTML.read_bytes()))
    urls = [server.url("/a/seed.html")]
    for name in REAL_PAGES:
        server.add(f"/a/{name}", Route(body=gzip.decompress((PAGES / f"{name}.gz").read_bytes())))
        urls.append(server.url(f"/a/{name}"))
    server.add("/feed.xml", Route(body=rss(str(server), urls),
                                  content_type="application/rss+xml",
                                  etag='"feed-v1"', last_modified="Mon, 28 Apr 2025 06:00:00 GMT"))
    return urls


def _env(configs: Path) -> dict[str, str]:
    return {**FAST_FETCH_ENV, "MUSTER_BATCH_SIZE": str(BATCH), "MUSTER_CONFIGS_DIR": str(configs)}


def _muster(args: list[str], prefect_home: Path, configs: Path, hook: list[str] | None = None,
            ) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(_env(configs), PREFECT_HOME=str(prefect_home))
    entry = ["-m", "tests.reliability_kill_hook", *hook] if hook else ["-m", "flows"]
    # Its own session, so the helpers it starts (Prefect's ephemeral server) can be reaped
    # as a group after the kill instead of outliving the test as orphans.
    return subprocess.Popen([sys.executable, *entry, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _reap_group(proc: subprocess.Popen) -> None:
    """Kill what the killed run left behind (its process group); nothing left is fine."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Killed]:
    """One ``muster run`` killed with SIGKILL while batch 2 is half-written (module-wide)."""
    tmp = tmp_path_factory.mktemp("kill")
    server = start_server()
    try:
        urls = _site(server)
        feeds = write_feeds(tmp / "feeds.yaml", {"local": server.url("/feed.xml")})
        home = tmp / "prefect-home"
        home.mkdir()
        db = tmp / "killed" / "muster.duckdb"
        marker = tmp / "in-load"
        configs = frozen_configs(tmp / "configs")
        proc = _muster(["run", "--db", str(db), "--feeds", str(feeds)], home, configs,
                       [str(marker), "2"])
        deadline = time.monotonic() + 180
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"muster exited before the kill point:\n{proc.stdout.read()}")
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("kill point never reached")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        _reap_group(proc)
        yield Killed(server, urls, feeds, db, home, tmp, configs)
    finally:
        server.stop()


@dataclass
class Killed:
    server: LocalHTTPServer
    urls: list[str]
    feeds: Path
    db: Path
    prefect_home: Path
    tmp: Path
    configs: Path

    def hits(self, url: str) -> int:
        return self.server.hits(url.replace(str(self.server), ""))


def test_kill_9_mid_load_then_rerun_equals_uninterrupted_run(
    killed: Killed, prefect_server: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, urls = killed.db, killed.urls
    # The file opens; exactly batch 1 is there; the killed run is visible as unfinished.
    assert query(db, "SELECT url FROM articles ORDER BY url") == [(u,) for u in sorted(urls[:BATCH])]
    assert query(db, "SELECT status, finished_at FROM runs") == [("running", None)]
    # Batches 1 and 2 were fetched; batch 3 may have been, one ahead of the load
    # (flows/overlap.py); nothing beyond it.
    at_kill = [killed.hits(u) for u in urls]
    ahead = at_kill[2 * BATCH: 3 * BATCH]
    assert at_kill[: 2 * BATCH] == [1] * (2 * BATCH) and set(ahead) <= {0, 1}
    assert at_kill[3 * BATCH:] == [0] * (len(urls) - 3 * BATCH)

    # The re-run and, for comparison, an uninterrupted run (in-process flows, same settings).
    for key, value in _env(killed.configs).items():
        monkeypatch.setenv(key, value)
    run_flow(db, killed.feeds)
    clean = killed.tmp / "clean" / "muster.duckdb"
    run_flow(clean, killed.feeds)

    expected = db_state(clean)
    assert len(expected["articles"]) == len(urls) and expected["events"]
    assert db_state(db) == expected
    # Batch 1 was not fetched again; the uncommitted batch 2 was.
    assert [killed.hits(u) for u in urls] == (
        [2] * BATCH + [3] * BATCH + [2 + n for n in ahead] + [2] * (len(urls) - 3 * BATCH))
    statuses = sorted(r[0] for r in query(db, "SELECT status FROM runs"))
    assert statuses == ["completed", "running"]


def test_killed_run_releases_the_writer_slot(killed: Killed) -> None:
    import sqlite3

    con = sqlite3.connect(killed.prefect_home / "prefect.db")
    try:
        rows = con.execute("SELECT name, active_slots FROM concurrency_limit_v2").fetchall()
    finally:
        con.close()
    assert ("muster-warehouse-writer", 0) in rows or not rows, rows
