"""The Prefect UI as a user drives it: Debian's chromium, headless, through Playwright.

Opens the muster-pipeline deployment's run form served by a real ``prefect server
start`` (with ``muster serve`` behind it), checks that every parameter is shown with
its description, changes one (max articles per feed = 1), submits, waits on the run
page for Completed, then checks DuckDB and the run's artifacts through the API.
Requests leaving 127.0.0.1 are blocked (the UI calls an analytics host on every load).
Screenshots of the form, the run page and its artifacts tab are kept under
``test-artifacts/`` (or ``$MUSTER_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import httpx
import pytest

from tests import prefect_live
from tests.fixtures_http import LocalHTTPServer
from tests.prefect_live import (
    PAGE_NAMES,
    ROOT,
    LivePrefect,
    ServeProcess,
    news_site,
)

pytestmark = pytest.mark.slow

served = prefect_live.served  # the module's `muster serve`, on this module's `site` fixture

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic",
                 "--disable-sync"]
ARTIFACTS = Path(os.environ.get("MUSTER_TEST_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture(scope="module")
def site() -> Iterator[LocalHTTPServer]:
    with news_site(["/news/seed-article.html"] + [f"/pages/{p}" for p in PAGE_NAMES[:2]]) as s:
        yield s


def _pipeline_descriptions() -> dict[str, str]:
    """What the form must show: the flow's own parameter schema (docstring Args), as the UI
    renders it (descriptions are Markdown: `tags` shows as the code text tags)."""
    from flows.prefect_flows import pipeline

    props = pipeline.parameters.model_dump()["properties"]
    return {name: prop["description"].replace("`", "") for name, prop in props.items()}


def test_custom_run_from_the_deployment_form(
    live_prefect: LivePrefect, served: ServeProcess, site: LocalHTTPServer
) -> None:
    if not CHROMIUM.is_file() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    deployment = httpx.get(
        f"{live_prefect.api_url}/deployments/name/muster-pipeline/muster-pipeline", timeout=10
    ).json()
    expected = _pipeline_descriptions()
    assert {"feeds", "max_articles_per_feed", "since", "dry_run"} <= set(expected)
    blocked: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})

            def only_local(route) -> None:  # type: ignore[no-untyped-def]
                if urlsplit(route.request.url).hostname == "127.0.0.1":
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            context.route("**/*", only_local)
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{live_prefect.url}/deployments/deployment/{deployment['id']}/run")

            # the form: every parameter with its description, as the flow declares it
            labels = page.locator(".schema-form-property__label")
            labels.first.wait_for()
            shown = {}
            for prop in page.locator(".schema-form-property").all():
                label = prop.locator(".schema-form-property__label").first.inner_text()
                name = label.split(" ")[0]
                desc = prop.locator(".schema-form-property__description")
                shown[name] = desc.first.inner_text().strip() if desc.count() else ""
            assert shown == expected, shown

            # change one parameter, as a user would: max_articles_per_feed = 1
            field = page.locator(".schema-form-property").filter(
                has=page.locator(".schema-form-property__label", has_text="max_articles_per_feed"))
            field.get_by_role("button", name="int", exact=True).click()
            number = field.locator("input").first
            number.fill("1")
            # The type switch re-renders the field: submit only once the form holds the value
            # (once, CI submitted a form the server rejected before it had settled).
            expect(number).to_have_value("1")
            page.screenshot(path=str(ARTIFACTS / "prefect-ui-run-form.png"), full_page=True)
            with page.expect_response(lambda r: r.request.method == "POST"
                                      and r.url.endswith("/create_flow_run")) as created:
                page.get_by_role("button", name="Submit").click()
            response = created.value
            assert response.status == 201, f"create_flow_run {response.status}: {response.text()}"
            run = response.json()
            assert run["parameters"]["max_articles_per_feed"] == 1, run["parameters"]

            # the run page, until the run is Completed (the UI polls the API)
            page.goto(f"{live_prefect.url}/runs/flow-run/{run['id']}")
            badge = page.locator(".state-badge").first
            badge.wait_for()
            page.locator(".state-badge", has_text="Completed").first.wait_for(timeout=120_000)
            page.screenshot(path=str(ARTIFACTS / "prefect-ui-run-page.png"), full_page=True)
            page.get_by_text("Artifacts", exact=True).first.click()
            page.get_by_text("muster-pipeline-summary").first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "prefect-ui-run-artifacts.png"), full_page=True)
            # the summary renders as a table in the UI, as an analyst reads it
            page.get_by_text("muster-pipeline-summary").first.click()
            page.get_by_text("articles new").first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "prefect-ui-run-summary.png"), full_page=True)
        finally:
            browser.close()

    # the warehouse: one article (the form's limit), its events, the run with its id
    con = duckdb.connect(str(served.db), read_only=True)
    try:
        runs = con.execute("SELECT flow_run_id, status, parameters FROM runs").fetchall()
        articles = con.execute("SELECT url, article_id FROM articles").fetchall()
        events = con.execute("SELECT count(*) FROM events WHERE article_id = ?",
                             [articles[0][1]]).fetchone()[0]
    finally:
        con.close()
    assert [(r[0], r[1]) for r in runs] == [(run["id"], "completed")], served.output()
    assert json.loads(runs[0][2])["max_articles_per_feed"] == 1
    assert [a[0] for a in articles] == [site.url("/news/seed-article.html")]
    assert events > 0

    # the run's artifacts, through the API the UI reads
    found = httpx.post(f"{live_prefect.api_url}/artifacts/filter", timeout=10, json={
        "artifacts": {"flow_run_id": {"any_": [run["id"]]}}}).json()
    by_key = {a["key"]: a for a in found}
    assert set(by_key) == {"muster-pipeline-summary", "muster-pipeline-events"}
    assert "| articles new | 1 |" in by_key["muster-pipeline-summary"]["data"]
    table = by_key["muster-pipeline-events"]["data"]
    rows = json.loads(table) if isinstance(table, str) else table
    assert len(rows) == events
    # nothing the UI asked for left 127.0.0.1 (what it tried is recorded, for the curious)
    (ARTIFACTS / "prefect-ui-blocked-requests.txt").write_text("\n".join(blocked) + "\n")
