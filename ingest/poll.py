"""Poll one feed: RSS/Atom (feedparser), XML sitemaps (lxml) or a local folder of pages.

Polling turns a :class:`~ingest.feeds.FeedConfig` into a list of article URLs. Like
fetching, it never raises for bad input: a dead or garbled feed is a :class:`FeedPoll`
with a reason code, so one broken source cannot stop the others.

Why each choice:
- The feed is downloaded with :func:`ingest.fetch.fetch_page` (same limits, retries,
  reason codes and conditional-GET handling) and handed to feedparser as a byte stream,
  never as a string (feedparser would treat a string as a URL or path and fetch it).
- Sitemaps are parsed with a locked-down lxml parser (no entity expansion, no DTD, no
  network) because a sitemap is untrusted XML: XXE and billion-laughs must be inert.
- Item URLs from a remote feed must be http(s): a feed is not allowed to point us at
  ``file:///etc/passwd``. Local feeds (folders, files) may list ``file://`` pages.
- Every request a feed makes us send after the configured URL itself (redirects, child
  sitemaps, a discovered feed) passes the SSRF guard (:mod:`ingest.guard`); each item
  carries its feed's ``origin`` so the page fetcher applies the same rule.
- A URL that serves HTML (``kind: discover``, or ``auto``) is a site page: the feed it
  advertises (:mod:`ingest.discover`) is polled instead, and remembered (``discovered``).
- With a :class:`~ingest.robots.RobotsCache` (``robots=``, one per run: one robots.txt per
  host for all feeds), every feed request obeys robots.txt like a page: a disallowed URL is
  not requested (``robots_disallowed``); an unreachable robots.txt means "disallow" (RFC
  9309), reported with the robots.txt fetch's own transient code (``http_5xx``,
  ``connect_error``...) so the feed is simply tried again next run.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import zlib
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from ingest.content import feed_content_type_ok
from ingest.discover import discover_feed_links, looks_like_html
from ingest.feeds import FeedConfig, is_local
from ingest.fetch import FetchLimits, FetchResult, fetch_page
from ingest.guard import UrlGuard, origin_of
from ingest.parse import (
    _Parsed,
    parse_feed_bytes,
    parse_sitemap_bytes,
)
from ingest.parse import looks_like_sitemap as _looks_like_sitemap
from ingest.robots import RobotsCache
from ingest.urls import canonicalize, file_url_to_path

__all__ = [
    "FeedItem",
    "FeedPoll",
    "feed_guard",
    "feed_robots",
    "list_folder",
    "parse_feed_bytes",
    "parse_sitemap_bytes",
    "poll_feed",
]

MAX_CHILD_SITEMAPS = 50
_PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")


class FeedItem(BaseModel):
    """One article link found in a feed (``url`` is canonicalised)."""

    model_config = ConfigDict(extra="forbid")

    url: str
    title: str | None = None
    published: datetime | None = None
    feed: str
    origin: str | None = None  # host:port of the feed's configured URL (SSRF trust)
    language: str | None = None  # the feed's configured language (fallback)


class FeedPoll(BaseModel):
    """Result of polling a feed; ``error`` is a reason code or None."""

    model_config = ConfigDict(extra="forbid")

    feed: str
    items: list[FeedItem] = Field(default_factory=list)
    error: str | None = None
    detail: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    status: int | None = None
    final_url: str | None = None
    filtered: int = 0  # items dropped by the feed's include/exclude patterns
    skipped: str | None = None  # reason the feed was not polled at all (poll_interval)
    discovered_url: str | None = None  # the feed found on the configured HTML page


def list_folder(path: Path) -> list[str]:
    """Every ``*.html`` / ``*.html.gz`` file under ``path`` (recursively) as sorted file:// URLs."""
    files = [p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(_PAGE_SUFFIXES)]
    return [p.resolve().as_uri() for p in sorted(files)]


def _local_path(url: str) -> Path:
    return (
        file_url_to_path(url) if urlsplit(url).scheme.lower() == "file" else Path(url).expanduser()
    )


