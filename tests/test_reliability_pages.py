"""Hostile pages and hostile links through the whole pipeline (real Prefect, HTTP, DuckDB).

Pages: 50 MB bodies (with and without Content-Length), a gzip bomb, 100,000 nested divs,
binary served as text/html, a wrong charset, no charset, an empty body, a page that is only
navigation. Links: ``file:``, ``javascript:``, ``data:``, ``ftp:`` and private addresses
(127.0.0.0/8, 10.0.0.0/8, 169.254.169.254), directly, via a redirect and via a DNS name,
from a feed that is not on the target host.

Proof: the run completes; each hostile page is in ``fetch_log`` with its reason code and
not in ``articles``; the good pages are stored exactly once; a second run changes nothing;
no request ever reaches the private "secret" server.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures_http import LocalHTTPServer, Route, rss
from tests.reliability_support import (
    FAST_FETCH_ENV,
    SEED_HTML,
    RawServer,
    db_state,
    query,
    run_flow,
    secret,
    write_feeds,
)

pytestmark = pytest.mark.slow

GERMAN = ("Der Bürgermeister äußerte sich am Montag über die Straßenbahn und die neue Brücke "
          "am Fluss. Die Bürger der Stadt müssen sich auf längere Fahrzeiten einstellen. ") * 4


def _article(lang: str, text: str, canon: str) -> str:
    return (f'<html lang="{lang}"><head><title>{canon}</title>'
            f'<link rel="canonical" href="https://news.example/{canon}"></head>'
            f"<body><article><h1>{canon}</h1><p>{text}</p></article></body></html>")


@pytest.fixture()
def fast_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_FETCH_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MUSTER_FETCH__TOTAL_TIMEOUT", "10")


def test_hostile_pages_are_refused_or_cleaned_never_crash(
    prefect_server: None, fast_fetch: None, tmp_path: Path, http_server: LocalHTTPServer
) -> None:
    site = http_server
    big = b"<html><body><p>" + b"x" * (1024 * 1024)
    nested = ("<html><body>" + "<div>" * 100_000 + "<p>deep</p>" + "</div>" * 100_000
              + "</body></html>")
    nav = ("<html><body><nav><ul>" + "".join(f'<li><a href="/s{i}">Section {i}</a></li>'
                                              for i in range(200)) + "</ul></nav></body></html>")
    pages = {
        "/p/seed.html": (Route(body=SEED_HTML.read_bytes()), None),
        "/p/wrong-charset.html": (Route(body=_article("de", GERMAN, "wrong").encode("latin-1"),
                                        content_type="text/html; charset=utf-8"), "not_english"),
        "/p/no-charset.html": (Route(body=_article("de", GERMAN, "none").encode("cp1252"),
                                     content_type="text/html"), "not_english"),
        "/p/50mb.html": (Route(body=big, repeat_body=50), "too_large"),
        "/p/50mb-streamed.html": (Route(body=big, repeat_body=50, omit_length=True), "too_large"),
        "/p/gzip-bomb.html": (Route(body=gzip.compress(b"<html>" + b"a" * 60_000_000),
                                    headers={"Content-Encoding": "gzip"}), "too_large"),
        "/p/binary.html": (Route(body=b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40), "binary"),
        "/p/empty.html": (Route(body=b""), "empty_body"),
        "/p/nav-only.html": (Route(body=nav), "no_text"),
        "/p/nested.html": (Route(body=nested), "*"),
    }
    for path, (route, _reason) in pages.items():
        site.add(path, route)
    site.add("/feed.xml", Route(body=rss(str(site), [site.url(p) for p in pages]),
                                content_type="application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.yaml", {"local": site.url("/feed.xml")})
    db = tmp_path / "muster.duckdb"

    report = run_flow(db, feeds)
    assert query(db, "SELECT status FROM runs") == [("completed",)]
    reasons = dict(query(db, "SELECT url, reason FROM fetch_log WHERE stage != 'feed'"))
    stored = {r[0] for r in query(db, "SELECT url FROM articles")}
    for path, (_route, reason) in pages.items():
        url = site.url(path)
        if reason in (None, "not_english"):  # stored (German: stored, not extracted)
            assert url in stored and reasons[url] == reason, (path, reasons.get(url))
        elif reason == "*":  # deep nesting: cleaned or refused, either way a value, no crash
            assert (url in stored) != (reasons[url] is not None), (path, reasons[url])
        else:
            assert url not in stored and reasons[url] == reason, (path, reasons.get(url))
    texts = dict(query(db, "SELECT url, text FROM articles"))
    for path in ("/p/wrong-charset.html", "/p/no-charset.html"):
        assert "Bürgermeister" in texts[site.url(path)] and "\ufffd" not in texts[site.url(path)]
    assert report.articles_new == len(stored)

    before = db_state(db)
    again = run_flow(db, feeds)
    assert (again.articles_new, again.events_written) == (0, 0)
    assert db_state(db) == before


@pytest.fixture()
def secret_servers() -> Iterator[tuple[RawServer, RawServer]]:
    """Private services an SSRF would reach: 127.0.0.2 and another port of 127.0.0.1."""
    other_ip, other_port = RawServer(secret, host="127.0.0.2"), RawServer(secret)
    try:
        yield other_ip, other_port
    finally:
        other_ip.stop()
        other_port.stop()


def test_links_to_local_schemes_and_private_hosts_are_never_fetched(
    prefect_server: None, fast_fetch: None, tmp_path: Path, http_server: LocalHTTPServer,
    secret_servers: tuple[RawServer, RawServer],
) -> None:
    site = http_server
    other_ip, other_port = secret_servers
    site.add("/p/seed.html", Route(body=SEED_HTML.read_bytes()))
    site.add("/r/to-127-0-0-2", Route(status=302, headers={"Location": other_ip.url("/secret")}))
    site.add("/r/to-localhost", Route(status=302, headers={
        "Location": f"http://localhost:{other_port.port}/secret"}))
    site.add("/r/to-metadata", Route(status=301, headers={
        "Location": "http://169.254.169.254/latest/meta-data/"}))
    site.add("/r/to-file", Route(status=302, headers={"Location": "file:///etc/passwd"}))
    dropped = ["file:///etc/passwd", "javascript:alert(document.cookie)",
               "data:text/html;base64,PGgxPmhpPC9oMT4=", f"ftp://127.0.0.1:{other_port.port}/x"]
    blocked = {
        other_ip.url("/secret"): "blocked_url",
        other_port.url("/secret"): "blocked_url",
        f"http://localhost:{other_port.port}/secret": "blocked_url",
        "http://10.0.0.1/admin": "blocked_url",
        "http://169.254.169.254/latest/meta-data/": "blocked_url",
        f"http://[::ffff:127.0.0.2]:{other_ip.port}/secret": "blocked_url",
        site.url("/r/to-127-0-0-2"): "blocked_url",
        site.url("/r/to-localhost"): "blocked_url",
        site.url("/r/to-metadata"): "blocked_url",
        site.url("/r/to-file"): "bad_redirect",
    }
    site.add("/feed.xml", Route(body=rss(str(site), [site.url("/p/seed.html"), *dropped,
                                                     *blocked]),
                                content_type="application/rss+xml"))
    feeds = write_feeds(tmp_path / "feeds.yaml", {"local": site.url("/feed.xml")})
    db = tmp_path / "muster.duckdb"

    run_flow(db, feeds)
    assert other_ip.hits == 0 and other_port.hits == 0, "a private service was reached"
    assert [r[0] for r in query(db, "SELECT url FROM articles")] == [site.url("/p/seed.html")]
    assert not query(db, "SELECT url FROM articles WHERE text LIKE '%SECRET%' OR text LIKE '%root:%'")
    logged = dict(query(db, "SELECT url, reason FROM fetch_log WHERE stage != 'feed'"))
    assert not any(u in logged for u in dropped)  # never even planned
    for url, reason in blocked.items():
        got = logged.get(url) or logged.get(url.replace("[::ffff:127.0.0.2]", "[::ffff:7f00:2]"))
        assert got in (reason, "blocked_url", "bad_redirect"), (url, got)
