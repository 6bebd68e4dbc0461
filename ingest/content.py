"""What a body is: content-type rules and binary sniffing, shared by fetch and poll.

Servers mislabel content both ways (HTML as ``application/octet-stream``, images as
``text/html``), so the declared type is checked first (cheap: refused before the body is
downloaded) and the bytes are sniffed afterwards (magic numbers, NUL bytes).
"""

from __future__ import annotations

import codecs

__all__ = [
    "BINARY_MAGIC",
    "SUFFIX_TYPES",
    "charset_of",
    "feed_content_type_ok",
    "html_content_type_ok",
    "media_type",
    "sniff_binary",
]

BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"RIFF")

SUFFIX_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".xml": "application/xml",
    ".txt": "text/plain",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
}


def media_type(content_type: str | None) -> str:
    """``text/html; charset=utf-8`` -> ``text/html`` (lower-case, "" when absent)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type if Python knows it, else None.

    An unknown or bogus label (``charset=foo``) is not an error: the page is then decoded
    from its BOM, its ``<meta charset>`` or by detection, as browsers do.
    """
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            label = value.strip().strip("\"'").lower()
            try:
                return codecs.lookup(label).name if label else None
            except LookupError:
                return None
    return None


def html_content_type_ok(content_type: str | None) -> bool:
    """Pages: HTML, XHTML, XML and text are fine; a missing type is decided by sniffing."""
    media = media_type(content_type)
    return (
        not media
        or media.startswith("text/")
        or "html" in media
        or media.endswith("xml")
        or media == "application/octet-stream"
    )


def feed_content_type_ok(content_type: str | None) -> bool:
    """Feeds may also be JSON Feed or gzipped sitemaps; otherwise the page rule applies."""
    media = media_type(content_type)
    return html_content_type_ok(content_type) or "json" in media or "gzip" in media


def sniff_binary(body: bytes) -> str | None:
    """Name the reason a body is not text (magic number or NUL bytes), or None if it looks fine."""
    head = body[:2048]
    for magic in BINARY_MAGIC:
        if head.startswith(magic):
            return f"starts with {magic!r}"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "contains NUL bytes"
    return None
