"""ingest.page_meta gives trafilatura's own metadata values, field for field, on real pages.

page_metadata is a cheaper route to four of extract_metadata's fields (it skips
categories, tags and licence); this proves the route changes no value Muster stores.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from ingest.clean import decode_html
from ingest.page_meta import page_metadata
from tests.stored_pages import SHARED_PAGES, STORED_PAGES

FIELDS = ("title", "author", "date", "sitename")


def _tree(path: Path):  # type: ignore[no-untyped-def]
    return load_html(decode_html(gzip.decompress(path.read_bytes())))


def test_pages_are_there() -> None:
    assert len(STORED_PAGES) >= 400, f"expected the zyte and fundus pages under {SHARED_PAGES}"


@pytest.mark.parametrize("path", STORED_PAGES, ids=lambda p: p.name.split(".")[0][:24])
def test_same_fields_as_trafilatura(path: Path) -> None:
    url = f"https://news.example/{path.parent.name}/{path.name.removesuffix('.html.gz')}"
    full = extract_metadata(_tree(path), default_url=url)
    ours = page_metadata(_tree(path), url)
    assert {f: getattr(ours, f) for f in FIELDS} == {f: getattr(full, f) for f in FIELDS}


def test_tree_is_not_modified() -> None:
    from lxml.html import tostring

    tree = _tree(STORED_PAGES[0])
    before = tostring(tree)
    page_metadata(tree, "https://news.example/a")
    assert tostring(tree) == before


def _page_with_json_ld(block: str) -> str:
    return ("<html><head><title>Troops sent | Example News</title>"
            '<meta name="author" content="Meta Author">'
            f'<script type="application/ld+json">{block}</script></head>'
            "<body><article><p>Text.</p></article></body></html>")


def test_a_huge_json_ld_block_is_still_read() -> None:
    import json

    from ingest.page_meta import JSON_LD_MAX_CHARS

    block = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                        "headline": "Troops sent to the border",
                        "author": {"@type": "Person", "name": "Jane Reporter"},
                        "articleBody": "word " * (JSON_LD_MAX_CHARS // 5)})
    assert len(block) > JSON_LD_MAX_CHARS
    meta = page_metadata(load_html(_page_with_json_ld(block)), "https://news.example/a")
    assert meta.author == "Meta Author; Jane Reporter"  # trafilatura joins meta tag and JSON-LD


def test_a_huge_broken_json_ld_block_is_skipped() -> None:
    from ingest.page_meta import JSON_LD_MAX_CHARS

    block = '{"@type": "NewsArticle", "author": {"name": "Jane Reporter"}, ' + (
        '"x": "y", ' * (JSON_LD_MAX_CHARS // 10))  # never closed: not JSON
    meta = page_metadata(load_html(_page_with_json_ld(block)), "https://news.example/a")
    # Not "Jane Reporter": trafilatura's regex fallback would dig it out, in quadratic time.
    assert (meta.author, meta.title) == ("Meta Author", "Troops sent")


# --- the exact shortcuts page_metadata takes (see ingest/page_meta.py) ------------------

def _all_trees() -> list:  # type: ignore[type-arg]
    return [_tree(p) for p in STORED_PAGES]


def test_shortcuts_are_active() -> None:
    """The shortcuts are proven for trafilatura's audited code only; a different version
    makes them fall back to trafilatura's own functions (still correct, but slower). This
    fails then, so that the new code is audited (and the hashes updated) on purpose."""
    from ingest.page_meta import _audited

    assert _audited() is not None


def test_byline_candidates_are_trafilaturas_xpaths() -> None:
    """The Python byline tests select what AUTHOR_XPATHS select: on every stored page and on
    a page made of every clause of the three expressions (hits and near misses)."""
    from trafilatura.xpaths import AUTHOR_XPATHS

    from ingest.page_meta import _byline_candidates

    values = ["author", "authorname", "author-name", "AuthorName", "authorName", "Author",
              "byline", "Byline", "username", "byl", "BBL", "author name", "AuthorCard",
              "AuthorURL", "zuozhe", "bianji", "xiaobian", "channel-name", "submitted-by",
              "posted-by", "journalist-name", "screenname", "writer", "x-writer-y", "auth",
              "AUTHOR", "by-line", "", "name author"]
    attrs = ["class", "id", "rel", "itemprop", "data-testid", "data-component"]
    tags = ["a", "address", "div", "link", "p", "span", "strong", "h3", "h4", "section", "li"]
    cells = "".join(f'<{t} {a}="{v}">x</{t}>' if t != "link" else f'<link {a}="{v}">'
                    for t in tags for a in attrs for v in values)
    synthetic = load_html(f"<html><head></head><body>{cells}<author>A B</author></body></html>")
    for tree in [synthetic, *_all_trees()]:
        ours = _byline_candidates(tree)
        assert ours is not None
        assert ours == [x(tree) for x in AUTHOR_XPATHS]


AUTHOR_CASES = [
    # a byline with a date inside: pruning deletes the <time> and joins the text around it
    '<div class="byline">By <a href="/j">Jane Roe</a><time>May 1</time>, staff</div>',
    # a byline inside a comments section is pruned away, the next one is used
    '<div class="comments"><span class="author">Troll Person</span></div>'
    '<p class="author">Kim Lee</p>',
    # nested candidates; figure caption credits are pruned
    '<div class="author-box"><figure><span class="author">Photo Guy</span></figure>'
    '<span class="author-name">Ann Smith</span></div>',
    # the first XPath finds only too-long text, the third one a short byline
    '<span class="author">' + "word " * 40 + '</span><em data-component="Byline">Bo Li</em>',
    # rel='me' reads a child <rel> element's text: trafilatura's own path
    '<a><rel>m<time>x</time>e</rel>Rel Person</a>',
    # nothing at all
    "<p>No byline here.</p>",
    # a sidebar wrapping a byline, and a tail after a pruned element
    '<div class="sidebar"><p class="byline">Side Bar</p></div><div class="byline">'
    '<span class="date">today</span>Real Author</div>',
]


@pytest.mark.parametrize("body", AUTHOR_CASES)
def test_author_without_the_copy_on_crafted_pages(body: str) -> None:
    from lxml.html import tostring
    from trafilatura.metadata import extract_author

    from ingest.page_meta import extract_author_unpruned

    tree = load_html(f"<html><head><title>t</title></head><body>{body}</body></html>")
    before = tostring(tree)
    assert extract_author_unpruned(tree) == extract_author(tree)
    assert tostring(tree) == before  # pruning happened on copies only


def test_author_without_the_copy_on_every_stored_page() -> None:
    from trafilatura.metadata import extract_author

    from ingest.page_meta import extract_author_unpruned

    trees = _all_trees()
    found = [extract_author(t) for t in trees]
    assert sum(a is not None for a in found) >= 200  # the comparison is not vacuous
    assert [extract_author_unpruned(t) for t in trees] == found
