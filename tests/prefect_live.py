"""A real ``prefect server start`` and a real ``muster serve``, as subprocesses, for tests.

Why subprocesses and not ``prefect_test_harness``: the point of these tests is what a
user gets — the server's HTTP API and UI on a port, ``muster serve`` polling it, runs
executed in the runner's own subprocesses — and the in-process harness has none of that.

One server (session scope) is shared by every ``test_prefect_*`` module; each serve
fixture gets its own DuckDB file and feeds file pointing at a local HTTP server.  A test
that needs to kill its server (the API outage test) starts its own with
``start_prefect_server`` and restarts it on the same port and database.
Start-up is ~6-15 s for the server and a few seconds for ``muster serve``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures_http import LocalHTTPServer, Route, rss, start_server

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SEED_HTML = ROOT / "configs" / "demo" / "seed-article.html"
PAGES = ROOT / "tests" / "fixtures" / "pages"
PAGE_NAMES = sorted(p.name.removesuffix(".gz") for p in PAGES.glob("*.html.gz"))

__all__ = ["LivePrefect", "ServeProcess", "live_prefect", "muster_serving", "news_site",
           "prefect_client", "rss", "served", "start_muster_serve", "start_prefect_server",
           "stop_muster_serve", "stop_prefect_server", "trigger", "wait_final"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


@dataclass
class LivePrefect:
    """A running Prefect server: its base URL (UI), API URL, home, port and log file."""

    url: str
    api_url: str
    home: Path
    log: Path
    process: subprocess.Popen[bytes]
    port: int

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a client of this server: its PREFECT_* only; MUSTER_* carry over."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(
            PREFECT_HOME=str(self.home),
            PREFECT_API_URL=self.api_url,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_LOGGING_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}:\n{_tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s:\n{_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def start_prefect_server(home: Path, port: int | None = None, timeout: float = 90) -> LivePrefect:
    """``prefect server start`` on 127.0.0.1 with ``home`` as PREFECT_HOME (its SQLite file
    is ``home/prefect.db``), in its own process group; waits for ``/api/health``.

    Starting again with the same ``home`` and ``port`` brings the same server back (same
    database, same URL); the log is appended to, so it tells the whole story.
    """
    port = port or free_port()
    log = home / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # a run refused by a deployment's concurrency limit is re-proposed after this delay
        PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS="1",
        PREFECT_SERVER_API_HOST="127.0.0.1",
        PREFECT_SERVER_API_PORT=str(port),
    )
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [str(VENV_BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
             "--port", str(port), "--analytics-off"],
            env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=home, start_new_session=True,
        )
    server = LivePrefect(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api", home, log,
                         proc, port)
    try:
        _wait_http(server.api_url + "/health", proc, log, timeout=timeout)
    except BaseException:
        stop_prefect_server(server, kill=True)
        raise
    return server


def stop_prefect_server(server: LivePrefect, kill: bool = False) -> None:
    """Stop the server's whole process group: SIGTERM (then SIGKILL), or SIGKILL at once
    (``kill=True``: a crash, nothing gets to clean up)."""
    proc = server.process
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    # anything else of the group (none expected) goes too, so the port is free again
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def live_prefect() -> Iterator[LivePrefect]:
    """``prefect server start`` on a free 127.0.0.1 port with a temporary PREFECT_HOME."""
    server = start_prefect_server(Path(tempfile.mkdtemp(prefix="muster-live-prefect-")))
    try:
        yield server
    finally:
        stop_prefect_server(server)


@dataclass
class ServeProcess:
    """A running ``muster serve`` and the files its runs write."""

    process: subprocess.Popen[bytes]
    log: Path
    db: Path

    def output(self) -> str:
        return _tail(self.log, 20000)


def start_muster_serve(
    server: LivePrefect, workdir: Path, db: Path, feeds: Path, timeout: float = 90,
    **extra_env: str,
) -> ServeProcess:
    """Start ``muster serve --no-schedule`` and wait until its three deployments exist."""
    from flows.deployments import DEPLOYMENT_NAMES

    log = workdir / "serve.log"
    env = server.env(
        MUSTER_DB_PATH=str(db),
        MUSTER_FEEDS_PATH=str(feeds),
        # pasted URLs (muster-ingest-urls) have no feed whose host vouches for them, and the
        # SSRF guard refuses private addresses: allow the local test site, as a user would
        # allow an intranet host
        MUSTER_FETCH__ALLOW_HOSTS='["127.0.0.1"]',
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        **extra_env,
    )
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(VENV_BIN / "muster"), "serve", "--no-schedule"],
            env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=workdir,
        )
    serve = ServeProcess(proc, log, db)
    deadline = time.monotonic() + timeout
    names = {f"{n}/{n}" for n in DEPLOYMENT_NAMES}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"muster serve exited with {proc.returncode}:\n{serve.output()}")
        found = set()
        for name in names:
            with contextlib.suppress(httpx.HTTPError):
                flow, dep = name.split("/")
                r = httpx.get(f"{server.api_url}/deployments/name/{flow}/{dep}", timeout=2)
                if r.status_code == 200:
                    found.add(name)
        # printed once the deployments are created and the runner polls for runs
        if found == names and "polling for scheduled runs" in serve.output():
            return serve
        time.sleep(0.3)
    _stop(proc)
    raise RuntimeError(f"muster serve did not register its deployments:\n{serve.output()}")


def stop_muster_serve(serve: ServeProcess) -> None:
    _stop(serve.process)


@contextlib.contextmanager
def muster_serving(server: LivePrefect, feed_url: str, work: Path,
                   **extra_env: str) -> Iterator[ServeProcess]:
    """``muster serve`` against ``server`` with one feed (``local``) and a fresh DuckDB file
    in ``work``, stopped on exit whatever happened."""
    feeds = work / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - name: local\n    url: {feed_url}\n")
    serve = start_muster_serve(server, work, work / "muster.duckdb", feeds, **extra_env)
    try:
        yield serve
    finally:
        stop_muster_serve(serve)


@pytest.fixture(scope="module")
def served(live_prefect: LivePrefect, site: LocalHTTPServer,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``muster serve`` for a whole test module, on the feed of that module's ``site``
    fixture (``/feed.xml``); import it into the module to use it."""
    with muster_serving(live_prefect, site.url("/feed.xml"), tmp_path_factory.mktemp("serve")) as s:
        yield s


