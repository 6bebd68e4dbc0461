"""trafilatura's main text of a page, taken from a tree trafilatura may change.

``trafilatura.bare_extraction(tree)`` deep-copies a tree it is given (``if tree is
filecontent: tree = copy(tree)``) so the caller's tree survives: 3 % of a cleaning worker's
time by py-spy, and cleaning is ~0.7 ms a page faster without it (878 benchmark pages,
alternating runs; ingest/README.md). ``ingest.clean`` reads all it
needs from the tree first (page head, link texts, metadata), so :func:`consume_main_text`
hands the tree itself to what ``bare_extraction`` runs next and does the rest of its work
for the options Muster uses (text only: no metadata, no language filter, no dedup, no
pruning XPaths of its own). The text is the same, character for character.

That is proven for the audited ``bare_extraction`` only (``_audited`` hashes its source,
as :mod:`ingest.html_tree` does for ``load_html``); another trafilatura, or options this
shortcut does not cover, go through ``bare_extraction`` itself. tests/test_ingest_main_text.py
compares both on every stored page.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from lxml.html import HtmlElement

from ingest.audit import source_matches

__all__ = ["consume_main_text"]

_AUDITED_SHA256 = "2e57adb3062086f9695046cf58b1a8825143322fe74e74739791dff6d8da9fea"


@cache
def _audited() -> bool:
    """Whether ``trafilatura.core.bare_extraction`` is the audited code."""
    from trafilatura import core

    return source_matches([core.bare_extraction], _AUDITED_SHA256,
                          "trafilatura's bare_extraction: it is called as is")


def _covered(options: Any) -> bool:
    """The options the shortcut reproduces ``bare_extraction`` for."""
    return (options.format == "python" and not options.with_metadata and not options.lang
            and not options.dedup and not options.comments)


def consume_main_text(tree: HtmlElement, options: Any) -> str | None:
    """``bare_extraction(tree, options=options).text`` (None when it returns None).

    ``tree`` is trafilatura's to change: read nothing from it afterwards.
    """
    from trafilatura import bare_extraction

    if not (_audited() and _covered(options)):
        doc = bare_extraction(tree, options=options)
        return doc.text if doc is not None else None
    from lxml.etree import strip_tags
    from trafilatura.core import trafilatura_sequence
    from trafilatura.xml import xmltotxt

    try:
        postbody, text, _, comments = trafilatura_sequence(tree, options, options.url)
        if options.max_tree_size and len(postbody) > options.max_tree_size:
            strip_tags(postbody, "hi")
            if len(postbody) > options.max_tree_size:
                return None
        if len(text) < options.min_output_size and len(comments) < options.min_output_comm_size:
            return None
    except (TypeError, ValueError):  # bare_extraction's "discarding data"
        return None
    return xmltotxt(postbody, options.formatting)
