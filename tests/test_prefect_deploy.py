"""``prefect.yaml``: ``prefect --no-prompt deploy --all`` to a process work pool, for real.

Runs the documented commands against a real ``prefect server start`` and checks what
the server then holds: the three deployments on the pool, each limited to one run at a
time with ENQUEUE, the pipeline's schedule, and the typed parameter forms (with the
descriptions the UI shows).  Then a process worker runs one muster-ingest-urls run,
to show the pull step and entry points work from a worker too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.fixtures_http import LocalHTTPServer, Route
from tests.prefect_live import ROOT, SEED_HTML, VENV_BIN, LivePrefect

pytestmark = pytest.mark.slow

NAMES = ("muster-pipeline", "muster-reextract", "muster-ingest-urls")


def _prefect(server: LivePrefect, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run([str(VENV_BIN / "prefect"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _deployment(server: LivePrefect, name: str) -> dict:
    r = httpx.get(f"{server.api_url}/deployments/name/{name}/{name}", timeout=10)
    r.raise_for_status()
    return r.json()


def _pause_and_clear(server: LivePrefect, deployment_id: str) -> None:
    """Pause a deployment's schedule and delete the runs it has already scheduled."""
    httpx.patch(f"{server.api_url}/deployments/{deployment_id}", json={"paused": True},
                timeout=10).raise_for_status()
    runs = httpx.post(f"{server.api_url}/flow_runs/filter", timeout=10, json={
        "deployments": {"id": {"any_": [deployment_id]}}}).json()
    for run in runs:
        httpx.delete(f"{server.api_url}/flow_runs/{run['id']}", timeout=10).raise_for_status()
    left = httpx.post(f"{server.api_url}/flow_runs/filter", timeout=10, json={
        "deployments": {"id": {"any_": [deployment_id]}}}).json()
    assert left == [], f"scheduled pipeline runs left: {[r['id'] for r in left]}"


def test_prefect_deploy_all_to_a_process_pool_then_a_worker_runs_it(
    live_prefect: LivePrefect, http_server: LocalHTTPServer, tmp_path: Path
) -> None:
    db = tmp_path / "muster.duckdb"
    env = live_prefect.env(PWD=str(ROOT), MUSTER_DB_PATH=str(db),
                           MUSTER_FETCH__ALLOW_HOSTS='["127.0.0.1"]')
    _prefect(live_prefect, "work-pool", "create", "muster", "--type", "process", "--overwrite",
             env=env)
    _prefect(live_prefect, "--no-prompt", "deploy", "--all", env=env)
    try:
        deployments = {name: _deployment(live_prefect, name) for name in NAMES}
        for name, dep in deployments.items():
            assert dep["work_pool_name"] == "muster", name
            assert dep["global_concurrency_limit"]["limit"] == 1, name
            assert dep["concurrency_options"]["collision_strategy"] == "ENQUEUE", name
        schedules = deployments["muster-pipeline"]["schedules"]
        assert [s["schedule"]["interval"] for s in schedules] == [1800.0]
        assert deployments["muster-reextract"]["schedules"] == []
        form = deployments["muster-pipeline"]["parameter_openapi_schema"]["properties"]
        assert form["max_articles_per_feed"]["description"].startswith("Take at most")
        assert {"format": "date", "type": "string"} in form["since"]["anyOf"]  # a date picker
        types = deployments["muster-reextract"]["parameter_openapi_schema"]["properties"]["types"]
        assert "military_deployment" in str(types)  # a pick-list of the event types

        # The pipeline's schedule (every 30 min, clock-aligned) would hand the run-once worker
        # a scheduled pipeline run whenever the test crosses :00 or :30; pause it and drop
        # the runs it already scheduled, so the worker gets exactly the run created below.
        _pause_and_clear(live_prefect, deployments["muster-pipeline"]["id"])

        # a process worker picks up a run of a prefect.yaml deployment and runs it
        http_server.add("/news/seed-article.html", Route(body=SEED_HTML.read_bytes()))
        url = http_server.url("/news/seed-article.html")
        created = httpx.post(
            f"{live_prefect.api_url}/deployments/{deployments['muster-ingest-urls']['id']}"
            "/create_flow_run", json={"parameters": {"urls": [url]}}, timeout=10)
        created.raise_for_status()
        run_id = created.json()["id"]
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [str(VENV_BIN / "prefect"), "worker", "start", "--pool", "muster", "--run-once"],
            cwd=ROOT, env=dict(env, PREFECT_WORKER_QUERY_SECONDS="1"), stdout=log,
            stderr=subprocess.STDOUT)
        try:
            worker.wait(timeout=120)
        finally:
            if worker.poll() is None:
                worker.kill()
        state = httpx.get(f"{live_prefect.api_url}/flow_runs/{run_id}", timeout=10).json()["state"]
        assert state["type"] == "COMPLETED", (tmp_path / "worker.log").read_text()[-4000:]
        con = duckdb.connect(str(db), read_only=True)
        try:
            assert con.execute("SELECT url FROM articles").fetchall() == [(url,)]
            assert con.execute("SELECT flow_run_id FROM runs").fetchall() == [(run_id,)]
        finally:
            con.close()
    finally:
        # leave the names to `muster serve` (other test modules share this server)
        for name in NAMES:
            with_id = httpx.get(f"{live_prefect.api_url}/deployments/name/{name}/{name}", timeout=10)
            if with_id.status_code == 200:
                httpx.delete(f"{live_prefect.api_url}/deployments/{with_id.json()['id']}", timeout=10)
