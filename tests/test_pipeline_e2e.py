"""The whole pipeline as a scheduled run does it: real HTTP server, real Prefect, real DuckDB.

A local RSS feed on 127.0.0.1 links the seed article (as HTML), real news pages from
``../shared/data/pages`` (via ``tests/fixtures/pages``), a page that 404s and a binary
"page"; a second feed is unreachable. The database is then checked row by row, and a
second run must change no row count.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from extractors import extract
from extractors.loader import load_ruleset
from ingest.clean import clean_html

from tests.fixtures_http import LocalHTTPServer, Route, rss

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "pages"
REAL_PAGES = sorted(p.name for p in PAGES.glob("*.html.gz"))
SEED_HTML = ROOT / "configs" / "demo" / "seed-article.html"

pytestmark = pytest.mark.slow


@pytest.fixture()
def site(http_server: LocalHTTPServer) -> LocalHTTPServer:
    http_server.serve_dir(PAGES, prefix="/pages/")
    http_server.add("/news/seed-article.html", Route(body=SEED_HTML.read_bytes()))
    http_server.add("/news/missing.html", Route(status=404, body="not here"))
    http_server.add("/news/photo.html", Route(body=b"\x89PNG\r\n\x1a\n" + bytes(2000), content_type="image/png"))
    paths = ["/news/seed-article.html", "/news/missing.html", "/news/photo.html"]
    paths += [f"/pages/{name.removesuffix('.gz')}" for name in REAL_PAGES]
    http_server.add("/feed.xml", Route(body=rss(str(http_server).rstrip("/"), paths),
                                       content_type="application/rss+xml"))
    return http_server


@pytest.fixture()
def feeds_file(tmp_path: Path, site: LocalHTTPServer) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n"
        f"  - name: local\n    url: {site.url('/feed.xml')}\n"
        "  - name: unreachable\n    url: http://127.0.0.1:9/feed.xml\n"
    )
    return path


def _table(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _counts(db: Path) -> dict[str, int]:
    return {
        t: _table(db, f"SELECT count(*) FROM {t}")[0][0]
        for t in ("articles", "events", "feeds", "runs", "fetch_log")
    }


def test_run_loads_articles_and_events_row_by_row(
    prefect_server: None, tmp_path: Path, feeds_file: Path, site: LocalHTTPServer
) -> None:
    from flows.prefect_flows import pipeline

    db = tmp_path / "muster.duckdb"
    report = pipeline(db_path=str(db), feeds_path=str(feeds_file))

    # feeds: one polled fine, the unreachable one reported with a reason, not fatal
    assert report.feeds_polled == 2
    failures = {f.feed: f.reason for f in report.feed_failures()}
    assert list(failures) == ["unreachable"] and failures["unreachable"] == "connect_error"

    # articles: the seed and every real page; the 404 and the binary page are failures
    assert report.articles_new == 1 + len(REAL_PAGES)
    # ... and the German page (fundus_de_BR) is stored but skipped by the English rules
    assert report.failed_by_reason() == {"http_404": 1, "not_html": 1, "not_english": 1}
    base = str(site).rstrip("/")
    rows = _table(db, "SELECT url, feed, title, published, text, content_hash, extractor_version "
                      "FROM articles ORDER BY url")
    expected_urls = sorted([f"{base}/news/seed-article.html"]
                           + [f"{base}/pages/{n.removesuffix('.gz')}" for n in REAL_PAGES])
    assert [r[0] for r in rows] == expected_urls
    ruleset = load_ruleset(ROOT / "configs")
    assert {r[6] for r in rows} == {ruleset.version}
    assert {r[1] for r in rows} == {"local"}
    seed = next(r for r in rows if r[0].endswith("seed-article.html"))
    assert seed[2].startswith("North Korea confirms for the first time")
    assert seed[3] == dt.date(2025, 4, 28)
    assert seed[4] == (ROOT.parent / "shared" / "seeds" / "seed-article.txt").read_text().strip()

    # every article's text is what cleaning gives for the served bytes
    import gzip
    for url, *_rest in rows:
        if "/pages/" in url:
            raw = gzip.decompress((PAGES / (url.rsplit("/", 1)[1] + ".gz")).read_bytes())
            cleaned = clean_html(raw, url).article
            assert cleaned is not None and cleaned.text == _rest[3], url

    # events: exactly what the extractor yields for each stored text, field by field
    stored = _table(db, "SELECT a.url, e.type, e.actor, e.target, e.location, e.quantity, e.unit, "
                        "e.char_start, e.char_end, e.sentence, e.rule_id FROM events e "
                        "JOIN articles a USING (article_id) ORDER BY a.url, e.char_start, e.type")
    expected = []
    german = {u for (u,) in _table(db, "SELECT url FROM articles WHERE language = 'de'")}
    assert german == {f"{base}/pages/fundus_de_BR_2024_04_22.html"}
    for url, _feed, title, published, text, _h, _v in rows:
        if url in german:  # not_english: no events
            continue
        for e in extract(text, published, ruleset, title=title):
            expected.append((url, e.type, e.actor, e.target, e.location, e.quantity, e.unit,
                             e.char_start, e.char_end, e.sentence, e.rule_id))
    assert sorted(stored, key=str) == sorted(expected, key=str)
    seed_events = [r for r in stored if r[0].endswith("seed-article.html")]
    assert ("military_deployment", "PRK", "RUS", "Kursk", 12000, "troops") in [r[1:7] for r in seed_events]
    assert any(r[1] == "weapons_unveiling" and r[2] == "PRK" and r[5] == 5000 and r[6] == "tons"
               for r in seed_events)

    # provenance: the run and every fetch are recorded with reason codes
    runs = _table(db, "SELECT run_id, flow_run_id, status FROM runs")
    assert runs == [(report.run_id, report.run_id, "completed")]
    log = dict(_table(db, "SELECT url, reason FROM fetch_log WHERE stage != 'feed' AND reason IS NOT NULL"))
    assert log == {f"{base}/news/missing.html": "http_404", f"{base}/news/photo.html": "not_html",
                   f"{base}/pages/fundus_de_BR_2024_04_22.html": "not_english"}
    assert (db.parent / "muster.snapshot.duckdb").is_file()


def test_second_run_changes_no_row_counts(
    prefect_server: None, tmp_path: Path, feeds_file: Path, site: LocalHTTPServer
) -> None:
    from flows.prefect_flows import pipeline

    db = tmp_path / "muster.duckdb"
    pipeline(db_path=str(db), feeds_path=str(feeds_file))
    first = _counts(db)
    ids = _table(db, "SELECT event_id FROM events ORDER BY event_id")
    page_hits = site.hits("/news/seed-article.html")
    report = pipeline(db_path=str(db), feeds_path=str(feeds_file))
    second = _counts(db)
    for table in ("articles", "events", "feeds"):
        assert second[table] == first[table], table
    assert second["runs"] == first["runs"] + 1
    assert _table(db, "SELECT event_id FROM events ORDER BY event_id") == ids
    assert report.articles_new == 0 and report.events_written == 0
    assert report.articles_seen_before == 1 + len(REAL_PAGES)
    assert site.hits("/news/seed-article.html") == page_hits  # stored articles are not refetched


def test_dry_run_writes_no_articles(
    prefect_server: None, tmp_path: Path, feeds_file: Path
) -> None:
    from flows.prefect_flows import pipeline

    db = tmp_path / "muster.duckdb"
    report = pipeline(db_path=str(db), feeds_path=str(feeds_file), dry_run=True)
    assert report.articles_new == 1 + len(REAL_PAGES)
    assert _table(db, "SELECT count(*) FROM articles") == [(0,)]
    assert _table(db, "SELECT count(*) FROM events") == [(0,)]