@contextlib.contextmanager
def news_site(feed_paths: list[str]) -> Iterator[LocalHTTPServer]:
    """A local news site: the real pages under ``/pages/``, the seed article at
    ``/news/seed-article.html`` and ``/feed.xml`` linking ``feed_paths`` (add their routes
    before a run reads the feed)."""
    server = start_server()
    try:
        server.serve_dir(PAGES, prefix="/pages/")
        server.add("/news/seed-article.html", Route(body=SEED_HTML.read_bytes()))
        server.add("/feed.xml", Route(body=rss(str(server), feed_paths),
                                      content_type="application/rss+xml"))
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def prefect_client(server: LivePrefect) -> Iterator[Any]:
    """A synchronous Prefect client of ``server`` (whatever PREFECT_API_URL this process has)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: server.api_url}), \
            get_client(sync_client=True) as client:
        yield client


def trigger(server: LivePrefect, name: str, parameters: dict[str, Any]) -> Any:
    """Create a run of a deployment the way the UI's Run button does (returns at once)."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: server.api_url}):
        return run_deployment(name, parameters=parameters, timeout=0)


def wait_final(server: LivePrefect, run_ids: list[Any], serve: ServeProcess,
               timeout: float = 120) -> list[Any]:
    """The runs once all are in a final state; fails at ``timeout`` or if serve exits."""
    deadline = time.monotonic() + timeout
    with prefect_client(server) as client:
        while True:
            runs = [client.read_flow_run(i) for i in run_ids]
            if all(r.state is not None and r.state.is_final() for r in runs):
                return runs
            if time.monotonic() > deadline or serve.process.poll() is not None:
                states = [(str(r.id), r.state_name) for r in runs]
                raise AssertionError(f"runs not finished: {states}\n{serve.output()}")
            time.sleep(0.5)

