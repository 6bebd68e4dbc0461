"""A real ``prefect server start`` and a real ``muster serve``, as subprocesses, for tests.

Why subprocesses and not ``prefect_test_harness``: the point of these tests is what a
user gets — the server's HTTP API and UI on a port, ``muster serve`` polling it, runs
executed in the runner's own subprocesses — and the in-process harness has none of that.

One server (session scope) is shared by every ``test_prefect_*`` module; each serve
fixture gets its own DuckDB file and feeds file pointing at a local HTTP server.
Start-up is ~6-15 s for the server and a few seconds for ``muster serve``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fixtures_http import rss  # noqa: F401  (re-exported: tests import it from here)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SEED_HTML = ROOT / "configs" / "demo" / "seed-article.html"
PAGES = ROOT / "tests" / "fixtures" / "pages"

__all__ = ["LivePrefect", "live_prefect", "start_muster_serve", "ServeProcess", "rss"]


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
    """A running Prefect server: its base URL (UI), API URL and log file."""

    url: str
    api_url: str
    home: Path
    log: Path
    process: subprocess.Popen[bytes]

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


@pytest.fixture(scope="session")
def live_prefect() -> Iterator[LivePrefect]:
    """``prefect server start`` on a free 127.0.0.1 port with a temporary PREFECT_HOME."""
    home = Path(tempfile.mkdtemp(prefix="muster-live-prefect-"))
    port = free_port()
    log = home / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # a run refused by a deployment's concurrency limit is re-proposed after this delay
        PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS="1",
        PREFECT_SERVER_API_HOST="127.0.0.1",
        PREFECT_SERVER_API_PORT=str(port),
    )
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(VENV_BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
             "--port", str(port), "--analytics-off"],
            env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=home,
        )
    server = LivePrefect(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api", home, log, proc)
    try:
        _wait_http(server.api_url + "/health", proc, log, timeout=90)
        yield server
    finally:
        _stop(proc)


@dataclass
class ServeProcess:
    """A running ``muster serve`` and the files its runs write."""

    process: subprocess.Popen[bytes]
    log: Path
    db: Path

    def output(self) -> str:
        return _tail(self.log, 20000)


def start_muster_serve(
    server: LivePrefect, workdir: Path, db: Path, feeds: Path, timeout: float = 90
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
