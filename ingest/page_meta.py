"""The page metadata Muster stores (title, author, date, site name), from trafilatura's parts.

Why not ``bare_extraction(with_metadata=True)``: that runs trafilatura's whole
``extract_metadata``, about a third of a page's cleaning time (benchmarks/README.md,
"Cleaning"), and most of it goes to fields Muster never stores: categories and tags
(``extract_catstags`` walks every link twice), the licence, the URL and the host name.
This module calls the same trafilatura functions, in the same order and with the same
precedence (``<meta>`` tags, then JSON-LD, then the page's own title and byline markup,
then htmldate), for the four fields ``ingest.clean`` uses, so the values are trafilatura's
own; tests/test_ingest_page_meta.py checks them against trafilatura's full metadata on
every stored page. One part is done differently, with the same result, because it was most
of the remaining cost: the author (``extract_author_unpruned``: no copy of the page), proven
for the audited trafilatura code only, with trafilatura's own function for any other.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import cache
from typing import Any

from lxml.etree import XPath
from lxml.html import HtmlElement

from ingest.audit import source_matches

__all__ = ["PageMeta", "extract_author_unpruned", "page_metadata"]

_LOG = logging.getLogger(__name__)
# Dates: trafilatura runs htmldate's extensive search (it also scans the page text) on
# every page, ~3 ms a page. Here htmldate's quick search runs first and the extensive one
# only when the quick one finds nothing: on all 439 stored pages this gives extensive's
# date (tests/test_ingest_page_meta.py), for ~0.9 ms a page instead of ~3.1.
# JSON-LD blocks longer than this are read by ``json`` alone (see ``_json_ld``).
JSON_LD_MAX_CHARS = 100_000
_JSON_LD_TYPES = ("application/ld+json", "application/settings+json")


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
        META_URL,
        examine_meta,
        extract_sitename,
        extract_title,
        extract_url,
    )
    from trafilatura.settings import set_date_params

    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # a single word is a site handle, not a byline (trafilatura's rule)
    try:
        meta = _json_ld(tree, meta)
    except Exception as err:  # noqa: BLE001 — trafilatura guards its JSON-LD code the same way
        _LOG.warning("error in JSON metadata extraction: %s", err)
    title = meta.title or extract_title(tree)
    author = meta.author or extract_author_unpruned(tree)
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

    # trafilatura's XPath './/script[@type="application/ld+json" or
    # @type="application/settings+json"]' as a C-level walk: same elements, a third cheaper.
    for elem in tree.iterdescendants("script"):
        if elem.get("type") not in _JSON_LD_TYPES or not elem.text:
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


# --- Authors without trafilatura's whole-tree copy -------------------------------------
# trafilatura's ``extract_author`` deep-copies the page, deletes comment, sidebar, date,
# <time> and <figure> sections from the copy (``AUTHOR_DISCARD_XPATHS``) and runs three
# byline XPaths (``AUTHOR_XPATHS``) on it: ~7 ms on a page whose meta tags and JSON-LD name
# no author (a third of them), almost all in libxml2 evaluating those XPaths' predicates.
# ``extract_author_unpruned`` gives the same answer without the copy, in one Python pass:
# 1. Every byline and discard XPath tests an element's own tag and attributes only (the
#    one exception, ``rel='me'``, reads a <rel> child's text: such pages take trafilatura's
#    path). So on the pruned copy a byline XPath selects exactly the elements it selects
#    on the page that pruning keeps (no ancestor-or-self deleted), in the same order.
# 2. A kept element's text changes only by deletions inside its subtree (a deletion moves
#    the deleted element's tail to its previous sibling or parent, both in the subtree),
#    and pruning a copy of that subtree makes the same deletions in the same order.
# 3. ``_byline_candidates`` is the three byline XPaths written as Python tests: same tags,
#    attribute equalities, ``contains`` as ``in`` and EXSLT ``re:test`` as ``re.search``
#    with the same patterns (tests/test_ingest_page_meta.py compares them on every page).
# trafilatura's ``extract_metainfo`` and ``normalize_authors`` still make the value. The
# proof is about the audited expressions and functions: ``_audited`` hashes them, and a
# different trafilatura falls back to ``extract_author``.
_AUDITED_SHA256 = "79881fb7218c8c26dd0b57d480f779f3c3bca95f3e5ea6aed653d59e59756724"
_TAGS_1 = frozenset(("a", "address", "div", "link", "p", "span", "strong"))
_TAGS_2 = frozenset(("a", "div", "h3", "h4", "p", "span"))
_CLASS_1 = re.compile("author-?name|AuthorName|authorName")
_ID_2 = re.compile("author|zuozhe|bianji|xiaobian")
_CLASS_2 = re.compile(
    "author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
_ID_3 = re.compile("[Aa]uthor")
_CLASS_3 = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")


@cache
def _audited() -> tuple[XPath, XPath] | None:
    """Tests whether pruning deletes an element itself (one per ``AUTHOR_DISCARD_XPATHS``
    entry), or None when trafilatura's author code is not the audited one."""
    from trafilatura import htmlprocessing, metadata, xml
    from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS, REGEXP_NS

    if not source_matches(
            (metadata.extract_author, metadata.extract_metainfo,
             htmlprocessing.prune_unwanted_nodes, xml.delete_element), _AUDITED_SHA256,
            "trafilatura's author extraction: extract_author runs",
            extra=[x.path for x in (*AUTHOR_XPATHS, *AUTHOR_DISCARD_XPATHS)]):
        return None
    # ".//*[tag test][attribute test]" -> "self::*[tag test][attribute test]"
    first = AUTHOR_DISCARD_XPATHS[0].path.strip().removeprefix(".//*")
    return (XPath("self::*" + first, namespaces={"re": REGEXP_NS}),
            XPath("self::time|self::figure"))  # AUTHOR_DISCARD_XPATHS[1]: //time|//figure


