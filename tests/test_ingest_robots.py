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


# --- feeds obey robots.txt too (issue 4) -------------------------------------------------

RSS_TYPE = "application/rss+xml"


def poll_all(server: LocalHTTPServer, paths: list[str], limits: FetchLimits = FAST) -> list:
    """Poll one feed per path with one shared robots cache, as the pipeline does."""
    from ingest.feeds import FeedConfig
    from ingest.poll import feed_robots, poll_feed

    async def go():
        async with make_client(limits) as client:
            robots = feed_robots(client, limits)
            feeds = [FeedConfig(name=f"f{i}", url=server.url(p)) for i, p in enumerate(paths)]
            return list(await asyncio.gather(
                *(poll_feed(client, f, limits=limits, robots=robots) for f in feeds)))

    return asyncio.run(go())


def test_disallowed_feed_is_not_polled(http_server: LocalHTTPServer) -> None:
    from tests.fixtures_http import rss

    http_server.add("/robots.txt", Route(body="User-agent: *\nDisallow: /private/\n",
                                         content_type="text/plain"))
    feed = rss(str(http_server).rstrip("/"), ["/news/a.html"])
    http_server.add("/private/feed.xml", Route(body=feed, content_type=RSS_TYPE))
    http_server.add("/feed.xml", Route(body=feed, content_type=RSS_TYPE))
    paths = ["/private/feed.xml", "/feed.xml", "/private/feed.xml"]
    shut, open_, again = poll_all(http_server, paths)
    assert shut.error == again.error == "robots_disallowed" and not shut.items
    assert "robots.txt" in shut.detail
    assert open_.error is None and len(open_.items) == 1
    assert http_server.hits("/private/feed.xml") == 0
    assert http_server.hits("/robots.txt") == 1  # cached per host across the feeds

    off = FAST.model_copy(update={"obey_robots": False})  # the operator's switch covers feeds
    assert poll_all(http_server, ["/private/feed.xml"], off)[0].error is None


def test_unreachable_robots_keeps_feed_unpolled_with_a_transient_reason(
    http_server: LocalHTTPServer,
) -> None:
    http_server.add("/robots.txt", Route(status=503))
    http_server.add("/feed.xml", Route(body="<rss/>", content_type=RSS_TYPE))
    (poll,) = poll_all(http_server, ["/feed.xml"])
    # RFC 9309: unreachable robots.txt = disallow; the code is the fetch's own, so the
    # feed counts as a transient failure and is simply tried again next run.
    assert poll.error == "http_5xx" and "robots.txt" in poll.detail
    assert http_server.hits("/feed.xml") == 0


def test_pipeline_logs_a_disallowed_feed_as_skipped(
    http_server: LocalHTTPServer, tmp_path, monkeypatch
) -> None:
    """Plain pipeline steps (no Prefect): fetch_log says skipped / robots_disallowed."""
    import duckdb

    from flows.pipeline import RunReport, poll_feeds, record_polls, resolve_feeds
    from flows.settings import load_settings

    monkeypatch.setenv("MUSTER_FETCH__RETRIES", "0")
    http_server.add("/robots.txt", Route(body="User-agent: Muster\nDisallow: /feeds/secret\n",
                                         content_type="text/plain"))
    http_server.add("/feeds/secret.xml", Route(body="<rss/>", content_type=RSS_TYPE))
    feeds_path = tmp_path / "feeds.yaml"
    url = http_server.url("/feeds/secret.xml")
    feeds_path.write_text(f"feeds:\n  - name: secret\n    url: {url}\n")
    settings = load_settings(db_path=tmp_path / "m.duckdb", feeds_path=feeds_path)
    feeds = resolve_feeds(settings)
    report = RunReport(run_id="r1", db_path=str(settings.db_path))
    record_polls(settings, feeds, poll_feeds(settings, feeds), report)
    assert [(f.feed, f.reason) for f in report.feed_failures()] == [("secret", "robots_disallowed")]
    assert http_server.hits("/feeds/secret.xml") == 0
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        rows = con.execute("SELECT stage, outcome, reason FROM fetch_log").fetchall()
    finally:
        con.close()
    assert rows == [("feed", "skipped", "robots_disallowed")]
