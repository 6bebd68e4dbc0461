"""SSRF rules: links from a feed may only reach public hosts, the feed's own host:port or
allow-listed hosts, checked after DNS resolution and on every redirect hop.

Two real servers on 127.0.0.1 (different ports) play "the feed's site" and "some other
internal service"; nothing may reach the second unless it is allow-listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from ingest.crawl import PageRequest, crawl
from ingest.feeds import FeedConfig
from ingest.fetch import FetchLimits, fetch_page, make_client
from ingest.guard import UrlGuard, origin_of
from ingest.poll import poll_feed
from tests.fixtures_http import LocalHTTPServer, Route, start_server

FAST = FetchLimits(backoff_base=0.01, connect_timeout=2, read_timeout=2, total_timeout=5,
                   retries=0)
HTML = "<html><head><title>T</title></head><body><p>Hello.</p></body></html>"


@pytest.fixture()
def other() -> Iterator[LocalHTTPServer]:
    """A second server: same IP, different port = a different host for the guard."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def check(guard: UrlGuard, url: str) -> str | None:
    return asyncio.run(guard.check(url))


def test_guard_rules() -> None:
    guard = UrlGuard.for_origin("127.0.0.1:8000", allow_hosts=["intranet.test", "10.1.2.3:8080"])
    assert check(guard, "http://127.0.0.1:8000/a") is None  # the feed's own host:port
    for url in (
        "http://127.0.0.1:9000/a",  # same IP, other port
        "http://127.0.0.2:8000/a",  # other loopback address
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]:8000/",
        "http://[::ffff:127.0.0.1]:8000/",  # IPv4-mapped loopback
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://0.0.0.0:8000/",
        "http://10.1.2.3:8081/",  # allow-listed only on port 8080
    ):
        assert (why := check(guard, url)) is not None and "non-public" in why, url
    assert "scheme" in check(guard, "file:///etc/passwd")
    assert "scheme" in check(guard, "gopher://127.0.0.1:8000/")
    assert check(guard, "http://10.1.2.3:8080/x") is None
    assert check(guard, "http://93.184.215.14/") is None  # a public address
    # "localhost" is refused after resolving it (the check is on addresses, not names)
    assert "non-public" in check(UrlGuard.for_origin(None), "http://localhost:8000/")
    # strict mode (block_private) does not even trust the feed's own host
    strict = UrlGuard.for_origin("127.0.0.1:8000", strict=True)
    assert check(strict, "http://127.0.0.1:8000/a") is not None
    assert origin_of("HTTPS://Example.ORG/feed") == "example.org:443"


def test_redirect_hop_to_other_host_is_blocked(
    http_server: LocalHTTPServer, other: LocalHTTPServer
) -> None:
    other.add("/secret", Route(body=HTML))
    http_server.add("/go", Route(status=302, headers={"Location": other.url("/secret")}))
    http_server.add("/meta", Route(status=302, headers={"Location": "http://169.254.169.254/"}))
    guard = UrlGuard.for_origin(origin_of(str(http_server)))

    async def go(url: str):
        async with make_client(FAST) as client:
            return await fetch_page(client, url, limits=FAST, guard=guard)

    res = asyncio.run(go(http_server.url("/go")))
    assert res.error == "blocked_url" and "redirect to" in res.detail
    res = asyncio.run(go(http_server.url("/meta")))
    assert res.error == "blocked_url" and "169.254.169.254" in res.detail
    assert other.hits("/secret") == 0 and http_server.hits("/go") == 1


def test_feed_links_to_other_host_are_refused(
    http_server: LocalHTTPServer, other: LocalHTTPServer
) -> None:
    """The feed lists its own page, one on another local port and the metadata address."""
    http_server.add("/own.html", Route(body=HTML))
    other.add("/internal.html", Route(body=HTML))
    links = [http_server.url("/own.html"), other.url("/internal.html"),
             "http://169.254.169.254/latest/meta-data/"]
    items = "".join(f"<item><title>x</title><link>{u}</link></item>" for u in links)
    http_server.add("/feed.xml", Route(body=f'<rss version="2.0"><channel><title>t</title>'
                                            f"{items}</channel></rss>",
                                       content_type="application/rss+xml"))
    feed = FeedConfig(name="f", url=http_server.url("/feed.xml"))

    async def go(limits: FetchLimits):
        async with make_client(limits) as client:
            polled = await poll_feed(client, feed, limits=limits)
        requests = [PageRequest(i.url, origin=i.origin) for i in polled.items]
        return polled, (await crawl(requests, limits))[0]

    polled, results = asyncio.run(go(FAST))
    assert [i.origin for i in polled.items] == [origin_of(http_server.url("/"))] * 3
    assert [r.error for r in results] == [None, "blocked_url", "blocked_url"]
    assert other.hits("/internal.html") == 0 and other.hits("/robots.txt") == 0

    # allow-listing the other service's host:port lets its link through
    allowed = FAST.model_copy(update={"allow_hosts": (origin_of(str(other)),)})
    _polled, results = asyncio.run(go(allowed))
    assert [r.error for r in results] == [None, None, "blocked_url"]
    assert other.hits("/internal.html") == 1


def test_sitemap_child_on_other_host_is_not_fetched(
    http_server: LocalHTTPServer, other: LocalHTTPServer
) -> None:
    other.add("/child.xml", Route(body="<urlset/>", content_type="application/xml"))
    index = ('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f"<sitemap><loc>{other.url('/child.xml')}</loc></sitemap></sitemapindex>")
    http_server.add("/sitemap.xml", Route(body=index, content_type="application/xml"))
    feed = FeedConfig(name="s", url=http_server.url("/sitemap.xml"), kind="sitemap")

    async def go():
        async with make_client(FAST) as client:
            return await poll_feed(client, feed, limits=FAST)

    polled = asyncio.run(go())
    assert polled.error == "feed_parse_error" and "blocked_url" in polled.detail
    assert other.hits("/child.xml") == 0
