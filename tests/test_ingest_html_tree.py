"""ingest.html_tree parses pages into exactly trafilatura's ``load_html`` tree.

``parse_html`` reads UTF-8 bytes instead of the decoded string (faster, see its module);
these tests prove the tree is the same, element for element, on every stored page and on
pages made to hit each repair ``load_html`` does, and that the bytes are only used when
they are the text's own encoding.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from lxml.etree import tostring
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.utils import load_html

from ingest.clean import _options_for
from ingest.html_tree import _audited, decode_page, parse_html
from ingest.page_meta import page_metadata
from tests.stored_pages import SHARED_PAGES, STORED_PAGES


def _same_as_trafilatura(body: bytes, charset: str | None = None) -> bytes | None:
    """Parse ``body`` both ways; fail unless the trees serialise identically."""
    text, utf8 = decode_page(body, charset)
    text = text.replace("\x00", "")  # as ingest.clean does before parsing
    ours, theirs = parse_html(text, utf8), load_html(text)
    assert (ours is None) == (theirs is None)
    if ours is None:
        return None
    assert tostring(ours) == tostring(theirs)
    return utf8


def _same_extraction(body: bytes) -> None:
    """trafilatura's text and the page metadata are the same from either tree: the element
    classes differ (all ``HtmlElement`` in ours, form subclasses in load_html's)."""
    text, utf8 = decode_page(body)
    ours, theirs = parse_html(text.replace("\x00", ""), utf8), load_html(text.replace("\x00", ""))
    if ours is None:
        return
    url = "https://example.org/a/1.html"
    mine, ref = (bare_extraction(tree, options=_options_for(url)) for tree in (ours, theirs))
    assert (mine and mine.text) == (ref and ref.text)
    assert page_metadata(ours, url) == page_metadata(theirs, url)


def test_the_shortcut_is_active() -> None:
    """Proven for the audited trafilatura.utils only: another version falls back to
    load_html (correct, slower). This fails then, so the new code is audited on purpose."""
    assert _audited()


def test_pages_are_there() -> None:
    assert len(STORED_PAGES) >= 400, f"expected the zyte and fundus pages under {SHARED_PAGES}"


@pytest.mark.parametrize("path", STORED_PAGES, ids=lambda p: p.name.split(".")[0][:24])
def test_stored_page(path: Path) -> None:
    body = gzip.decompress(path.read_bytes())
    _same_as_trafilatura(body)
    _same_extraction(body)


def test_elements_are_plain_html_elements() -> None:
    """The point of ``_parser``: no form subclasses (and no Python lookup to make them)."""
    page = ("<html><body><form id='aspnetForm'><input name=q><select><option>a</option>"
            "</select><textarea>t</textarea><label>l</label>"
            f"<p>{'Troops crossed the border at dawn. ' * 20}</p></form></body></html>")
    text, utf8 = decode_page(page.encode())
    tree = parse_html(text, utf8)
    assert {type(e) for e in tree.iter()} == {HtmlElement}
    assert {type(e).__name__ for e in load_html(text).iter()} > {"HtmlElement", "FormElement"}
    _same_extraction(page.encode())


def test_most_stored_pages_take_the_byte_path() -> None:
    """The bytes path is the point: a change in decode_page must not quietly turn it off."""
    utf8 = sum(decode_page(gzip.decompress(p.read_bytes()))[1] is not None for p in STORED_PAGES)
    assert utf8 >= 0.9 * len(STORED_PAGES)


_BODY = "<body><article><p>Troops crossed into Kursk — “12,000” of them.</p></article></body>"
CRAFTED = {
    "plain": f"<html><head><title>T</title></head>{_BODY}</html>",
    "xhtml doctype (repaired)": (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml"><head></head>{_BODY}</html>'),
    "doctype on a one-line page": (
        f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN"><html>{_BODY}</html>'),
    "html5 doctype": f"<!doctype html>\n<html>{_BODY}</html>",
    "control characters": (
        f"<html><head></head>{_BODY[:30]}\x01\x02\x0b\x0c\x1f\x7f{_BODY[30:]}</html>"),
    "nul characters": f"<html>\x00<head></head>{_BODY}\x00</html>",
    "noncharacters": f"<html><head></head>{_BODY[:30]}\ufffe\uffff{_BODY[30:]}</html>",
    "xml declaration": f'<?xml version="1.0" encoding="utf-8"?>\n<html>{_BODY}</html>',
    "self-closing html": f'<html lang="en"/>\n<head></head>{_BODY}',
    "meta charset disagrees": f'<html><head><meta charset="windows-1252"></head>{_BODY}</html>',
    "wide characters": f"<html><head></head><body><p>{'北朝鲜 😀 ' * 300}</p></body></html>",
    "not html": "just some text, no markup at all, but long enough to parse",
    "fragment": "<p>one paragraph</p>",
    "empty document": "<html></html>",
    "carriage returns": f"<!DOCTYPE html>\r\n<html>\r\n{_BODY}</html>",
}


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_page(name: str) -> None:
    _same_as_trafilatura(CRAFTED[name].encode("utf-8"))


def test_other_encodings_parse_the_text() -> None:
    """Bytes that are not the text's UTF-8 (a BOM, a legacy charset) are never parsed."""
    latin = CRAFTED["plain"].replace("—", "-").replace("“", '"').replace("”", '"') + "é"
    cases = [(latin.encode("cp1252"), "iso-8859-1"), (latin.encode("cp1252"), None),
             (b"\xef\xbb\xbf" + CRAFTED["plain"].encode(), None),
             (CRAFTED["plain"].encode("utf-16"), None)]
    for body, charset in cases:
        assert _same_as_trafilatura(body, charset) is None  # the text was parsed, not bytes


def test_utf8_bytes_are_the_texts_encoding() -> None:
    for body, charset in [(b"<html>caf\xc3\xa9</html>", "iso-8859-1"),
                          (b"<html>caf\xc3\xa9</html>", None),
                          (b"<html>caf\xc3\xa9</html>", "utf-8")]:
        text, utf8 = decode_page(body, charset)
        assert utf8 is body and text == body.decode("utf-8")
    text, utf8 = decode_page(b"<html>caf\xe9</html>", "iso-8859-1")
    assert utf8 is None and text == "<html>café</html>"
