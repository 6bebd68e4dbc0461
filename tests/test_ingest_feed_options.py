"""Per-feed options (poll_interval, tags, language, include/exclude, discover) and feed
discovery from a site's HTML page, against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ingest.discover import discover_feed_links, looks_like_html
from ingest.feeds import FeedConfig, FeedsFileError, load_feeds, parse_duration
from ingest.fetch import FetchLimits, make_client
from ingest.poll import poll_feed
from tests.fixtures_http import LocalHTTPServer, Route, rss

FAST = FetchLimits(backoff_base=0.01, connect_timeout=2, read_timeout=2, total_timeout=5,
                   retries=0)


def home(feed_href: str) -> str:
    return (
        "<!doctype html><html><head><title>Site</title>"
        '<link rel="stylesheet" href="/s.css">'
        f'<link rel="alternate" type="application/atom+xml" href="/atom.xml" title="atom">'
        f'<link rel="alternate" type="application/rss+xml" href="{feed_href}" title="rss">'
        "</head><body><p>Welcome</p></body></html>"
    )


def poll(feed: FeedConfig, **kw):
    async def go():
        async with make_client(FAST) as client:
            return await poll_feed(client, feed, limits=FAST, **kw)

    return asyncio.run(go())


def test_options_are_validated_with_file_feed_and_key(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    good = (
        "feeds:\n  - name: a\n    url: https://example.org/rss\n    poll_interval: 15m\n"
        "    tags: [world, world, defence]\n    language: EN\n"
        "    include: ['/news/']\n    exclude: ['/live/']\n"
    )
    path.write_text(good)
    (feed,) = load_feeds(path)
    assert feed.poll_interval == 900 and feed.tags == ("world", "defence")
    assert feed.language == "en" and feed.include == ("/news/",)
    assert (parse_duration("90"), parse_duration("2h"), parse_duration(30)) == (90, 7200, 30)
    cases = {
        "    poll_interval: soon\n": ("poll_interval", "not a duration"),
        "    include: ['(unclosed']\n": ("include", "invalid regular expression"),
        "    language: english\n": ("language", "not a language code"),
        "    tag: [x]\n": ("tag", "unknown key"),
        "    kind: discover\n    url: ./pages\n": ("kind", "discover"),
    }
    for extra, (key, words) in cases.items():
        path.write_text("feeds:\n  - name: a\n    url: https://example.org/rss\n" + extra)
        if "url: ./pages" in extra:
            path.write_text("feeds:\n  - name: a\n" + extra)
        with pytest.raises(FeedsFileError) as info:
            load_feeds(path)
        message = str(info.value)
        assert str(path) in message and "feed 'a'" in message and f"key '{key}'" in message
        assert words in message, message


def test_include_exclude_filters(http_server: LocalHTTPServer) -> None:
    base = str(http_server).rstrip("/")
    paths = ["/news/a", "/news/live-b", "/sport/c", "/news/d?utm_source=x"]
    http_server.add("/feed.xml", Route(body=rss(base, paths), content_type="application/rss+xml"))
    feed = FeedConfig(name="f", url=http_server.url("/feed.xml"), include=("/news/",),
                      exclude=("/live-",), language="fr", max_items=5)
    polled = poll(feed)
    assert [i.url for i in polled.items] == [f"{base}/news/a", f"{base}/news/d"]
    assert polled.filtered == 2 and {i.language for i in polled.items} == {"fr"}
    assert FeedConfig(name="g", url="https://x.org/", exclude=("^https://x.org/$",)).wants(
        "https://x.org/a")


def test_discover_links() -> None:
    page = home("https://cdn.example.org/rss.xml").encode()
    assert looks_like_html(page) and not looks_like_html(b"<?xml version='1.0'?><rss>")
    # RSS preferred over Atom; relative links resolved; non-feed links ignored
    assert discover_feed_links(page, "https://example.org/") == [
        "https://cdn.example.org/rss.xml", "https://example.org/atom.xml"]
    assert discover_feed_links(b"<html><body>no feeds</body></html>", "https://x.org/") == []
    js = b'<html><head><link rel="alternate" type="application/rss+xml" href="javascript:x"></head></html>'
    assert discover_feed_links(js, "https://x.org/") == []


def test_discovery_from_home_page_then_direct(http_server: LocalHTTPServer) -> None:
    base = str(http_server).rstrip("/")
    http_server.add("/", Route(body=home("/rss.xml")))
    http_server.add("/rss.xml", Route(body=rss(base, ["/a"]), content_type="application/rss+xml",
                                      etag='"f1"'))
    for kind in ("discover", "auto"):
        polled = poll(FeedConfig(name="site", url=http_server.url("/"), kind=kind))
        assert polled.error is None and [i.url for i in polled.items] == [f"{base}/a"]
        assert polled.discovered_url == f"{base}/rss.xml" and polled.etag == '"f1"'
    assert http_server.hits("/") == 2
    # next time: the discovered feed is polled directly, conditionally; the page is not read
    again = poll(FeedConfig(name="site", url=http_server.url("/"), kind="discover"),
                 validators={"etag": '"f1"'}, discovered=f"{base}/rss.xml")
    assert again.not_modified and again.error is None and again.discovered_url
    assert http_server.hits("/") == 2
    # a page without feed links
    http_server.add("/plain", Route(body="<html><body><p>hi</p></body></html>"))
    nothing = poll(FeedConfig(name="p", url=http_server.url("/plain"), kind="discover"))
    assert nothing.error == "no_feed_found"
    # a stale hint (feed gone) falls back to discovery
    http_server.add("/old.xml", Route(status=404))
    healed = poll(FeedConfig(name="site", url=http_server.url("/"), kind="discover"),
                  discovered=f"{base}/old.xml")
    assert healed.error is None and healed.discovered_url == f"{base}/rss.xml"


def test_tag_selection_for_run(tmp_path: Path) -> None:
    """``muster run --tag`` / the flow's ``tags``: feeds with any tag; unknown tags refused."""
    from flows.pipeline import resolve_feeds
    from flows.settings import load_settings

    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n"
        "  - {name: a, url: 'https://a.example/rss', tags: [defence, europe]}\n"
        "  - {name: b, url: 'https://b.example/rss', tags: [asia]}\n"
        "  - {name: c, url: 'https://c.example/rss', tags: [sport]}\n"
        "  - {name: d, url: 'https://d.example/rss', tags: [asia], enabled: false}\n"
        "  - {name: e, url: 'https://e.example/rss'}\n"
        "  - {name: f, url: 'https://f.example/rss', tags: [archive], enabled: false}\n"
    )
    settings = load_settings(feeds_path=path, db_path=tmp_path / "m.duckdb")
    names = lambda feeds: [f.name for f in feeds]  # noqa: E731
    assert names(resolve_feeds(settings, tags=["defence", "asia"])) == ["a", "b"]
    assert names(resolve_feeds(settings, tags=["asia"])) == ["b"]  # d is disabled
    assert names(resolve_feeds(settings)) == ["a", "b", "c", "e"]
    assert names(resolve_feeds(settings, ["a"], ["europe"])) == ["a"]  # both must hold
    with pytest.raises(ValueError, match=r"no enabled feed .* has tag\(s\) archive"):
        resolve_feeds(settings, tags=["archive"])
    with pytest.raises(ValueError, match=r"unknown tag\(s\) defense, Asia .*known: archive, "
                                         r"asia, defence, europe, sport"):
        resolve_feeds(settings, tags=["defense", "Asia", "sport"])
    with pytest.raises(ValueError, match=r"unknown feed name\(s\) c .*with tag\(s\) europe"):
        resolve_feeds(settings, ["a", "c"], ["europe"])
