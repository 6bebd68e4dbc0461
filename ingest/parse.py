"""Parsing feed documents: RSS/Atom/RDF (feedparser), JSON Feed and XML sitemaps (lxml).

Split from :mod:`ingest.poll` (which fetches) so the parsers can be used on bytes from
anywhere. Sitemaps are untrusted XML, so the lxml parser resolves no entities, loads no
DTD and touches no network (XXE and billion-laughs stay inert). Parsers never raise:
problems come back as ``_Parsed.error`` (``feed_parse_error``) with a detail.
"""

from __future__ import annotations

import calendar
import io
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
from lxml import etree
from pydantic import BaseModel, Field

__all__ = ["looks_like_sitemap", "parse_feed_bytes", "parse_json_feed", "parse_sitemap_bytes"]

# Bozo reasons that say nothing about the XML itself (a missing or odd Content-Type).
_BENIGN_BOZO = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


class _Parsed(BaseModel):
    """Intermediate parse result: raw links (unresolved) with their metadata."""

    entries: list[tuple[str, str | None, datetime | None]] = Field(default_factory=list)
    children: list[str] = Field(default_factory=list)  # sitemapindex children
    filtered: int = 0
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


def looks_like_sitemap(body: bytes) -> bool:
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
