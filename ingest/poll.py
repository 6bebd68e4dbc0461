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
"""

from __future__ import annotations

import asyncio
import calendar
import gzip
import io
import json
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from ingest.content import feed_content_type_ok
from ingest.feeds import FeedConfig, is_local
from ingest.fetch import FetchLimits, fetch_page
from ingest.urls import canonicalize, file_url_to_path

__all__ = [
    "FeedItem",
    "FeedPoll",
    "list_folder",
    "parse_feed_bytes",
    "parse_sitemap_bytes",
    "poll_feed",
]

MAX_CHILD_SITEMAPS = 50
# Bozo reasons that say nothing about the XML itself (a missing or odd Content-Type).
_BENIGN_BOZO = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
_PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


class FeedItem(BaseModel):
    """One article link found in a feed (``url`` is canonicalised)."""

    model_config = ConfigDict(extra="forbid")

    url: str
    title: str | None = None
    published: datetime | None = None
    feed: str


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


class _Parsed(BaseModel):
    """Intermediate parse result: raw links (unresolved) with their metadata."""

    entries: list[tuple[str, str | None, datetime | None]] = Field(default_factory=list)
    children: list[str] = Field(default_factory=list)  # sitemapindex children
    error: str | None = None
    detail: str | None = None


def _struct_to_dt(value: Any) -> datetime | None:
    """feedparser's UTC ``time.struct_time`` -> aware datetime (None if absent or absurd)."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _iso_to_dt(text: str | None) -> datetime | None:
    """Sitemap dates are W3C datetime (a subset of ISO 8601); tolerate junk by returning None."""
    if not text:
        return None
    raw = text.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        try:
            from dateutil import parser as dateparser

            dt = dateparser.isoparse(text.strip())
        except (ValueError, OverflowError):
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def parse_feed_bytes(body: bytes, base_url: str, content_type: str | None = None) -> _Parsed:
    """RSS/Atom/RDF via feedparser (JSON Feed by hand); keep bozo feeds that yielded links."""
    if body.lstrip()[:1] == b"{":
        return parse_json_feed(body)
    headers = {}
    # feedparser's own joiner mangles file:// bases (file://tmp/...), so for local feeds
    # relative links are left alone here and resolved by _collect with urljoin.
    if urlsplit(base_url).scheme.lower() in ("http", "https"):
        headers["content-location"] = base_url
    if content_type:
        headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            resolve_relative_uris=True,
            sanitize_html=True,
        )
    except Exception as exc:  # noqa: BLE001 — a feedparser crash must not sink the poll
        return _Parsed(error="feed_parse_error", detail=f"{type(exc).__name__}: {exc}")
    out = _Parsed()
    for entry in parsed.get("entries") or []:
        link = dict.get(entry, "link")
        if not link:  # some feeds only have a permalink guid
            guid = dict.get(entry, "id") or ""
            link = (
                guid if isinstance(guid, str) and guid.startswith(("http://", "https://")) else None
            )
        if not link or not isinstance(link, str):
            continue
        # dict.get: FeedParserDict's own get() maps published->updated with a warning.
        published = _struct_to_dt(
            dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
        )
        title = dict.get(entry, "title")
        out.entries.append(
            (link, title.strip() if isinstance(title, str) and title.strip() else None, published)
        )
    if not out.entries:
        exc = parsed.get("bozo_exception")
        if parsed.get("bozo") and not isinstance(exc, _BENIGN_BOZO):
            return _Parsed(error="feed_parse_error", detail=f"{type(exc).__name__}: {exc}")
        if not parsed.get("version"):
            return _Parsed(error="feed_parse_error", detail="not an RSS, Atom, RDF or JSON feed")
    return out


def parse_json_feed(body: bytes) -> _Parsed:
    """JSON Feed 1.x (jsonfeed.org): feedparser 6.0 does not read it."""
    try:
        data = json.loads(body.decode("utf-8-sig", errors="replace"))
    except ValueError as exc:
        return _Parsed(error="feed_parse_error", detail=f"JSON: {exc}")
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        return _Parsed(error="feed_parse_error", detail="JSON document is not a JSON Feed")
    out = _Parsed()
    items = data.get("items")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or not link.strip():
            continue
        title = item.get("title") if isinstance(item.get("title"), str) else None
        when = item.get("date_published") or item.get("date_modified")
        out.entries.append(
            (
                link,
                (title or "").strip() or None,
                _iso_to_dt(when) if isinstance(when, str) else None,
            )
        )
    return out


