"""HTML -> clean article text and metadata, with trafilatura.

``clean_html`` is the last step before extraction, and it sees whatever the web served:
wrong charsets, truncated markup, binary junk. It therefore never raises; failures are a
:class:`CleanResult` with a reason code (``empty_body``, ``no_text``, ``parse_error``).

Why it is shaped this way:
- Bytes are decoded and parsed by :mod:`ingest.html_tree` (BOM, then the declared
  charset, then UTF-8, then charset-normalizer, then cp1252 with replacement) so the same
  page always decodes the same way regardless of what trafilatura's own guesser would do.
- Canonical URL and declared language come from the page head (``<link rel=canonical>``,
  ``<html lang>``), read by us: trafilatura's ``url`` field mixes canonical and og:url.
  The declared language is then checked against the text (:mod:`ingest.language`):
  a confident detection wins over a template's ``lang="en"`` on an isiZulu article.
- ``content_hash`` is over NFC, whitespace-collapsed text so re-fetching an unchanged
  article with different markup or line wrapping is recognised as unchanged.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from copy import copy
from datetime import date
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement
from pydantic import BaseModel, ConfigDict

from ingest.html_tree import decode_html, decode_page, parse_html
from ingest.language import pick_language
from ingest.main_text import consume_main_text
from ingest.page_meta import page_metadata
from ingest.urls import canonicalize

__all__ = [
    "MIN_TEXT_CHARS",
    "CleanArticle",
    "CleanResult",
    "clean_html",
    "content_hash",
    "decode_html",
    "normalise_text",
]

MIN_TEXT_CHARS = 100
_TITLE_SEP = re.compile(r"\s+(?:\||-|–|—|::|·|•)\s+")
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
# XPath's translate() and normalize-space() as _head_info's expressions use them.
_CANONICAL = str.maketrans("CANOIL", "canoil")
_CONTENT_LANGUAGE = str.maketrans("CONTEGLAU", "conteglau")
_XML_SPACE = re.compile(r"[ \t\r\n]+")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class CleanArticle(BaseModel):
    """The cleaned article: what the extractors read and the warehouse stores."""

    model_config = ConfigDict(extra="forbid")

    url: str
    canonical_url: str
    title: str | None = None
    author: str | None = None
    published: date | None = None
    language: str | None = None
    text: str
    content_hash: str


class CleanResult(BaseModel):
    """``article`` on success, else ``error`` (reason code) and ``detail``."""

    model_config = ConfigDict(extra="forbid")

    article: CleanArticle | None = None
    error: str | None = None
    detail: str | None = None


def normalise_text(text: str) -> str:
    """NFC and single spaces: the form hashed, so layout changes do not look like edits."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def content_hash(text: str) -> str:
    """sha256 hex of :func:`normalise_text` (stable across re-wrapping and markup changes)."""
    return _hash_normalised(normalise_text(text))


