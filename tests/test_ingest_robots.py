"""ingest.robots: robots.txt honoured per RFC 9309, fetched once per origin."""

from __future__ import annotations

import asyncio

from ingest.fetch import FetchLimits, make_client
from ingest.robots import RobotsCache
from tests.fixtures_http import LocalHTTPServer, Route

FAST = FetchLimits(backoff_base=0.01, read_timeout=2, connect_timeout=2, total_timeout=5)
ROBOTS = """User-agent: *
Disallow: /private/
Crawl-delay: 2

User-agent: Muster
Disallow: /no-muster/
"""


def check(server: LocalHTTPServer, paths: list[str]) -> tuple[list[bool], float | None]:
    async def go():
        async with make_client(FAST) as client:
            robots = RobotsCache(client, FAST)
            answers = await asyncio.gather(*(robots.allowed(server.url(p)) for p in paths))
            return list(answers), await robots.crawl_delay(server.url("/"))

    return asyncio.run(go())


def test_rules_are_applied_and_cached(http_server: LocalHTTPServer) -> None:
    http_server.add("/robots.txt", Route(body=ROBOTS, content_type="text/plain"))
    answers, delay = check(http_server, ["/news/1", "/private/x", "/no-muster/y", "/news/2"])
    # The Muster-specific group replaces the * group for us (so /private/ is allowed).
    assert answers == [True, True, False, True]
    assert delay is None
    assert http_server.hits("/robots.txt") == 1


def test_generic_group(http_server: LocalHTTPServer) -> None:
    http_server.add(
        "/robots.txt",
        Route(
            body="User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n", content_type="text/plain"
        ),
    )
    answers, delay = check(http_server, ["/a", "/private/b"])
    assert answers == [True, False] and delay == 2.0


def test_missing_robots_allows(http_server: LocalHTTPServer) -> None:
    assert check(http_server, ["/a"])[0] == [True]


def test_unreachable_robots_disallows(http_server: LocalHTTPServer) -> None:
    http_server.add("/robots.txt", Route(status=503))
    assert check(http_server, ["/a", "/b"])[0] == [False, False]


def test_non_http_urls_are_allowed() -> None:
    async def go():
        async with make_client(FAST) as client:
            robots = RobotsCache(client, FAST)
            return [
                await robots.allowed(u) for u in ["file:///tmp/a.html", "mailto:x@y", "http://[::1"]
            ]

    assert asyncio.run(go()) == [True, True, True]
