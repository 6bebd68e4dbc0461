"""ingest.poll over a real local server: RSS, Atom, sitemaps, folders, 304s and errors."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.clean import clean_html
from ingest.feeds import FeedConfig
from ingest.fetch import FetchLimits, fetch_page, make_client
from ingest.poll import FeedPoll, poll_feed
from tests.fixtures_http import LocalHTTPServer, Route

PAGES = Path(__file__).parent / "fixtures" / "pages"
EXPECTED = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
FAST = FetchLimits(
    backoff_base=0.01,
    backoff_max=0.05,
    connect_timeout=2,
    read_timeout=2,
    total_timeout=5,
    retries=2,
)
RSS_TYPE = "application/rss+xml; charset=utf-8"


def poll(feed: FeedConfig, limits: FetchLimits = FAST, **kw) -> FeedPoll:
    async def go():
        async with make_client(limits) as client:
            return await poll_feed(client, feed, limits=limits, **kw)

    return asyncio.run(go())


def rss(items: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><pubDate>{d}</pubDate></item>"
        for link, t, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Test</title><link>http://example.org/</link>{body}</channel></rss>"
    )


FUNDUS = sorted(k for k in EXPECTED if k.startswith("fundus_"))


def test_rss_feed_to_clean_articles(http_server: LocalHTTPServer) -> None:
    """End to end: an RSS feed linking to real pages -> items -> fetch -> clean text."""
    http_server.serve_dir(PAGES, "/news/")
    items = [
        (
            f"/news/{name[:-3]}?utm_source=rss",
            EXPECTED[name]["title"],
            "Fri, 28 Apr 2023 17:40:08 GMT",
        )
        for name in FUNDUS
    ]
    items.append((http_server.url(f"/news/{FUNDUS[0][:-3]}#comments"), "dup", "bad date"))
    http_server.add("/feed.rss", Route(body=rss(items), content_type=RSS_TYPE))
    result = poll(FeedConfig(name="local-rss", url=http_server.url("/feed.rss")))
    assert result.error is None and result.status == 200
    assert [i.url for i in result.items] == [http_server.url(f"/news/{n[:-3]}") for n in FUNDUS]
    assert all(i.feed == "local-rss" for i in result.items)
    assert result.items[0].published == datetime(2023, 4, 28, 17, 40, 8, tzinfo=UTC)
    assert result.items[0].title == EXPECTED[FUNDUS[0]]["title"]

    async def fetch_all():
        async with make_client(FAST) as client:
            return [await fetch_page(client, i.url, limits=FAST) for i in result.items]

    for name, fetched in zip(FUNDUS, asyncio.run(fetch_all())):
        assert fetched.ok, fetched
        cleaned = clean_html(fetched.body, fetched.url)
        assert cleaned.error is None
        assert cleaned.article.title == EXPECTED[name]["title"]
        paragraphs = EXPECTED[name]["body"].split("\n\n")
        found = sum(p[:50] in cleaned.article.text for p in paragraphs)
        assert found >= 0.8 * len(paragraphs), (name, found, len(paragraphs))


def test_atom_feed_relative_links(http_server: LocalHTTPServer) -> None:
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/section/">
  <title>Atom test</title><id>urn:x</id><updated>2024-02-24T11:42:23Z</updated>
  <entry><title>One</title><id>urn:1</id><link rel="alternate" href="one.html"/>
    <updated>2024-02-24T11:42:23Z</updated></entry>
  <entry><title>Two</title><id>urn:2</id><link href="https://Example.org/two?gclid=9&amp;b=1"/>
    <published>2024-02-25T08:00:00+01:00</published></entry>
  <entry><title>No link</title><id>urn:3</id></entry>
</feed>"""
    http_server.add("/atom.xml", Route(body=atom, content_type="application/atom+xml"))
    result = poll(FeedConfig(name="atom", url=http_server.url("/atom.xml"), kind="atom"))
    assert result.error is None
    assert [i.url for i in result.items] == [
        http_server.url("/section/one.html"),
        "https://example.org/two?b=1",
    ]
    assert result.items[1].published == datetime(2024, 2, 25, 7, 0, tzinfo=UTC)