def _maybe_gunzip(body: bytes, limit: int) -> bytes | None:
    """Sitemaps are often served as ``.xml.gz`` without Content-Encoding; cap the output."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as fh:
            data = fh.read(limit + 1)
    except (OSError, EOFError, zlib.error):
        return None
    return data if len(data) <= limit else None


def _collect(feed: FeedConfig, parsed: _Parsed, base_url: str, remote: bool) -> list[FeedItem]:
    """Resolve, filter by scheme, canonicalise, de-duplicate, cap at ``max_items``."""
    items: list[FeedItem] = []
    seen: set[str] = set()
    origin = origin_of(feed.url) if remote else None
    allowed = ("http", "https") if remote else ("http", "https", "file")
    for link, title, published in parsed.entries:
        try:
            absolute = urljoin(base_url, link.strip())
            if urlsplit(absolute).scheme.lower() not in allowed:
                continue
        except ValueError:
            continue
        url = canonicalize(absolute)
        if url in seen:
            continue
        seen.add(url)
        if not feed.wants(url):
            parsed.filtered += 1
            continue
        items.append(
            FeedItem(
                url=url,
                title=title,
                published=published,
                feed=feed.name,
                origin=origin,
                language=feed.language,
            )
        )
        if feed.max_items is not None and len(items) >= feed.max_items:
            break
    return items


async def _poll_folder(feed: FeedConfig) -> FeedPoll:
    path = _local_path(feed.url)
    if not path.is_dir():
        return FeedPoll(feed=feed.name, error="not_found", detail=f"not a directory: {path}")
    found = await asyncio.to_thread(list_folder, path)
    urls = [u for u in found if feed.wants(u)]
    filtered = len(found) - len(urls)
    if feed.max_items is not None:
        urls = urls[: feed.max_items]
    return FeedPoll(
        feed=feed.name,
        items=[FeedItem(url=u, feed=feed.name, language=feed.language) for u in urls],
        final_url=path.resolve().as_uri(),
        filtered=filtered,
    )


def feed_guard(feed: FeedConfig, limits: FetchLimits) -> UrlGuard | None:
    """The SSRF guard for everything reached through ``feed`` (None when switched off)."""
    if not limits.ssrf_guard and not limits.block_private:
        return None
    origin = None if is_local(feed.url) else origin_of(feed.url)
    return UrlGuard.for_origin(origin, limits.allow_hosts, strict=limits.block_private)


def feed_robots(client: httpx.AsyncClient, limits: FetchLimits) -> RobotsCache | None:
    """The robots.txt cache to share between the feeds of a run (None if robots are off)."""
    return RobotsCache(client, limits, ssrf=limits.ssrf_guard) if limits.obey_robots else None


async def poll_feed(
    client: httpx.AsyncClient,
    feed: FeedConfig,
    *,
    validators: dict[str, str | None] | None = None,
    limits: FetchLimits | None = None,
    discovered: str | None = None,
    robots: RobotsCache | None = None,
) -> FeedPoll:
    """Poll ``feed`` once and return its items; never raises for bad input.

    ``validators`` is what a previous poll returned ({"etag", "last_modified"}): the request
    becomes conditional and a 304 yields ``not_modified=True`` with no items. ``discovered``
    is the feed URL a previous poll found on this (HTML) page: it is polled directly with
    the validators, and the page is only re-read if that fails. Reason codes are those of
    :func:`ingest.fetch.fetch_page` plus ``feed_parse_error``, ``not_found``,
    ``no_feed_found`` (an HTML page that advertises no feed) and, with ``robots``,
    ``robots_disallowed``.
    """
    limits = limits or FetchLimits()
    local = is_local(feed.url)
    if local:
        path = _local_path(feed.url)
        if feed.kind == "folder" or path.is_dir():
            return await _poll_folder(feed)
        if not path.is_file():
            return FeedPoll(feed=feed.name, error="not_found", detail=f"no such file: {path}")
        url = path.resolve().as_uri()
    else:
        url = feed.url
    guard = feed_guard(feed, limits)
    if discovered and not local and feed.kind in ("auto", "discover"):
        poll = await _poll_url(client, feed, discovered, validators, limits, guard, local, robots)
        if poll.error is None:
            poll.discovered_url = discovered
            return poll
    page_validators = None if feed.kind == "discover" or discovered else validators
    fetched = await _fetch_feed(client, url, page_validators, limits, guard, robots)
    body = fetched.body
    if (
        not local
        and fetched.error is None
        and body is not None
        and feed.kind in ("auto", "discover")
        and (feed.kind == "discover" or looks_like_html(body))
    ):
        links = discover_feed_links(body, fetched.final_url)
        if links:
            poll = await _poll_url(client, feed, links[0], None, limits, guard, local, robots)
            poll.discovered_url = links[0]
            return poll
        if feed.kind == "discover":
            detail = f"no <link rel=alternate> feed on {url}"
            return _poll_from(feed, fetched, "no_feed_found", detail)
    return await _parse_fetched(client, feed, fetched, limits, guard, local, robots)


async def _robots_refusal(robots: RobotsCache | None, url: str) -> FetchResult | None:
    """A result saying why robots.txt keeps us from ``url``, or None to go ahead."""
    if robots is None or await robots.allowed(url):
        return None
    host = urlsplit(url).netloc
    cause = robots.unreachable(url)
    if cause is not None:
        return FetchResult(url=url, final_url=url, error=cause,
                           detail=f"robots.txt of {host} could not be read ({cause}): "
                                  "not polled until it can (RFC 9309)")
    return FetchResult(url=url, final_url=url, error="robots_disallowed",
                       detail=f"robots.txt of {host} disallows it for {robots.agent}")


async def _fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    validators: dict[str, str | None] | None,
    limits: FetchLimits,
    guard: UrlGuard | None,
    robots: RobotsCache | None = None,
) -> FetchResult:
    if (refused := await _robots_refusal(robots, url)) is not None:
        return refused
    return await fetch_page(
        client,
        url,
        limits=limits,
        validators=validators,
        accept=feed_content_type_ok,
        sniff=False,
        guard=guard,
    )


async def _poll_url(
    client: httpx.AsyncClient,
    feed: FeedConfig,
    url: str,
    validators: dict[str, str | None] | None,
    limits: FetchLimits,
    guard: UrlGuard | None,
    local: bool,
    robots: RobotsCache | None = None,
) -> FeedPoll:
    fetched = await _fetch_feed(client, url, validators, limits, guard, robots)
    return await _parse_fetched(client, feed, fetched, limits, guard, local, robots)


def _poll_from(
    feed: FeedConfig, fetched: FetchResult, error: str | None, detail: str | None
) -> FeedPoll:
    return FeedPoll(
        feed=feed.name,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        status=fetched.status,
        final_url=fetched.final_url,
        not_modified=fetched.not_modified,
        error=error,
        detail=detail,
    )


async def _parse_fetched(
    client: httpx.AsyncClient,
    feed: FeedConfig,
    fetched: FetchResult,
    limits: FetchLimits,
    guard: UrlGuard | None,
    local: bool,
    robots: RobotsCache | None = None,
) -> FeedPoll:
    """A fetched feed document -> items (sitemap index children fetched through ``guard``)."""
    poll = _poll_from(feed, fetched, fetched.error, fetched.detail)
    if fetched.error or fetched.not_modified or fetched.body is None:
        return poll
    body = _maybe_gunzip(fetched.body, limits.decoded_cap)
    if body is None:
        poll.error, poll.detail = "feed_parse_error", "corrupt or oversized gzip body"
        return poll
    base = fetched.final_url
    if feed.kind == "sitemap" or (feed.kind in ("auto", "discover") and _looks_like_sitemap(body)):
        parsed = parse_sitemap_bytes(body)
        if parsed.children and not parsed.error:
            parsed = await _follow_children(client, feed, parsed, base, limits, local, guard,
                                            robots)
    else:
        parsed = parse_feed_bytes(body, base, fetched.content_type)
    poll.error, poll.detail = parsed.error, parsed.detail
    if not parsed.error:
        poll.items = _collect(feed, parsed, base, remote=not local)
        poll.filtered = parsed.filtered
    return poll


async def _follow_children(
    client: httpx.AsyncClient,
    feed: FeedConfig,
    index: _Parsed,
    base: str,
    limits: FetchLimits,
    local: bool,
    guard: UrlGuard | None = None,
    robots: RobotsCache | None = None,
) -> _Parsed:
    """Expand a sitemap index one level deep (bounded), stopping once ``max_items`` is met."""
    merged = _Parsed()
    allowed = ("http", "https") if not local else ("http", "https", "file")
    failures: list[str] = []
    for child in index.children[:MAX_CHILD_SITEMAPS]:
        try:
            child_url = urljoin(base, child)
            if urlsplit(child_url).scheme.lower() not in allowed:
                continue
        except ValueError:
            continue
        got = await _fetch_feed(client, child_url, None, limits, guard, robots)
        body = _maybe_gunzip(got.body, limits.decoded_cap) if got.body is not None else None
        if got.error or body is None:
            failures.append(f"{child_url}: {got.error or 'bad gzip'}")
            continue
        sub = parse_sitemap_bytes(body)
        if sub.error:
            failures.append(f"{child_url}: {sub.detail}")
            continue
        merged.entries.extend((urljoin(child_url, u), t, d) for u, t, d in sub.entries)
        if feed.max_items is not None and len(merged.entries) >= feed.max_items:
            break
    if not merged.entries and failures:
        merged.error, merged.detail = "feed_parse_error", "; ".join(failures[:3])
    elif failures:
        merged.detail = f"{len(failures)} child sitemap(s) failed: " + "; ".join(failures[:3])
    return merged