def _byline_candidates(root: HtmlElement) -> list[list[HtmlElement]] | None:
    """What each of trafilatura's ``AUTHOR_XPATHS`` selects in ``root``'s document, in
    document order; None if the page has a <rel> element (``rel='me'``: see above)."""
    found: list[list[HtmlElement]] = [[], [], []]
    for elem in root.iter():
        tag = elem.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        if tag == "rel":
            return None
        get = elem.get
        cls, id_, itemprop = get("class"), get("id"), get("itemprop")
        if tag == "author" or tag in _TAGS_1 and (
                get("rel") == "author" or id_ == "author" or cls == "author"
                or itemprop == "author name" or get("data-testid") in ("AuthorCard", "AuthorURL")
                or cls is not None and _CLASS_1.search(cls)):
            found[0].append(elem)
        if tag in _TAGS_2 and (
                cls in ("byline", "username", "byl", "BBL")
                or itemprop is not None and "author" in itemprop
                or id_ is not None and _ID_2.search(id_)
                or cls is not None and _CLASS_2.search(cls)):
            found[1].append(elem)
        component = get("data-component")
        if (component is not None and "Byline" in component
                or itemprop is not None and "author" in itemprop
                or id_ is not None and _ID_3.search(id_)
                or cls is not None and _CLASS_3.search(cls)):
            found[2].append(elem)
    return found


class _Survivors(Sequence[HtmlElement]):
    """What a byline XPath selects on the pruned copy, for ``extract_metainfo``.

    It only iterates the results and takes their ``len``. Iterating yields, for an element
    with children, a pruned copy of its subtree (whose text is the pruned page's text), and
    the element itself otherwise (nothing in it can be pruned).
    """

    def __init__(self, elems: list[HtmlElement]) -> None:
        self._elems = elems

    def __len__(self) -> int:
        return len(self._elems)

    def __getitem__(self, i: Any) -> Any:  # Sequence's contract; extract_metainfo iterates
        return self._elems[i]

    def __iter__(self) -> Iterator[HtmlElement]:
        from trafilatura.htmlprocessing import prune_unwanted_nodes
        from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS

        for elem in self._elems:
            yield prune_unwanted_nodes(deepcopy(elem), AUTHOR_DISCARD_XPATHS) if len(elem) else elem


def extract_author_unpruned(tree: HtmlElement) -> str | None:
    """``trafilatura.metadata.extract_author(tree)``, without copying and pruning the tree
    (see the comment above ``_AUDITED_SHA256``)."""
    from trafilatura.json_metadata import normalize_authors
    from trafilatura.metadata import extract_author, extract_metainfo

    discarded = _audited()
    # ``//`` must mean this tree, as it does for trafilatura's copy.
    is_root = tree.getparent() is None and tree.getroottree().getroot() is tree
    if discarded is None or not is_root:
        return extract_author(tree)
    candidates = _byline_candidates(tree)
    if candidates is None:
        return extract_author(tree)
    pruned: dict[HtmlElement, bool] = {}

    def is_pruned(elem: HtmlElement) -> bool:
        """True when pruning deletes ``elem`` or an ancestor (the root is never deleted)."""
        chain = [elem, *elem.iterancestors()][:-1] if elem is not tree else []
        for node in chain:
            if node not in pruned:
                pruned[node] = any(test(node) for test in discarded)
            if pruned[node]:
                return True
        return False

    def surviving(found: list[HtmlElement]) -> Callable[[HtmlElement], _Survivors]:
        return lambda _: _Survivors([e for e in found if not is_pruned(e)])

    author = extract_metainfo(tree, [surviving(found) for found in candidates], len_limit=120)
    return normalize_authors(None, author) if author else None
