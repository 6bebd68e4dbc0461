"""Network faults through the whole pipeline (real Prefect flow, real HTTP, real DuckDB).

One feed links pages that fail in every way the web fails: 500 then recovery, 503 with
Retry-After, 429, a server that stays down (and comes back before the next run), a
connection reset in the middle of a body, a slow-loris that trickles bytes forever, an
unresolvable host, and a redirect loop. The feed itself first answers 503. A second feed
lives on a host that does not resolve.

Proof: every failure is in ``fetch_log`` with its reason code, the run completes, the
next runs fetch what recovered, and a run over the same state changes no row: the data is
exactly what a clean run over the pages that work produces.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures_http import LocalHTTPServer, Route, rss
from tests.reliability_support import (
    ENGLISH_PAGES,
    FAST_FETCH_ENV,
    PAGES,
    SEED_HTML,
    RawServer,
    db_state,
    query,
    reset_mid_body,
    run_flow,
    slow_loris,
    write_feeds,
)

pytestmark = pytest.mark.slow

DNS_FAIL = "http://muster-reliability.invalid/article.html"


@pytest.fixture()
def fast_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_FETCH_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture()
def raw_servers() -> Iterator[tuple[RawServer, RawServer]]:
    reset, loris = RawServer(reset_mid_body), RawServer(slow_loris)
    try:
        yield reset, loris
    finally:
        reset.stop()
        loris.stop()


def _page(i: int) -> bytes:
    return gzip.decompress((PAGES / (ENGLISH_PAGES[i] + ".gz")).read_bytes())


def test_server_faults_are_logged_and_recovered_without_duplicates(
    prefect_server: None, fast_fetch: None, tmp_path: Path, http_server: LocalHTTPServer,
    raw_servers: tuple[RawServer, RawServer], monkeypatch: pytest.MonkeyPatch,
) -> None:
    reset, loris = raw_servers
    site = http_server
    # The raw servers are other ports of 127.0.0.1: allowed explicitly past the SSRF guard,
    # and robots.txt is not asked for, so each request they see is a page fetch.
    monkeypatch.setenv("MUSTER_FETCH__ALLOW_HOSTS",
                       f'["127.0.0.1:{reset.port}", "127.0.0.1:{loris.port}"]')
    monkeypatch.setenv("MUSTER_FETCH__OBEY_ROBOTS", "false")
    seed = SEED_HTML.read_bytes()
    site.add("/a/flaky500", [Route(status=500), Route(body=seed)])
    site.add("/a/busy503", [Route(status=503, headers={"Retry-After": "1"}), Route(body=_page(0))])
    site.add("/a/rate429", [Route(status=429, headers={"Retry-After": "1"}), Route(body=_page(1))])
    site.add("/a/down", Route(status=502))
    site.add("/a/loop", Route(status=302, headers={"Location": "/a/loop"}))
    good = [site.url(p) for p in ("/a/flaky500", "/a/busy503", "/a/rate429")]
    bad = {site.url("/a/down"): "http_5xx", reset.url("/reset.html"): "network_error",
           loris.url("/loris.html"): "timeout", DNS_FAIL: "connect_error",
           site.url("/a/loop"): "too_many_redirects"}
    # The feed supports conditional GET: the page that fails now must still be retried later.
    site.add("/feed.xml", [Route(status=503, headers={"Retry-After": "0"}),
                           Route(body=rss(str(site), good + list(bad)),
                                 content_type="application/rss+xml",
                                 etag='"v1"')])
    feeds = write_feeds(tmp_path / "feeds.yaml", {
        "local": site.url("/feed.xml"), "nowhere": "http://feeds.muster-reliability.invalid/rss"})
    db = tmp_path / "muster.duckdb"

    report = run_flow(db, feeds)
    assert report.articles_new == 3
    assert {f.feed: f.reason for f in report.feed_failures()} == {"nowhere": "connect_error"}
    assert site.hits("/feed.xml") == 2  # the feed's 503 was retried
    for path in ("/a/flaky500", "/a/busy503", "/a/rate429"):
        assert site.hits(path) == 2, path  # one failure, one success: no extra request
    assert reset.hits == 2 and loris.hits == 2  # transient: retried once (retries=1), then given up
    log = query(db, "SELECT url, stage, outcome, reason FROM fetch_log ORDER BY url")
    page_reasons = {u: r for u, s, _o, r in log if s != "feed"}
    assert page_reasons == {**{u: None for u in good}, **bad}
    assert ("http://feeds.muster-reliability.invalid/rss", "feed", "error", "connect_error") in log
    assert query(db, "SELECT status FROM runs") == [("completed",)]
    stored = {r[0] for r in query(db, "SELECT url FROM articles")}
    assert stored == set(good)

    # The server that was down comes back: the next run fetches it, and only it.
    site.add("/a/down", Route(body=_page(2)))
    report = run_flow(db, feeds)
    assert (report.articles_new, report.articles_seen_before) == (1, 3)
    assert {r[0] for r in query(db, "SELECT url FROM articles")} == set(good) | {site.url("/a/down")}
    assert site.hits("/a/flaky500") == 2  # stored articles are not fetched again
    after_recovery = db_state(db)

    # A third run over the same state writes no article or event and duplicates nothing.
    report = run_flow(db, feeds)
    assert (report.articles_new, report.articles_updated, report.events_written) == (0, 0, 0)
    assert db_state(db) == after_recovery
    assert query(db, "SELECT count(*), count(DISTINCT url) FROM articles")[0] == (4, 4)
    assert query(db, "SELECT count(*) = count(DISTINCT event_id) FROM events") == [(True,)]
    per_run = query(db, "SELECT run_id, count(*) FROM fetch_log WHERE url = ? GROUP BY run_id",
                    [DNS_FAIL])
    assert [n for _r, n in per_run] == [1, 1, 1]  # still failing: one log row per run, no more

    # Nothing lost: the same as one clean run over the four pages that work.
    clean = tmp_path / "clean.duckdb"
    site.add("/clean.xml", Route(body=rss(str(site), [*good, site.url("/a/down")]),
                                 content_type="application/rss+xml"))
    run_flow(clean, write_feeds(tmp_path / "clean.yaml", {"local": site.url("/clean.xml")}))
    for table in ("articles", "events"):
        assert db_state(clean)[table] == after_recovery[table], table