def test_conditional_get_304(http_server: LocalHTTPServer) -> None:
    body = rss([("http://example.org/a", "A", "Mon, 01 Jan 2024 00:00:00 GMT")])
    lm = "Mon, 01 Jan 2024 00:00:00 GMT"
    http_server.add(
        "/feed", Route(body=body, content_type=RSS_TYPE, etag='"abc"', last_modified=lm)
    )
    feed = FeedConfig(name="f", url=http_server.url("/feed"))
    first = poll(feed)
    assert (first.etag, first.last_modified, len(first.items)) == ('"abc"', lm, 1)
    second = poll(feed, validators={"etag": first.etag, "last_modified": first.last_modified})
    assert (
        second.not_modified and second.items == [] and second.error is None and second.status == 304
    )
    headers = http_server.requests[-1].headers
    assert headers["If-None-Match"] == '"abc"' and headers["If-Modified-Since"] == lm
    # Last-Modified alone also works.
    third = poll(feed, validators={"last_modified": lm})
    assert third.not_modified


def test_http_errors_are_values(http_server: LocalHTTPServer) -> None:
    assert poll(FeedConfig(name="f", url=http_server.url("/gone"))).error == "http_404"
    assert http_server.hits("/gone") == 1
    http_server.add(
        "/flaky",
        [Route(status=500), Route(body=rss([("http://e.org/x", "X", "")]), content_type=RSS_TYPE)],
    )
    result = poll(FeedConfig(name="f", url=http_server.url("/flaky")))
    assert result.error is None and len(result.items) == 1 and http_server.hits("/flaky") == 2
    http_server.add("/slow", Route(body="<rss/>", delay=1.0))
    slow = poll(
        FeedConfig(name="f", url=http_server.url("/slow")),
        FAST.model_copy(update={"read_timeout": 0.2, "retries": 0}),
    )
    assert slow.error == "timeout"


@pytest.mark.parametrize(
    "body",
    [
        "<html><body><p>This is a web page, not a feed.</p></body></html>",
        "<?xml version='1.0'?><rss><channel><item><title>unclosed",
        "\x00\x01\x02 garbage",
        "",
    ],
)
def test_malformed_feed_gives_reason(http_server: LocalHTTPServer, body: str) -> None:
    http_server.add("/bad", Route(body=body, content_type="text/xml"))
    result = poll(FeedConfig(name="bad", url=http_server.url("/bad")))
    assert result.error == "feed_parse_error" and result.detail and result.items == []


def test_bozo_feed_with_entries_is_kept(http_server: LocalHTTPServer) -> None:
    body = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>A & B</title>"
        "<item><title>Tom & Jerry</title><link>http://example.org/tj</link></item>"
        "</channel></rss>"
    )
    http_server.add("/bozo", Route(body=body, content_type=RSS_TYPE))
    result = poll(FeedConfig(name="bozo", url=http_server.url("/bozo")))
    assert result.error is None and [i.url for i in result.items] == ["http://example.org/tj"]


def test_max_items_and_unsafe_links(http_server: LocalHTTPServer) -> None:
    links = ["file:///etc/passwd", "javascript:alert(1)", "mailto:x@y.z"] + [
        f"http://example.org/{i}" for i in range(10)
    ]
    http_server.add("/feed", Route(body=rss([(u, u, "") for u in links]), content_type=RSS_TYPE))
    result = poll(FeedConfig(name="f", url=http_server.url("/feed"), max_items=4))
    assert [i.url for i in result.items] == [f"http://example.org/{i}" for i in range(4)]


def test_json_feed(http_server: LocalHTTPServer) -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "J",
            "items": [{"id": "1", "url": "https://example.org/j1", "title": "J1"}],
        }
    )
    http_server.add("/feed.json", Route(body=body, content_type="application/feed+json"))
    result = poll(FeedConfig(name="j", url=http_server.url("/feed.json")))
    assert result.error is None and [i.url for i in result.items] == ["https://example.org/j1"]


SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://example.org/a?utm_campaign=x</loc><lastmod>2024-05-01</lastmod></url>
  <url><loc>https://example.org/b</loc>
    <news:news><news:publication_date>2024-05-02T10:00:00+02:00</news:publication_date>
      <news:title>Bee</news:title></news:news></url>
  <url><loc>https://example.org/a</loc></url>
  <url><loc>/relative</loc><lastmod>garbage</lastmod></url>
