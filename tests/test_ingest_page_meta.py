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

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "pages"
PAGES = sorted((SHARED / "zyte" / "html").glob("*.html.gz")) + sorted(
    (SHARED / "fundus").glob("*/*.html.gz"))
FIELDS = ("title", "author", "date", "sitename")


def _tree(path: Path):  # type: ignore[no-untyped-def]
    return load_html(decode_html(gzip.decompress(path.read_bytes())))


def test_pages_are_there() -> None:
    assert len(PAGES) >= 400, f"expected the zyte and fundus pages under {SHARED}"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name.split(".")[0][:24])
def test_same_fields_as_trafilatura(path: Path) -> None:
    url = f"https://news.example/{path.parent.name}/{path.name.removesuffix('.html.gz')}"
    full = extract_metadata(_tree(path), default_url=url)
    ours = page_metadata(_tree(path), url)
    assert {f: getattr(ours, f) for f in FIELDS} == {f: getattr(full, f) for f in FIELDS}


def test_tree_is_not_modified() -> None:
    from lxml.html import tostring

    tree = _tree(PAGES[0])
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
