"""Politeness: robots.txt (cached, Crawl-delay honoured), per-host delay and concurrency,
User-Agent with contact, conditional page requests; real server on 127.0.0.1.

No wall-clock assertions: delays are checked as the values the crawler recorded, and
ordering/hit counts on the server's request log.
"""

from __future__ import annotations

import asyncio

import pytest

from ingest.crawl import PageRequest, crawl
from ingest.fetch import FetchLimits
from ingest.guard import origin_of
from tests.fixtures_http import LocalHTTPServer, Route

FAST = FetchLimits(backoff_base=0.01, connect_timeout=2, read_timeout=2, total_timeout=5,
                   retries=0)
HTML = "<html><body><p>page</p></body></html>"


def run(server: LocalHTTPServer, paths: list[str], limits: FetchLimits = FAST, **kw):
    origin = origin_of(str(server))
    requests = [PageRequest(server.url(p), origin=origin, **kw) for p in paths]
    return asyncio.run(crawl(requests, limits))


def test_robots_disallow_is_obeyed_and_cached(http_server: LocalHTTPServer) -> None:
    http_server.add("/robots.txt", Route(body="User-agent: *\nDisallow: /private/\n",
                                         content_type="text/plain"))
    for p in ("/public/a", "/public/b", "/private/c"):
        http_server.add(p, Route(body=HTML))
    results, delays = run(http_server, ["/public/a", "/private/c", "/public/b"])
    assert [r.error for r in results] == [None, "robots_disallowed", None]
    assert "robots.txt" in results[1].detail
    assert http_server.hits("/private/c") == 0
    assert http_server.hits("/robots.txt") == 1  # one fetch per origin, however many pages
    assert next(r.path for r in http_server.requests) == "/robots.txt"  # asked first
    assert delays == {}
    # switched off, the page is fetched
    results, _ = run(http_server, ["/private/c"], FAST.model_copy(update={"obey_robots": False}))
    assert results[0].ok and http_server.hits("/private/c") == 1


def test_robots_rules_for_our_agent_token_and_contact(http_server: LocalHTTPServer) -> None:
    http_server.add("/robots.txt", Route(body="User-agent: otherbot\nDisallow: /\n\n"
                                              "User-agent: Muster\nDisallow: /no/\n",
                                         content_type="text/plain"))
    http_server.add("/yes", Route(body=HTML))
    limits = FAST.model_copy(update={"contact": "mailto:news-ops@example.org"})
    results, _ = run(http_server, ["/yes", "/no/x"], limits)
    assert [r.error for r in results] == [None, "robots_disallowed"]
    agent = next(r.headers["User-Agent"] for r in http_server.requests if r.path == "/yes")
    assert agent == "Muster/0.1 (+mailto:news-ops@example.org)"


def test_crawl_delay_is_honoured_and_capped(http_server: LocalHTTPServer) -> None:
    http_server.add("/robots.txt", Route(body="User-agent: *\nCrawl-delay: 0.2\n",
                                         content_type="text/plain"))
    for i in range(3):
        http_server.add(f"/p{i}", Route(body=HTML))
    results, delays = run(http_server, ["/p0", "/p1", "/p2"])
    host = origin_of(str(http_server))
    assert all(r.ok for r in results) and delays == {host: 0.2}
    # a silly Crawl-delay is capped; min_host_delay is the floor when robots says less
    http_server.add("/robots.txt", Route(body="User-agent: *\nCrawl-delay: 3600\n",
                                         content_type="text/plain"))
    capped = FAST.model_copy(update={"max_crawl_delay": 0.05})
    assert run(http_server, ["/p0"], capped)[1] == {host: 0.05}
    http_server.add("/robots.txt", Route(status=404))
    floor = FAST.model_copy(update={"min_host_delay": 0.01})
    assert run(http_server, ["/p0", "/p1"], floor)[1] == {host: 0.01}


def test_unreachable_robots_means_disallow(http_server: LocalHTTPServer) -> None:
    http_server.add("/robots.txt", Route(status=503))
    http_server.add("/p", Route(body=HTML))
    results, _ = run(http_server, ["/p"])
    assert results[0].error == "robots_disallowed" and http_server.hits("/p") == 0


def test_per_host_requests_are_serialised(
    http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """max_per_host=1: never two requests to the host in flight at once (8 allowed overall)."""
    import ingest.crawl

    for i in range(4):
        http_server.add(f"/slow{i}", Route(body=HTML, delay=0.05))
    active = {"now": 0, "max": 0}
    real_fetch = ingest.crawl.fetch_page

    async def counting_fetch(*args, **kwargs):  # the real fetch, with an in-flight counter
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        try:
            return await real_fetch(*args, **kwargs)
        finally:
            active["now"] -= 1

    monkeypatch.setattr(ingest.crawl, "fetch_page", counting_fetch)
    one = FAST.model_copy(update={"max_per_host": 1, "obey_robots": False})
    results, _ = run(http_server, [f"/slow{i}" for i in range(4)], one)
    assert all(r.ok for r in results) and active["max"] == 1
    two = FAST.model_copy(update={"max_per_host": 2, "obey_robots": False})
    run(http_server, [f"/slow{i}" for i in range(4)], two)
    assert active["max"] == 2  # the counter does see parallel requests


def test_conditional_page_request_gives_304(http_server: LocalHTTPServer) -> None:
    http_server.add("/robots.txt", Route(status=404))
    http_server.add("/a", Route(body=HTML, etag='"v1"'))
    first, _ = run(http_server, ["/a"])
    assert first[0].ok and first[0].etag == '"v1"'
    again, _ = run(http_server, ["/a"], validators={"etag": '"v1"', "last_modified": None})
    assert again[0].not_modified and again[0].status == 304 and again[0].body is None
