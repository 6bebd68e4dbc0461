"""Feed discovery: the feeds a site's HTML page advertises with ``<link rel=alternate>``.

Operators often know a site, not its feed URL; browsers and feed readers find the feed
from ``<link rel="alternate" type="application/rss+xml" href="...">`` in the page head
(the RSS autodiscovery convention), and so do we. Only the head's ``link`` elements are
read: following arbitrary ``<a href>`` links that merely look like feeds would be guessing.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html

__all__ = ["FEED_TYPES", "discover_feed_links", "looks_like_html"]

# In order of preference when a page offers several formats of the same feed.
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "text/xml",
    "application/xml",
)
_FEED_ROOTS = (b"<rss", b"<feed", b"<rdf:rdf", b"<urlset", b"<sitemapindex")


def looks_like_html(body: bytes) -> bool:
    """An HTML document rather than a feed or sitemap (servers mislabel both ways)."""
    head = body[:4096].lower()
    if any(root in head for root in _FEED_ROOTS) or head.lstrip()[:1] == b"{":
        return False
    return b"<html" in head or head.lstrip().startswith(b"<!doctype html")


def discover_feed_links(body: bytes, base_url: str) -> list[str]:
    """Absolute http(s) feed URLs advertised by the page, best format first, no repeats."""
    try:
        tree = lxml_html.document_fromstring(body)
    except (ValueError, TypeError, lxml_html.etree.ParserError):
        return []
    found: list[tuple[int, int, str]] = []
    for n, link in enumerate(tree.iter("link")):
        rels = (link.get("rel") or "").lower().split()
        media = (link.get("type") or "").split(";", 1)[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" not in rels or media not in FEED_TYPES or not href:
            continue
        try:
            url = urljoin(base_url, href)
            if urlsplit(url).scheme.lower() not in ("http", "https"):
                continue
        except ValueError:
            continue
        found.append((FEED_TYPES.index(media), n, url))
    seen: dict[str, None] = {}
    for _rank, _n, url in sorted(found):
        seen.setdefault(url, None)
    return list(seen)
