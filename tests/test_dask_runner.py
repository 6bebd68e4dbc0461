"""``task_runner: dask``: batches fetched, cleaned and extracted on a real Dask cluster.

A local cluster of two worker *processes* (``distributed.LocalCluster``, one thread each)
is started here and its scheduler address given in the settings, as an operator would
point Muster at an existing scheduler. The same site is then loaded twice, once with the
default runner and once through the cluster: the two databases must be equal row for row
(ids and contents; wall-clock columns aside), and the Prefect API must show that the
batches really ran as ``fetch-batch`` tasks (not silently in the flow process).
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures_http import LocalHTTPServer, Route, rss
from tests.reliability_support import (
    FAST_FETCH_ENV,
    PAGES,
    REAL_PAGES,
    SEED_HTML,
    db_state,
    frozen_configs,
    run_flow,
    write_feeds,
)

pytestmark = pytest.mark.slow

BATCH = 2


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A local 2-worker process cluster for the module; yields its scheduler address."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _site(server: LocalHTTPServer) -> list[str]:
    """The seed article, the real fixture pages, a 404, and the seed again under a second URL
    (same ``rel=canonical``: one article)."""
    server.add("/a/seed.html", Route(body=SEED_HTML.read_bytes()))
    server.add("/a/seed-copy.html", Route(body=SEED_HTML.read_bytes()))
    server.add("/a/missing.html", Route(status=404, body="gone"))
    paths = ["/a/seed.html", "/a/missing.html"]
    for name in REAL_PAGES:
        server.add(f"/a/{name}", Route(body=gzip.decompress((PAGES / f"{name}.gz").read_bytes())))
        paths.append(f"/a/{name}")
    paths.append("/a/seed-copy.html")
    server.add("/feed.xml", Route(body=rss(str(server), paths), content_type="application/rss+xml"))
    return paths


def _task_run_names(flow_run_id: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(flow_run_id)])))
    return sorted(r.name.rsplit("-", 1)[0] for r in runs if r.state and r.state.is_completed())


def test_dask_cluster_loads_the_same_database_as_the_default_runner(
    prefect_server: None, scheduler: str, http_server: LocalHTTPServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = _site(http_server)
    feeds = write_feeds(tmp_path / "feeds.yaml", {"local": http_server.url("/feed.xml")})
    configs = frozen_configs(tmp_path / "configs")  # both runs: the same rules
    env = {**FAST_FETCH_ENV, "MUSTER_BATCH_SIZE": str(BATCH),
           "MUSTER_FETCH__MIN_HOST_DELAY": "0", "MUSTER_CONFIGS_DIR": str(configs)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    default = run_flow(tmp_path / "default.duckdb", feeds)
    monkeypatch.setenv("MUSTER_TASK_RUNNER", "dask")
    monkeypatch.setenv("MUSTER_DASK_ADDRESS", scheduler)
    on_dask = run_flow(tmp_path / "dask.duckdb", feeds)

    expected = db_state(tmp_path / "default.duckdb")
    assert len(expected["articles"]) == len(paths) - 2 and expected["events"]  # 404, seed twice
    assert db_state(tmp_path / "dask.duckdb") == expected
    assert on_dask.as_counts() | {"host_delays": {}} == default.as_counts() | {"host_delays": {}}
    assert on_dask.failed_by_reason()["http_404"] == 1 and on_dask.articles_new == len(paths) - 2
    batches = -(-len(paths) // BATCH)
    assert _task_run_names(on_dask.run_id).count("fetch-batch") == batches
    assert "process-batch" not in _task_run_names(on_dask.run_id)
    assert _task_run_names(default.run_id).count("load-batch") == batches
