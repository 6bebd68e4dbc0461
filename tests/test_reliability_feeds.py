"""Hostile and broken feeds: every file of the shared feed corpora, and XML attacks.

All of ``../shared/data/feeds/feedparser/`` (about 2,100 ill-formed, odd-encoded and
entity-laden feeds) and ``feed-rs/`` are served over HTTP and polled in one loop, the way a
run polls a remote feed; failures are collected and reported together. Then XML attacks
(external entities, billion laughs, quadratic blow-up, huge attributes, deep nesting) in
RSS, Atom and sitemaps.

Proof: no poll raises; each ends with items or a reason code; no item ever carries a
local file's content or an expanded entity; no external entity or DTD is ever fetched.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ingest.feeds import FeedConfig
from ingest.fetch import FetchLimits, make_client
from ingest.poll import FeedPoll, poll_feed
from tests.fixtures_http import LocalHTTPServer, Route

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"
CORPUS = sorted(p for d in ("feedparser", "feed-rs") if (FEEDS / d).is_dir()
                for p in (FEEDS / d).rglob("*") if p.is_file() and p.suffix in (".xml", ".json"))
OK_REASONS = {None, "feed_parse_error", "binary", "too_large", "not_html"}
LIMITS = FetchLimits(retries=0, connect_timeout=2, read_timeout=5, total_timeout=10,
                     obey_robots=False)
PASSWD_MARK = "root:"  # /etc/passwd's first line, if an entity ever read it


def _poll_all(feeds: list[FeedConfig], limits: FetchLimits = LIMITS) -> list[FeedPoll | BaseException]:
    async def go() -> list[FeedPoll | BaseException]:
        gate = asyncio.Semaphore(16)
        async with make_client(limits) as client:
            async def one(feed: FeedConfig) -> FeedPoll:
                async with gate:
                    return await poll_feed(client, feed, limits=limits)
            return list(await asyncio.gather(*(one(f) for f in feeds), return_exceptions=True))

    return asyncio.run(go())


def _problems(name: str, res: FeedPoll | BaseException) -> list[str]:
    if isinstance(res, BaseException):
        return [f"{name}: raised {type(res).__name__}: {res}"]
    out = []
    if res.error not in OK_REASONS:
        out.append(f"{name}: unexpected reason {res.error} ({res.detail})")
    for item in res.items:
        if item.url.split(":", 1)[0] not in ("http", "https"):
            out.append(f"{name}: non-http item {item.url[:80]}")
        if PASSWD_MARK in item.url or PASSWD_MARK in (item.title or ""):
            out.append(f"{name}: local file content in an item")
    return out


@pytest.mark.skipif(not CORPUS, reason="shared feed corpora not available")
def test_every_corpus_feed_is_parsed_or_rejected(http_server: LocalHTTPServer) -> None:
    http_server.serve_dir(FEEDS, "/corpus/")
    feeds = [FeedConfig(name=f"c{i}", url=http_server.url("/corpus/" + str(p.relative_to(FEEDS))))
             for i, p in enumerate(CORPUS)]
    results = _poll_all(feeds)
    problems = [msg for p, r in zip(CORPUS, results, strict=True)
                for msg in _problems(str(p.relative_to(FEEDS)), r)]
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:50])
    parsed = sum(1 for r in results if isinstance(r, FeedPoll) and r.error is None)
    assert len(results) > 2000 and parsed >= 0.6 * len(results), (parsed, len(results))


def _attacks(dtd_url: str) -> dict[str, tuple[str, str]]:
    """name -> (content type, body). ``dtd_url`` must never be requested."""
    laughs = ('<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefgh", "bcdefghi")))
    quadratic = '<!ENTITY q "' + "Q" * 100_000 + '">'
    rss_item = '<item><title>{t}</title><link>https://example.org/{l}</link></item>'

    def rss(dtd: str, title: str, link: str, extra: str = "") -> str:
        return (f'<?xml version="1.0"?><!DOCTYPE rss [{dtd}]><rss version="2.0"{extra}>'
                f'<channel><title>t</title><link>https://example.org/</link>'
                f'{rss_item.format(t=title, l=link)}</channel></rss>')

    def atom(dtd: str, title: str) -> str:
        return (f'<?xml version="1.0"?><!DOCTYPE feed [{dtd}]><feed xmlns="http://www.w3.org/2005/Atom">'
                f'<title>t</title><id>https://example.org/</id><updated>2025-01-01T00:00:00Z</updated>'
                f'<entry><title>{title}</title><id>https://example.org/a</id>'
                f'<link href="https://example.org/a"/><updated>2025-01-01T00:00:00Z</updated></entry></feed>')

    def sitemap(dtd: str, loc: str, attr: str = "") -> str:
        return (f'<?xml version="1.0"?><!DOCTYPE urlset [{dtd}]>'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{attr}>'
                f'<url><loc>https://example.org/{loc}</loc></url></urlset>')

    xxe_file = '<!ENTITY x SYSTEM "file:///etc/passwd">'
    xxe_http = f'<!ENTITY x SYSTEM "{dtd_url}">'
    xxe_param = f'<!ENTITY % p SYSTEM "{dtd_url}"> %p;'
    deep = "<x>" * 100_000 + "</x>" * 100_000
    huge = ' data-x="' + "A" * 5_000_000 + '"'
    rss_t, xml_t = "application/rss+xml", "application/xml"
    return {
        "rss-xxe-file": (rss_t, rss(xxe_file, "&x;", "&x;")),
        "rss-xxe-http": (rss_t, rss(xxe_http, "&x;", "a")),
        "rss-xxe-parameter-entity": (rss_t, rss(xxe_param, "t", "a")),
        "rss-billion-laughs": (rss_t, rss(laughs, "&i;", "&i;")),
        "rss-quadratic-blowup": (rss_t, rss(quadratic, "&q;" * 1000, "a")),
        "rss-huge-attribute": (rss_t, rss("", "t", "a", huge)),
        "rss-deep-nesting": (rss_t, rss("", "t" + deep, "a")),
        "atom-xxe-file": ("application/atom+xml", atom(xxe_file, "&x;")),
        "atom-billion-laughs": ("application/atom+xml", atom(laughs, "&i;")),
        "sitemap-xxe-file": (xml_t, sitemap(xxe_file, "&x;")),
        "sitemap-xxe-http": (xml_t, sitemap(xxe_http, "&x;")),
        "sitemap-xxe-parameter-entity": (xml_t, sitemap(xxe_param, "a")),
        "sitemap-billion-laughs": (xml_t, sitemap(laughs, "&i;")),
        "sitemap-quadratic-blowup": (xml_t, sitemap(quadratic, "&q;" * 1000)),
        "sitemap-huge-attribute": (xml_t, sitemap("", "a", huge)),
        "sitemap-deep-nesting": (xml_t, sitemap("", "a" + deep)),
        "sitemap-over-max-bytes": (xml_t, sitemap("", "a", ' x="' + "A" * 11_000_000 + '"')),
    }


ATTACKS = sorted(_attacks("http://x/").keys())


@pytest.fixture(scope="module")
def attack_results() -> dict[str, tuple[FeedPoll | BaseException, int]]:
    from tests.fixtures_http import start_server

    server = start_server()
    try:
        server.add("/evil.dtd", Route(body='<!ENTITY x "EXPANDED">', content_type="application/xml-dtd"))
        attacks = _attacks(server.url("/evil.dtd"))
        feeds = []
        for name, (ctype, body) in attacks.items():
            server.add(f"/{name}.xml", Route(body=body, content_type=ctype))
            kind = "sitemap" if name.startswith("sitemap") else "auto"
            feeds.append(FeedConfig(name=name, url=server.url(f"/{name}.xml"), kind=kind))
        results = _poll_all(feeds)
        return {n: (r, server.hits("/evil.dtd")) for n, r in zip(attacks, results, strict=True)}
    finally:
        server.stop()


@pytest.mark.parametrize("name", ATTACKS)
def test_xml_attack_is_inert(name: str, attack_results: dict) -> None:
    res, dtd_hits = attack_results[name]
    assert not _problems(name, res)
    assert dtd_hits == 0, "an external entity or DTD was fetched"
    for item in res.items:
        assert "EXPANDED" not in item.url and "EXPANDED" not in (item.title or "")
        assert len(item.url) < 2000 and len(item.title or "") < 100_000  # no entity expansion
    if name.endswith("over-max-bytes"):
        assert res.error == "too_large"