</urlset>"""


def test_sitemap_urlset(http_server: LocalHTTPServer) -> None:
    http_server.add("/sitemap.xml", Route(body=SITEMAP, content_type="application/xml"))
    result = poll(FeedConfig(name="sm", url=http_server.url("/sitemap.xml")))  # kind auto-detected
    assert result.error is None
    assert [i.url for i in result.items] == [
        "https://example.org/a",
        "https://example.org/b",
        http_server.url("/relative"),
    ]
    assert result.items[0].published == datetime(2024, 5, 1, tzinfo=UTC)
    assert result.items[1].title == "Bee"
    assert result.items[1].published == datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
    assert result.items[2].published is None


def test_sitemap_index_and_gzip(http_server: LocalHTTPServer) -> None:
    index = """<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>/s1.xml.gz</loc></sitemap><sitemap><loc>/missing.xml</loc></sitemap>
      <sitemap><loc>file:///etc/passwd</loc></sitemap></sitemapindex>"""
    http_server.add("/index.xml", Route(body=index, content_type="text/xml"))
    http_server.add(
        "/s1.xml.gz", Route(body=gzip.compress(SITEMAP.encode()), content_type="application/gzip")
    )
    result = poll(FeedConfig(name="idx", url=http_server.url("/index.xml"), kind="sitemap"))
    assert result.error is None and "1 child sitemap(s) failed" in (result.detail or "")
    assert [i.url for i in result.items][:2] == ["https://example.org/a", "https://example.org/b"]


@pytest.mark.parametrize(
    "body",
    [
        # XXE: an external entity must not be read.
        """<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
        <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <url><loc>https://example.org/&xxe;</loc></url></urlset>""",
        # Billion laughs: entity expansion must not happen.
        """<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">
        <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
        <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
        <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]>
        <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <url><loc>https://example.org/&g;</loc></url></urlset>""",
    ],
)
def test_sitemap_is_safe_against_entities(http_server: LocalHTTPServer, body: str) -> None:
    http_server.add("/evil.xml", Route(body=body, content_type="application/xml"))
    result = poll(FeedConfig(name="evil", url=http_server.url("/evil.xml"), kind="sitemap"))
    for item in result.items:
        assert "root:" not in item.url and len(item.url) < 200
    assert result.error in (None, "feed_parse_error")


def test_folder_feed(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ["b.html", "a.html.gz", "sub/c.htm", "notes.txt", "img.png"]:
        (tmp_path / name).write_bytes(b"<html></html>")
    result = poll(FeedConfig(name="dir", url=str(tmp_path), kind="folder"))
    assert result.error is None
    assert [i.url for i in result.items] == [
        (tmp_path / n).resolve().as_uri() for n in ["a.html.gz", "b.html", "sub/c.htm"]
    ]
    # A file:// URL to the folder, kind auto, with max_items.
    capped = poll(FeedConfig(name="dir", url=tmp_path.as_uri(), max_items=1))
    assert [i.url for i in capped.items] == [(tmp_path / "a.html.gz").resolve().as_uri()]
    missing = poll(FeedConfig(name="dir", url=str(tmp_path / "nope"), kind="folder"))
    assert missing.error == "not_found" and missing.items == []


def test_folder_of_real_pages_cleans(tmp_path: Path) -> None:
    result = poll(FeedConfig(name="pages", url=str(PAGES), kind="folder"))
    assert len(result.items) == len(EXPECTED)

    async def fetch_all():
        async with make_client(FAST) as client:
            return [await fetch_page(client, i.url, limits=FAST) for i in result.items]

    for item, fetched in zip(result.items, asyncio.run(fetch_all())):
        assert fetched.ok, fetched.error
        name = item.url.rsplit("/", 1)[-1]
        cleaned = clean_html(fetched.body, EXPECTED[name]["url"])
        assert cleaned.error is None, (name, cleaned.detail)


def test_local_feed_file(tmp_path: Path) -> None:
    feed_file = tmp_path / "feed.xml"
    feed_file.write_text(rss([("page.html", "P", ""), ("http://example.org/x", "X", "")]))
    result = poll(FeedConfig(name="file", url=str(feed_file)))
    assert result.error is None
    assert [i.url for i in result.items] == [
        (tmp_path / "page.html").as_uri(),
        "http://example.org/x",
    ]
    assert poll(FeedConfig(name="file", url=str(tmp_path / "nope.xml"))).error == "not_found"