def _hash_normalised(normalised: str) -> str:
    """:func:`content_hash` of a text already through :func:`normalise_text` (``_clean``
    has it from its length check: normalising twice was most of the hashing cost)."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def _head_info(tree: HtmlElement, url: str) -> tuple[str | None, str | None, str | None]:
    """(canonical href, language, fallback title) read from the document head.

    What these XPath expressions select, in document order, read in one walk over the
    page's <link>, <meta> and <title> elements (three ``//`` XPath scans were 0.5 ms a page):
    ``//link[contains(concat(' ', normalize-space(translate(@rel, 'CANONICAL', 'canonical')),
    ' '), ' canonical ')]/@href``; ``/html/@lang | /html/@xml:lang | //meta[translate(
    @http-equiv, 'CONTENT-LANGUAGE', 'content-language') = 'content-language']/@content |
    //meta[@property='og:locale']/@content``; ``//meta[@property='og:title']/@content |
    //title/text()``. tests/test_ingest_clean.py compares the two on every stored page.
    """
    hrefs: list[str] = []
    langs: list[str] = []
    if tree.tag == "html":  # attributes in document order, as an XPath union returns them
        langs = [v for k, v in tree.attrib.items() if k in ("lang", _XML_LANG)]
    titles: list[str] = []
    for elem in tree.iter("link", "meta", "title"):
        get = elem.get
        if elem.tag == "link":
            rel = get("rel")
            if rel is not None and "canonical" in _XML_SPACE.split(rel.translate(_CANONICAL)):
                href = get("href")
                if href is not None:
                    hrefs.append(href)
        elif elem.tag == "meta":
            content = get("content")
            if content is None:
                continue
            prop, equiv = get("property"), get("http-equiv")
            if prop == "og:locale" or (
                    equiv is not None and equiv.translate(_CONTENT_LANGUAGE) == "content-language"):
                langs.append(content)
            if prop == "og:title":
                titles.append(content)
        elif elem.text is not None:  # <title>: its text node (the parser drops comments)
            titles.append(elem.text)
    canonical = next((urljoin(url, h.strip()) for h in hrefs if h and h.strip()), None)
    lang = None
    for cand in langs:
        cand = str(cand).strip().split(",")[0].strip()
        if _LANG.match(cand):
            lang = cand.replace("_", "-").split("-")[0].lower()
            break
    title = next((str(t).strip() for t in titles if str(t).strip()), None)
    return canonical, lang, title


def _pick_canonical(canonical: str | None, url: str) -> str:
    """Use the page's canonical link unless it is clearly bogus (non-web, or the site root
    for an article that is not itself the root: a common CMS misconfiguration)."""
    fallback = canonicalize(url)
    if not canonical or urlsplit(canonical).scheme.lower() not in ("http", "https"):
        return fallback
    if urlsplit(canonical).path in ("", "/") and urlsplit(url).path not in ("", "/"):
        return fallback
    return canonicalize(canonical)


def _strip_site_name(title: str, sitename: str | None, url: str) -> str:
    """Drop a trailing "| Site Name" (or "- Site - date") from a page title.

    Page titles carry the site name for search engines; the article title does not, and
    keeping it would make the same story look different across syndication partners.
    Only a suffix that names the site (og:site_name or the host) is cut, never content.
    """
    names = {n.strip().lower() for n in (sitename or "").split("|") if len(n.strip()) >= 2}
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    if host:
        names.add(host)
        names.add(host.split(".")[0])
    parts = _TITLE_SEP.split(title)
    for i in range(1, len(parts)):
        seg = parts[i].strip().lower()
        if seg and any(
            seg == n or (len(n) >= 3 and n in seg) or (len(seg) >= 3 and seg in n) for n in names
        ):
            head = title[: _nth_sep_start(title, i)].strip()
            if len(head) >= 10:
                return head
            break
    return title


def _nth_sep_start(title: str, n: int) -> int:
    """Index where the ``n``-th title separator starts."""
    matches = list(_TITLE_SEP.finditer(title))
    return matches[n - 1].start() if len(matches) >= n else len(title)


def _to_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def clean_html(
    body: bytes | str, url: str, *, min_chars: int = MIN_TEXT_CHARS, charset: str | None = None
) -> CleanResult:
    """Extract the main text and metadata of an article page; never raises.

    ``charset``: the one the HTTP Content-Type declared (:func:`ingest.content.charset_of`).
    """
    try:
        return _clean(body, url, min_chars, charset)
    except Exception as exc:  # noqa: BLE001 — a crash in a parser must not abort a batch
        return CleanResult(error="parse_error", detail=f"{type(exc).__name__}: {exc}")


def _link_texts(tree: HtmlElement) -> set[str]:
    """The normalised text of every link on the page.

    ``text_content()`` is an XPath ``string()`` call; a link with no child nodes other than
    text (``len`` counts elements, comments and processing instructions), seven in ten, has
    that string as its ``.text``, read without the call.
    """
    return {normalise_text(a.text_content() if len(a) else a.text or "")
            for a in tree.iter("a")} - {""}


def _only_links(text: str, anchors: set[str]) -> bool:
    """True when (nearly) every line of ``text`` is the text of a link: a menu or a section
    front, not an article. Trafilatura's fallback happily returns such link lists as text
    (tests/test_reliability_pages.py), and they would be stored as junk articles."""
    lines = [normalise_text(line) for line in text.splitlines() if line.strip()]
    total = sum(len(line) for line in lines)
    return total > 0 and sum(len(line) for line in lines if line in anchors) >= 0.9 * total


@cache
def _extraction_options() -> Any:
    """trafilatura's options for every page, built once per process.

    Building them reads trafilatura's settings file through configparser, ~0.25 ms a page
    when ``bare_extraction`` does it for each call.
    """
    from trafilatura.settings import Extractor

    return Extractor(
        output_format="python",  # bare_extraction's default: the text as ``doc.text``
        with_metadata=False,  # only the fields we store, below (ingest/page_meta.py)
        comments=False,
        tables=True,
        precision=False,
        dedup=False,
        # No readability/jusText fallback: 14 % of the clean time, and on the 439 zyte and
        # fundus pages the text is as good without it (benchmarks/README.md, "Cleaning").
        fast=True,
    )


def _options_for(url: str) -> Any:
    """The shared options with this page's URL, as ``bare_extraction(url=url)`` sets it."""
    options = copy(_extraction_options())  # trafilatura never changes them, but be sure
    options.url = url
    options.source = url.encode("utf-8", "replace").decode("utf-8")
    return options


def _clean(body: bytes | str, url: str, min_chars: int, charset: str | None = None) -> CleanResult:
    if body is None or not (body.strip() if isinstance(body, (bytes, str)) else None):
        return CleanResult(error="empty_body", detail="no content")
    text_in, utf8 = decode_page(body, charset)
    tree = parse_html(text_in.replace("\x00", ""), utf8)  # trafilatura's load_html tree
    if tree is None:
        return CleanResult(error="parse_error", detail="not parseable as HTML")
    # Everything read from the tree is read first: the extraction then changes it in place
    # (ingest.main_text: a whole-tree copy a page saved).
    canonical, lang, head_title = _head_info(tree, url)
    anchors = _link_texts(tree)
    meta = page_metadata(tree, url)
    text = (consume_main_text(tree, _options_for(url)) or "").strip()
    del tree
    normalised = normalise_text(text)  # measured here, hashed below
    if len(normalised) < min_chars:
        return CleanResult(
            error="no_text", detail=f"{len(normalised)} characters of text (< {min_chars})"
        )
    if _only_links(text, anchors):
        return CleanResult(error="no_text", detail="the page is only navigation links")
    title = (meta.title or head_title or "").strip() or None
    if title:
        title = _strip_site_name(title, meta.sitename, url)
    author = (meta.author or "").strip() or None
    article = CleanArticle(
        url=url,
        canonical_url=_pick_canonical(canonical, url),
        title=title,
        author=author,
        published=_to_date(meta.date),
        language=pick_language(lang, text),
        text=text,
        content_hash=_hash_normalised(normalised),
    )
    return CleanResult(article=article)
