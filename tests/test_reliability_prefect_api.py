"""The Prefect API goes away while ``muster serve`` runs, then comes back.

A real ``prefect server start`` (its own PREFECT_HOME and SQLite file, on a free port) is
killed with SIGKILL under a running ``muster serve``; serve must stay up, say in its
output that the API is unreachable and that it keeps trying, and once the server is
started again on the same port with the same database, a run of ``muster-pipeline``
triggered through the API must complete and land the feed's articles in DuckDB.

Prefect's runner takes one of two paths: its client retries a failed poll with backoff
(about a minute) and may ride a short outage out, or, after three failed polls in a row,
it gives up — which ended ``muster serve`` with a traceback before the fix
(``flows/cli_serve.py``).  With default settings either can happen (the client retries a
refused connection only once it has connected before); with
``PREFECT_CLIENT_MAX_RETRIES=0`` every poll fails at once, so the give-up path is certain
and quick: the same path as a long outage, on a shorter clock.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures_http import LocalHTTPServer, Route, rss
from tests.prefect_live import (
    LivePrefect,
    ServeProcess,
    muster_serving,
    start_prefect_server,
    stop_prefect_server,
    trigger,
    wait_final,
)
from tests.reliability_support import PAGES, REAL_PAGES, SEED_HTML, query

UNREACHABLE = "unreachable"  # in every line muster serve logs while the API is away


@pytest.fixture()
def site(http_server: LocalHTTPServer) -> LocalHTTPServer:
    """A feed of three article pages (the seed article and two real pages)."""
    http_server.add("/a/seed.html", Route(body=SEED_HTML.read_bytes()))
    paths = ["/a/seed.html"]
    for name in REAL_PAGES[:2]:
        page = gzip.decompress((PAGES / f"{name}.gz").read_bytes())
        http_server.add(f"/a/{name}", Route(body=page))
        paths.append(f"/a/{name}")
    http_server.add("/feed.xml", Route(body=rss(str(http_server), paths),
                                       content_type="application/rss+xml"))
    return http_server


def _wait_for(what: str, done: Callable[[], bool], serve: ServeProcess, timeout: float) -> None:
    """Until ``done()``; fails at ``timeout`` or as soon as ``muster serve`` exits."""
    deadline = time.monotonic() + timeout
    while not done():
        if serve.process.poll() is not None:
            raise AssertionError(f"muster serve exited ({serve.process.returncode}) while "
                                 f"waiting for {what}:\n{serve.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s:\n{serve.output()}")
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.parametrize("outage", ["default_client_retries", "no_client_retries"])
def test_prefect_api_outage_while_serving_then_recovery(
    outage: str, site: LocalHTTPServer, tmp_path: Path
) -> None:
    prefect_home = tmp_path / "prefect"
    prefect_home.mkdir()
    env = {"PREFECT_CLIENT_MAX_RETRIES": "0"} if outage == "no_client_retries" else {}
    server: LivePrefect = start_prefect_server(prefect_home)
    try:
        with muster_serving(server, site.url("/feed.xml"), tmp_path, **env) as serve:
            stop_prefect_server(server, kill=True)
            # it says so (the watcher, whichever path the runner takes)
            _wait_for("'unreachable' line", lambda: UNREACHABLE in serve.output(), serve, 60)
            if outage == "no_client_retries":  # the runner gave up: serve waits, with backoff
                _wait_for("two retries", lambda: serve.output().count("next try in") >= 2,
                          serve, 60)
                assert "next try in 1 s" in serve.output() and "next try in 2 s" in serve.output()
            assert serve.process.poll() is None, serve.output()

            server = start_prefect_server(prefect_home, port=server.port)
            _wait_for("'answers again' line", lambda: "answers again" in serve.output(), serve, 90)
            run = trigger(server, "muster-pipeline/muster-pipeline", {})
            (final,) = wait_final(server, [run.id], serve, timeout=180)
            assert final.state_name == "Completed", serve.output()
            assert serve.process.poll() is None

            db = serve.db
            articles = query(db, "SELECT url FROM articles ORDER BY url")
            assert sorted(a for (a,) in articles) == sorted(
                [site.url("/a/seed.html")] + [site.url(f"/a/{n}") for n in REAL_PAGES[:2]])
            assert query(db, "SELECT count(*) > 0 FROM events") == [(True,)]
            runs = query(db, "SELECT flow_run_id, status, counts FROM runs")
            assert [(r[0], r[1]) for r in runs] == [(str(run.id), "completed")]
            assert json.loads(runs[0][2])["articles_new"] == 3
    finally:
        stop_prefect_server(server)


class _Lines(logging.Handler):
    """The messages logged to one logger, whatever Prefect's logging set-up propagates."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_only_an_api_outage_is_waited_out() -> None:
    """The recovery loop on its own, with a stand-in for ``prefect.serve`` (no server): each
    outage — a refused connection, a 503, the runner's give-up after either, grouped as anyio
    groups them — is logged and waited out with doubling, capped delays, then the deployments
    are prepared and served again; any other error, with the API up, ends ``muster serve``."""
    import httpx

    from flows.cli_serve import outage_cause, serve_with_recovery

    request = httpx.Request("GET", "http://127.0.0.1:9/api/deployments")
    refused = httpx.ConnectError("All connection attempts failed", request=request)
    busy = httpx.HTTPStatusError("503", request=request,
                                 response=httpx.Response(503, request=request))
    gave_up = RuntimeError("Service exceeded error threshold.")
    gave_up.__context__ = refused
    outages = [refused, busy, ExceptionGroup("loops", [gave_up]),
               RuntimeError("Service exceeded error threshold.")]
    assert [outage_cause(e) for e in outages] == [refused, busy, gave_up, outages[3]]
    not_found = httpx.HTTPStatusError("404", request=request,
                                      response=httpx.Response(404, request=request))
    assert [outage_cause(e) for e in (ValueError("bad"), not_found, RuntimeError("bug"))] == [None] * 3

    served: list[tuple[str, bool]] = []
    failures = [refused, ExceptionGroup("loops", [gave_up])]

    def serve_fn(deployments: list[str], first: bool) -> None:
        served.append((deployments[0], first))
        if failures:
            raise failures.pop(0)

    down = iter(["ConnectError"] * 7 + [None] + ["ConnectError"] * 2 + [None])
    sleeps: list[float] = []
    logger, lines = logging.getLogger("prefect.muster.serve"), _Lines()
    logger.addHandler(lines)
    try:
        serve_with_recovery(lambda: ["again"], serve_fn, api_url="http://api",
                            probe=lambda: next(down), first=["first"], sleep=sleeps.append,
                            max_backoff=30)
    finally:
        logger.removeHandler(lines)
    assert served == [("first", True), ("again", False), ("again", False)]
    assert sleeps == [1, 2, 4, 8, 16, 30, 30, 1, 2]
    text = "\n".join(lines.messages)
    assert text.count("Lost the Prefect API") == 2 and text.count("next try in") == 9
    assert text.count("answers again") == 2

    def broken(deployments: list[str], first: bool) -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        serve_with_recovery(list, broken, api_url="http://api", probe=lambda: None,
                            first=["first"], sleep=sleeps.append)


def test_serve_without_a_reachable_api_stops_with_one_sentence(tmp_path: Path) -> None:
    """Nothing listens at PREFECT_API_URL when ``muster serve`` starts: most likely a wrong
    URL, so one sentence naming it (exit 2), not a traceback and not an endless wait."""
    import subprocess

    from tests.prefect_live import VENV_BIN, free_port

    port = free_port()  # bound and released: nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path), PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    done = subprocess.run([str(VENV_BIN / "muster"), "serve", "--no-schedule"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stdout + done.stderr, done.stderr
    assert f"127.0.0.1:{port}/api" in lines[0] and "prefect server start" in lines[0]