def _safe_xml_parser() -> etree.XMLParser:
    """No entities, no DTD loading, no network, bounded tree: safe on hostile XML."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=False,
    )


def _looks_like_sitemap(body: bytes) -> bool:
    head = body[:4096].lower()
    return b"<urlset" in head or b"<sitemapindex" in head


def parse_sitemap_bytes(body: bytes) -> _Parsed:
    """``<urlset>`` (pages, with lastmod / news:publication_date / news:title) or ``<sitemapindex>``."""
    try:
        root = etree.fromstring(body, parser=_safe_xml_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        return _Parsed(error="feed_parse_error", detail=f"sitemap: {exc}")
    if root is None:
        return _Parsed(error="feed_parse_error", detail="sitemap: empty document")
    tag = etree.QName(root).localname
    out = _Parsed()
    if tag == "sitemapindex":
        for loc in root.iter(f"{{{_SITEMAP_NS}}}loc", "loc"):
            if loc.text and loc.text.strip():
                out.children.append(loc.text.strip())
        return out
    if tag != "urlset":
        return _Parsed(error="feed_parse_error", detail=f"sitemap: unexpected root <{tag}>")
    for url_el in root:
        if not isinstance(url_el.tag, str) or etree.QName(url_el).localname != "url":
            continue
        loc = url_el.findtext(f"{{{_SITEMAP_NS}}}loc") or url_el.findtext("loc")
        if not loc or not loc.strip():
            continue
        when = (
            url_el.findtext(f".//{{{_NEWS_NS}}}publication_date")
            or url_el.findtext(f"{{{_SITEMAP_NS}}}lastmod")
            or url_el.findtext("lastmod")
        )
        title = url_el.findtext(f".//{{{_NEWS_NS}}}title")
        out.entries.append((loc.strip(), title.strip() if title else None, _iso_to_dt(when)))
    return out


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
        items.append(FeedItem(url=url, title=title, published=published, feed=feed.name))
        if feed.max_items is not None and len(items) >= feed.max_items:
            break
    return items


async def _poll_folder(feed: FeedConfig) -> FeedPoll:
    path = _local_path(feed.url)
    if not path.is_dir():
        return FeedPoll(feed=feed.name, error="not_found", detail=f"not a directory: {path}")
    urls = await asyncio.to_thread(list_folder, path)
    if feed.max_items is not None:
        urls = urls[: feed.max_items]
    return FeedPoll(
        feed=feed.name,
        items=[FeedItem(url=u, feed=feed.name) for u in urls],
        final_url=path.resolve().as_uri(),
    )


async def poll_feed(
    client: httpx.AsyncClient,
    feed: FeedConfig,
    *,
    validators: dict[str, str | None] | None = None,
    limits: FetchLimits | None = None,
) -> FeedPoll:
    """Poll ``feed`` once and return its items; never raises for bad input.

    ``validators`` is what a previous poll returned ({"etag", "last_modified"}): the request
    becomes conditional and a 304 yields ``not_modified=True`` with no items. Reason codes
    are those of :func:`ingest.fetch.fetch_page` plus ``feed_parse_error`` and ``not_found``.
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
    fetched = await fetch_page(
        client, url, limits=limits, validators=validators, accept=feed_content_type_ok, sniff=False
    )
    poll = FeedPoll(
        feed=feed.name,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        status=fetched.status,
        final_url=fetched.final_url,
        not_modified=fetched.not_modified,
        error=fetched.error,
        detail=fetched.detail,
    )
    if fetched.error or fetched.not_modified or fetched.body is None:
        return poll
    body = _maybe_gunzip(fetched.body, limits.max_bytes)
    if body is None:
        poll.error, poll.detail = "feed_parse_error", "corrupt or oversized gzip body"
        return poll
    base = fetched.final_url
    if feed.kind == "sitemap" or (feed.kind == "auto" and _looks_like_sitemap(body)):
        parsed = parse_sitemap_bytes(body)
        if parsed.children and not parsed.error:
            parsed = await _follow_children(client, feed, parsed, base, limits, local)
    else:
        parsed = parse_feed_bytes(body, base, fetched.content_type)
    poll.error, poll.detail = parsed.error, parsed.detail
    if not parsed.error:
        poll.items = _collect(feed, parsed, base, remote=not local)
    return poll


async def _follow_children(
    client: httpx.AsyncClient,
    feed: FeedConfig,
    index: _Parsed,
    base: str,
    limits: FetchLimits,
    local: bool,
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
        got = await fetch_page(
            client, child_url, limits=limits, accept=feed_content_type_ok, sniff=False
        )
        body = _maybe_gunzip(got.body, limits.max_bytes) if got.body is not None else None
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
