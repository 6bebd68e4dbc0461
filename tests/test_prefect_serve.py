"""``muster serve`` against a real ``prefect server start``, driven through the API.

What a user does: start a server, start ``muster serve``, trigger runs (from the UI or
the API), then look at the rows in DuckDB and the run's artifacts in the UI.  Here the
runs are triggered with ``run_deployment`` and everything is checked through the same
HTTP API the UI reads.  Pages come from a local HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import pytest

from tests import prefect_live
from tests.fixtures_http import LocalHTTPServer, Route
from tests.prefect_live import (
    PAGE_NAMES,
    PAGES,
    SEED_HTML,
    LivePrefect,
    ServeProcess,
    news_site,
    prefect_client,
    trigger,
    wait_final,
)
from tests.reliability_support import query

pytestmark = pytest.mark.slow

served = prefect_live.served  # the module's `muster serve`, on this module's `site` fixture

SLOW_PAGE_SECONDS = 3.0  # long enough that a second run is proposed while the first runs


@pytest.fixture(scope="module")
def site() -> Iterator[LocalHTTPServer]:
    *pages, slow_page = PAGE_NAMES[:3]
    with news_site(["/news/slow.html"] + [f"/pages/{p}" for p in pages]) as server:
        server.add("/news/missing.html", Route(status=404, body="not here"))
        # a real page, served slowly: the feed's first item keeps the first run busy
        slow = gzip.decompress((PAGES / f"{slow_page}.gz").read_bytes())
        server.add("/news/slow.html", Route(body=slow, delay=SLOW_PAGE_SECONDS))
        yield server


def _artifacts(server: LivePrefect, flow_run_id: Any) -> dict[str, Any]:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with prefect_client(server) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a for a in found}


def test_ingest_urls_deployment_loads_rows_and_publishes_artifacts(
    live_prefect: LivePrefect, served: ServeProcess, site: LocalHTTPServer
) -> None:
    import json

    seed = site.url("/news/seed-article.html")
    missing = site.url("/news/missing.html")
    # one form field holding two pasted lines, as a user pastes them into the UI
    run = trigger(live_prefect, "muster-ingest-urls/muster-ingest-urls",
                  {"urls": [f"{seed}\n{missing}"], "label": "pasted"})
    (final,) = wait_final(live_prefect, [run.id], served)
    assert final.state_name == "Completed", served.output()

    db = served.db
    articles = query(db, "SELECT url, feed, article_id FROM articles")
    assert [(a[0], a[1]) for a in articles] == [(seed, "pasted")]
    events = query(db, "SELECT type, actor, target, location, status FROM events "
                       "WHERE article_id = ? ORDER BY char_start, type", [articles[0][2]])
    assert events, "the seed article yields events"
    # the run is recorded with its Prefect flow-run id (DuckDB row -> UI run, and back)
    runs = query(db, "SELECT run_id, flow_run_id, status, counts FROM runs")
    assert [(r[1], r[2]) for r in runs] == [(str(run.id), "completed")]
    counts = json.loads(runs[0][3])
    assert counts["articles_new"] == 1 and counts["articles_failed"] == {"http_404": 1}
    # the fetch log names the failure with its reason code
    assert query(db, "SELECT reason FROM fetch_log WHERE url = ?", [missing]) == [("http_404",)]

    arts = _artifacts(live_prefect, run.id)
    assert set(arts) == {"muster-ingest-urls-summary", "muster-ingest-urls-events"}
    summary = arts["muster-ingest-urls-summary"]
    assert summary.type == "markdown"
    assert "| articles new | 1 |" in summary.data and "http_404 | 1 |" in summary.data
    for etype in {e[0] for e in events}:
        assert f"{etype} | {sum(1 for e in events if e[0] == etype)} |" in summary.data
    # the summary points at the run's refreshed HTML report, which shows the seed's events
    report = db.with_name(f"{db.stem}.report.html")
    assert f"Report: `{report.resolve()}`" in summary.data, summary.data
    assert "Kursk" in report.read_text(encoding="utf-8")
    table = arts["muster-ingest-urls-events"]
    assert table.type == "table"
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert [(r["type"], r["actor"] or None, r["target"] or None, r["location"] or None, r["status"])
            for r in rows] == events
    assert all(r["article"].endswith(f"({seed})") for r in rows)


def test_two_pipeline_runs_queue_and_never_overlap(
    live_prefect: LivePrefect, served: ServeProcess, site: LocalHTTPServer
) -> None:
    first = trigger(live_prefect, "muster-pipeline/muster-pipeline", {"max_articles_per_feed": 5})
    second = trigger(live_prefect, "muster-pipeline/muster-pipeline", {"dry_run": False})
    runs = wait_final(live_prefect, [first.id, second.id], served)
    assert [r.state_name for r in runs] == ["Completed", "Completed"], served.output()

    with prefect_client(live_prefect) as client:
        histories = {r.id: [s.name for s in client.read_flow_run_states(r.id)] for r in runs}
    # one of them found the other running and was queued by the deployment's limit
    queued = [rid for rid, names in histories.items() if "AwaitingConcurrencySlot" in names]
    assert len(queued) == 1, histories

    # never at once: in Prefect's view and in the warehouse's own runs table
    a, b = sorted(runs, key=lambda r: r.start_time)
    assert a.end_time <= b.start_time, (a.start_time, a.end_time, b.start_time)
    rows = query(served.db, "SELECT flow_run_id, started_at, finished_at, status, counts "
                            "FROM runs WHERE flow_run_id IN (?, ?) ORDER BY started_at",
                 [str(first.id), str(second.id)])
    assert [r[3] for r in rows] == ["completed", "completed"]
    assert rows[0][2] <= rows[1][1]

    # the first run fetched the feed's three pages; the queued run,
    # starting after it, found them all stored and fetched nothing
    import json

    earlier, later = (json.loads(r[4]) for r in rows)
    assert later["articles_new"] == 0 and later["articles_unchanged"] == 3, later
    assert earlier["articles_new"] == 3, earlier
    # fundus_de_BR (German) is stored but gets no events: the rules are English
    assert earlier["articles_failed"] == {"not_english": 1}, earlier
    assert query(served.db, "SELECT run_id, outcome FROM fetch_log WHERE url = ?",
                 [site.url("/news/slow.html")]) == [(rows[0][0], "ok")]
    assert site.hits("/news/slow.html") == 1

    for run in runs:
        keys = set(_artifacts(live_prefect, run.id))
        assert keys == {"muster-pipeline-summary", "muster-pipeline-events"}, keys


def test_different_deployments_take_turns_writing(
    live_prefect: LivePrefect, served: ServeProcess, site: LocalHTTPServer
) -> None:
    """ingest-urls and reextract have separate deployment limits; the global one serialises them."""
    import json

    slow = site.add("/news/slow-ingest.html",
                    Route(body=SEED_HTML.read_bytes().replace(b"North Korea", b"Pyongyang"),
                          delay=SLOW_PAGE_SECONDS))
    ingest = trigger(live_prefect, "muster-ingest-urls/muster-ingest-urls", {"urls": [slow]})
    reex = trigger(live_prefect, "muster-reextract/muster-reextract",
                   {"types": ["attack", "agreement"]})
    runs = wait_final(live_prefect, [ingest.id, reex.id], served)
    assert [r.state_name for r in runs] == ["Completed", "Completed"], served.output()

    rows = query(served.db, "SELECT flow_run_id, started_at, finished_at, status, parameters "
                            "FROM runs WHERE flow_run_id IN (?, ?) ORDER BY started_at",
                 [str(ingest.id), str(reex.id)])
    assert [r[3] for r in rows] == ["completed", "completed"]
    assert rows[0][2] <= rows[1][1], rows  # one finished before the other started
    params = {r[0]: json.loads(r[4]) for r in rows}
    assert params[str(reex.id)]["types"] == ["agreement", "attack"]
    a, b = sorted(runs, key=lambda r: r.start_time)
    assert a.end_time is not None and b.start_time is not None

    reex_arts = _artifacts(live_prefect, reex.id)
    assert set(reex_arts) == {"muster-reextract-summary", "muster-reextract-events"}
    assert "articles considered" in reex_arts["muster-reextract-summary"].data
