"""Issue 4 end to end: the pipeline (and ``muster run``) against real servers on 127.0.0.1.

One site serves two feeds (one with ``poll_interval``), a disabled feed, robots.txt with a
Disallow and a Crawl-delay, an article, the same article at a second URL, a page with no
text, a gzip bomb, a filtered-out section, and links to a second local server and to the
cloud-metadata address. Two runs are checked through the report, the server's hit counts
and the warehouse tables.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from tests.fixtures_http import LocalHTTPServer, Route, rss, start_server

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "configs" / "demo" / "seed-article.html").read_text(encoding="utf-8")
# The same article twice with different markup and no rel=canonical: only the text matches.
ARTICLE = "\n".join(line for line in SEED.splitlines() if 'rel="canonical"' not in line)
PRINT_VERSION = ARTICLE.replace("<title>", "<title>Print: ").replace("<body>", "<body><!-- p -->")
EMPTY = "<html><head><title>x</title></head><body><p>Subscribe.</p></body></html>"

pytestmark = pytest.mark.slow


def _rss(base: str, links: list[str]) -> str:
    """The shared feed builder, with undated items (the dates here come from the pages)."""
    return rss(base, links, published=None)


@pytest.fixture()
def other():
    server = start_server()
    other_page = server.add("/internal.html", Route(body=ARTICLE))
    try:
        yield server, other_page
    finally:
        server.stop()


@pytest.fixture()
def site(http_server: LocalHTTPServer, other) -> LocalHTTPServer:
    _server, internal = other
    s = http_server
    base = str(s).rstrip("/")
    s.add("/robots.txt", Route(body="User-agent: *\nDisallow: /private/\nCrawl-delay: 0.05\n",
                               content_type="text/plain"))
    s.add("/news/article.html", Route(body=ARTICLE, etag='"a1"'))
    s.add("/news/print.html", Route(body=PRINT_VERSION, etag='"p1"'))
    s.add("/news/empty.html", Route(body=EMPTY, etag='"e1"'))
    s.add("/news/bomb.html", Route(body=gzip.compress(b" " * 3_000_000),
                                   headers={"Content-Encoding": "gzip"}))
    s.add("/private/secret.html", Route(body=ARTICLE))
    s.add("/sport/match.html", Route(body=ARTICLE))
    links = ["/news/article.html", "/news/print.html", "/news/empty.html", "/news/bomb.html",
             "/private/secret.html", "/sport/match.html", internal,
             "http://169.254.169.254/latest/meta-data/"]
    s.add("/feed.xml", Route(body=_rss(base, links), content_type="application/rss+xml"))
    s.add("/hourly.xml", Route(body=_rss(base, ["/news/article.html"]),
                               content_type="application/rss+xml"))
    s.add("/off.xml", Route(body=_rss(base, ["/news/off.html"]), content_type="application/rss+xml"))
    return s


@pytest.fixture()
def feeds_file(tmp_path: Path, site: LocalHTTPServer) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n"
        f"  - name: main\n    url: {site.url('/feed.xml')}\n"
        "    tags: [world, test]\n    language: en\n    exclude: ['/sport/']\n"
        f"  - name: hourly\n    url: {site.url('/hourly.xml')}\n    poll_interval: 1h\n"
        f"  - name: switched-off\n    url: {site.url('/off.xml')}\n    enabled: false\n"
    )
    return path


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_two_runs_politeness_ssrf_dedup_and_conditional_pages(
    prefect_server: None, tmp_path: Path, feeds_file: Path, site: LocalHTTPServer, other,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows.prefect_flows import pipeline

    other_server, _ = other
    monkeypatch.setenv("MUSTER_FETCH__MAX_DECODED_BYTES", "1000000")
    db = tmp_path / "m.duckdb"
    host = str(site).removeprefix("http://")
    report = pipeline(db_path=str(db), feeds_path=str(feeds_file))

    assert report.feeds_polled == 2 and report.feeds_skipped == 0  # the disabled one is not
    assert site.hits("/off.xml") == 0
    assert report.items_filtered == 1 and site.hits("/sport/match.html") == 0
    assert report.articles_new == 1
    assert report.failed_by_reason() == {
        "duplicate_content": 1, "no_text": 1, "too_large": 1, "robots_disallowed": 1,
        "blocked_url": 2,
    }
    # robots.txt: read once for the feeds (polled under it too) and once for the pages' batch
    assert site.hits("/private/secret.html") == 0 and site.hits("/robots.txt") == 2
    assert other_server.hits("/internal.html") == 0 and other_server.hits("/robots.txt") == 0
    # the article was listed by two feeds but fetched once
    assert site.hits("/news/article.html") == 1
    assert report.host_delays == {host: 0.05}
    assert json.loads(_rows(db, "SELECT counts FROM runs")[0][0])["host_delays"] == {host: 0.05}
    (stored,) = _rows(db, "SELECT url, feed, language FROM articles")
    assert stored == (site.url("/news/article.html"), "main", "en")
    log = dict(_rows(db, "SELECT url, reason FROM fetch_log WHERE stage != 'feed' "
                         "AND reason IS NOT NULL"))
    assert log[site.url("/news/print.html")] == "duplicate_content"
    assert log[site.url("/private/secret.html")] == "robots_disallowed"
    assert log["http://169.254.169.254/latest/meta-data/"] == "blocked_url"
    assert _rows(db, "SELECT name, tags, language FROM feed_config ORDER BY name") == [
        ("hourly", [], None), ("main", ["world", "test"], "en")]
    states = dict(_rows(db, "SELECT url, etag FROM url_state"))
    assert states[site.url("/news/print.html")] == '"p1"'

    # second run: "hourly" is not due; stored articles are refetched (refetch_after=0),
    # and every page that sent an ETag answers 304.
    monkeypatch.setenv("MUSTER_REFETCH_AFTER", "0")
    second = pipeline(db_path=str(db), feeds_path=str(feeds_file))
    assert second.feeds_skipped == 1 and site.hits("/hourly.xml") == 1
    assert second.feeds_polled == 1
    assert second.pages_not_modified == 3 and second.articles_new == 0
    for path in ("/news/article.html", "/news/print.html", "/news/empty.html"):
        assert site.hits(path) == 2, path
        last = [r for r in site.requests if r.path == path][-1]
        assert last.headers.get("If-None-Match"), path
    assert site.hits("/private/secret.html") == 0 and other_server.hits("/internal.html") == 0
    assert _rows(db, "SELECT count(*) FROM articles") == [(1,)]
    skipped = _rows(db, "SELECT feed, outcome, reason FROM fetch_log WHERE run_id = "
                        f"'{second.run_id}' AND stage = 'feed' AND outcome = 'skipped'")
    assert skipped == [("hourly", "skipped", "poll_interval")]
    not_modified = _rows(db, "SELECT count(*) FROM fetch_log WHERE run_id = "
                             f"'{second.run_id}' AND outcome = 'not_modified' AND stage = 'page'")
    assert not_modified == [(3,)]


def test_muster_run_discovers_the_feed_of_a_home_page(
    prefect_server: None, tmp_path: Path, http_server: LocalHTTPServer
) -> None:
    """``muster run`` with a site's home page as the feed URL; the second run costs a 304."""
    from typer.testing import CliRunner

    from flows.cli import app

    base = str(http_server).rstrip("/")
    http_server.add("/", Route(body='<html><head><link rel="alternate" '
                                    'type="application/rss+xml" href="/rss"></head>'
                                    "<body>home</body></html>"))
    http_server.add("/rss", Route(body=_rss(base, ["/a.html"]), etag='"r1"',
                                  content_type="application/rss+xml"))
    http_server.add("/a.html", Route(body=ARTICLE))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - name: site\n    url: {http_server.url('/')}\n")
    db = tmp_path / "m.duckdb"
    runner = CliRunner()
    first = runner.invoke(app, ["run", "--feeds", str(feeds), "--db", str(db)])
    assert first.exit_code == 0, first.output
    assert _rows(db, "SELECT url FROM articles") == [(f"{base}/a.html",)]
    assert _rows(db, "SELECT discovered_feed FROM url_state WHERE url = ?"
                 .replace("?", f"'{http_server.url('/')}'")) == [(f"{base}/rss",)]
    second = runner.invoke(app, ["run", "--feeds", str(feeds), "--db", str(db)])
    assert second.exit_code == 0, second.output
    assert http_server.hits("/") == 1 and http_server.hits("/rss") == 2
    assert http_server.requests[-1].headers.get("If-None-Match") == '"r1"'
    assert "unchanged (304)" in second.output
