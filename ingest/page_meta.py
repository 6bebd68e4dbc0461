"""The page metadata Muster stores (title, author, date, site name), from trafilatura's parts.

Why not ``bare_extraction(with_metadata=True)``: that runs trafilatura's whole
``extract_metadata``, about a third of a page's cleaning time (benchmarks/README.md,
"Cleaning"), and most of it goes to fields Muster never stores: categories and tags
(``extract_catstags`` walks every link twice), the licence, the URL and the host name.
This module calls the same trafilatura functions, in the same order and with the same
precedence (``<meta>`` tags, then JSON-LD, then the page's own title and byline markup,
then htmldate), for the four fields ``ingest.clean`` uses, so the values are trafilatura's
own; tests/test_ingest_clean.py checks them against trafilatura's full metadata on every
stored page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

__all__ = ["PageMeta", "page_metadata"]

_LOG = logging.getLogger(__name__)
# Dates: trafilatura runs htmldate's extensive search (it also scans the page text) on
# every page, ~3 ms a page. Here htmldate's quick search runs first and the extensive one
# only when the quick one finds nothing: on all 439 stored pages this gives extensive's
# date (tests/test_ingest_page_meta.py), for ~0.9 ms a page instead of ~3.1.
# JSON-LD blocks longer than this are read by ``json`` alone (see ``_json_ld``).
JSON_LD_MAX_CHARS = 100_000


@dataclass(frozen=True)
class PageMeta:
    """The metadata fields ``ingest.clean`` reads (``None`` where the page has none)."""

    title: str | None = None
    author: str | None = None
    date: str | None = None  # ISO ``YYYY-MM-DD``, as htmldate returns it
    sitename: str | None = None


def page_metadata(tree: HtmlElement, url: str) -> PageMeta:
    """trafilatura's title, author, date and site name of ``tree`` (which is not modified).

    Mirrors ``trafilatura.metadata.extract_metadata`` (trafilatura 2.x) minus categories,
    tags and licence; never raises past trafilatura's own JSON-LD guard.
    """
    from htmldate import find_date
    from trafilatura.metadata import (
        examine_meta,
        extract_author,
        extract_meta_json,
        extract_sitename,
        extract_title,
        extract_url,
    )
    from trafilatura.metadata import META_URL
    from trafilatura.settings import set_date_params

    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # a single word is a site handle, not a byline (trafilatura's rule)
    try:
        meta = _json_ld(tree, meta)
    except Exception as err:  # noqa: BLE001 — trafilatura guards its JSON-LD code the same way
        _LOG.warning("error in JSON metadata extraction: %s", err)
    title = meta.title or extract_title(tree)
    author = meta.author or extract_author(tree)
    page_url = meta.url or extract_url(tree, url)
    params = set_date_params(False)  # quick search first: see "Dates" above
    params["url"] = page_url  # a date in the URL is evidence
    date = find_date(tree, **params) or find_date(tree, **{**params, "extensive_search": True})
    sitename = meta.sitename or extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
    elif page_url and (host := META_URL.match(page_url)):
        sitename = host[1]
    meta.title, meta.author, meta.date, meta.sitename = title, author, date, sitename
    meta.clean_and_trim()  # entities, spaces, control characters: as extract_metadata ends
    return PageMeta(title=meta.title, author=meta.author, date=meta.date, sitename=meta.sitename)


def _json_ld(tree: HtmlElement, meta: Any) -> Any:
    """``trafilatura.metadata.extract_meta_json``, with a size cap on its fallback parser.

    trafilatura normalises each JSON-LD block with regexes and, when the result does not
    parse, digs authors and titles out of the text with more regexes, one removal at a
    time: quadratic in the block's length. One 840 KB block on a stored Mirror page took
    1.07 s, more than the metadata of the other 438 pages together. Blocks up to
    ``JSON_LD_MAX_CHARS`` go through trafilatura's code as before; longer ones are parsed
    with ``json`` as they are and read by trafilatura's own ``extract_json``, or skipped
    if they are not valid JSON.
    """
    import json

    from trafilatura.json_metadata import extract_json, extract_json_parse_error, normalize_json
    from trafilatura.metadata import JSON_MINIFY

    xpath = './/script[@type="application/ld+json" or @type="application/settings+json"]'
    for elem in tree.xpath(xpath):
        if not elem.text:
            continue
        if len(elem.text) > JSON_LD_MAX_CHARS:
            try:
                meta = extract_json(json.loads(elem.text, strict=False), meta)
            except (json.JSONDecodeError, RecursionError):
                _LOG.info("skipped a %d-character JSON-LD block that is not JSON", len(elem.text))
            continue
        text = normalize_json(JSON_MINIFY.sub(r"\1", elem.text))
        try:
            meta = extract_json(json.loads(text, strict=False), meta)
        except json.JSONDecodeError:
            meta = extract_json_parse_error(text, meta)
    return meta
