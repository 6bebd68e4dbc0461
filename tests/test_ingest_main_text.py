"""ingest.main_text gives exactly ``bare_extraction(tree).text``, without its tree copy.

Every stored page is extracted both ways from two parses of the same bytes, plus crafted
pages for the branches that return nothing, and the fallbacks (options the shortcut does not
cover, a trafilatura that is not the audited one) are shown to be ``bare_extraction`` itself.
"""

from __future__ import annotations

import gzip
from copy import copy
from pathlib import Path

import pytest
from trafilatura import bare_extraction

import ingest.main_text as main_text
from ingest.clean import _options_for
from ingest.html_tree import decode_page, parse_html
from ingest.main_text import consume_main_text
from tests.stored_pages import SHARED_PAGES, STORED_PAGES

URL = "https://example.org/news/1.html"
_PARAGRAPH = "Troops crossed into Kursk overnight, officials in Kyiv said on Monday. "
CRAFTED = {
    "article": f"<html><body><article><p>{_PARAGRAPH * 8}</p></article></body></html>",
    "empty_body": "<html><head><title>T</title></head><body></body></html>",
    "one_short_line": "<html><body><div><span>Hi</span></div></body></html>",
    "nav_only": "<html><body><nav>" + "".join(
        f"<a href='/s/{i}'>Section {i}</a>" for i in range(30)) + "</nav></body></html>",
    "short_article": f"<html><body><article><p>{_PARAGRAPH}</p></article></body></html>",
}


def _both(body: bytes, options: object | None = None) -> tuple[str | None, str | None]:
    """(consume_main_text, bare_extraction().text) over two parses of ``body``."""
    text, utf8 = decode_page(body)
    mine_tree, ref_tree = parse_html(text, utf8), parse_html(text, utf8)
    if mine_tree is None:
        return None, None
    options = options or _options_for(URL)
    ref = bare_extraction(ref_tree, options=copy(options))
    return consume_main_text(mine_tree, copy(options)), (ref.text if ref is not None else None)


def test_the_shortcut_is_active() -> None:
    """Proven for the audited bare_extraction only: another trafilatura falls back to it
    (correct, slower). This fails then, so the new code is audited on purpose."""
    assert main_text._audited()
    assert main_text._covered(_options_for(URL))


def test_pages_are_there() -> None:
    assert len(STORED_PAGES) >= 400, f"expected the zyte and fundus pages under {SHARED_PAGES}"


@pytest.mark.parametrize("path", STORED_PAGES, ids=lambda p: p.name.split(".")[0][:24])
def test_stored_page(path: Path) -> None:
    mine, ref = _both(gzip.decompress(path.read_bytes()))
    assert mine == ref


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_page(name: str) -> None:
    mine, ref = _both(CRAFTED[name].encode())
    assert mine == ref


def test_the_crafted_pages_reach_both_outcomes() -> None:
    """Text on some, None on others: the None branches are exercised, not assumed."""
    outcomes = {name: _both(body.encode())[0] for name, body in CRAFTED.items()}
    assert outcomes["article"] and _PARAGRAPH.strip() in outcomes["article"]
    assert outcomes["empty_body"] is None


def test_uncovered_options_use_bare_extraction() -> None:
    options = copy(_options_for(URL))
    options.with_metadata = True
    assert not main_text._covered(options)
    mine, ref = _both(CRAFTED["article"].encode(), options)
    assert mine == ref and mine


def test_an_unaudited_trafilatura_uses_bare_extraction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main_text, "_AUDITED_SHA256", "0" * 64)
    main_text._audited.cache_clear()
    try:
        assert not main_text._audited()
        body = gzip.decompress(STORED_PAGES[0].read_bytes())
        mine, ref = _both(body)
        assert mine == ref and mine
    finally:
        main_text._audited.cache_clear()
