"""Page bytes -> text -> lxml tree: decoding as browsers do, parsing as trafilatura does.

Decoding (:func:`decode_page`): BOM, then the HTTP ``charset`` (if it decodes cleanly),
then ``<meta charset>``, UTF-8, charset-normalizer, cp1252 with replacement, so the same
page always decodes the same way whatever trafilatura's own guesser would do.

Parsing (:func:`parse_html`) gives exactly ``trafilatura.utils.load_html(text)``'s tree,
which ``ingest.clean`` hands to trafilatura and to the metadata code. ``load_html`` strips
XML-invalid characters from the decoded text with a regex and has libxml2 parse the
Python string, converting its UCS-2/UCS-4 buffer. Most pages arrive as UTF-8, so here the
same characters are deleted from the UTF-8 *bytes* (``bytes.translate``; the control
characters are single bytes in UTF-8 and U+FFFE/U+FFFF fixed three-byte sequences) and
libxml2 parses those with trafilatura's parser options (which force UTF-8): the same tree, and
decoding plus parsing take 2.2 ms a page instead of 2.7 (1,000 benchmark pages). It is
trafilatura's own second attempt (``fromstring_bytes``) made first.

One difference, on purpose: the tree's elements are all ``HtmlElement`` (lxml's C-level
``ElementDefaultClassLookup``), where ``lxml.html``'s parser asks a Python ``lookup`` method
for every element object it creates, to make ``<form>``, ``<input>``, ``<select>``,
``<textarea>`` and ``<label>`` their form subclasses. Nothing Muster runs uses those classes
(trafilatura, htmldate and ``ingest`` test ``isinstance(..., HtmlElement)`` only), and the
~2,500 calls a page cost ~0.4 ms of trafilatura's 11 (extracted texts identical on all 439
stored pages; benchmarks/README.md).

That equivalence is proven for the audited ``trafilatura.utils`` only (``_audited`` hashes
its source); another trafilatura, a page that is not UTF-8, or any case ``load_html``
treats specially (a self-closing ``<html/>``, an empty or rejected tree) goes through
``load_html`` itself. tests/test_ingest_html_tree.py compares the trees on every stored
page and on crafted ones.
"""

from __future__ import annotations

import codecs
import re
from functools import cache

from lxml import etree
from lxml.html import HtmlElement

from ingest.audit import source_matches

__all__ = ["decode_html", "decode_page", "parse_html"]

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(
    rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
# UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# trafilatura.utils.INVALID_XML_CHARS, [\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff], in UTF-8.
_CONTROL_BYTES = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_NONCHARACTERS = ("\ufffe".encode(), "\uffff".encode())
_AUDITED_SHA256 = "4af3b60279287cc0512f8fe42938c5733efeb7a8fec01afcc6dce1a4010abb81"


def _codec(name: bytes | str | None) -> str | None:
    """A Python codec name for a declared charset, or None if unknown."""
    if not name:
        return None
    label = name.decode("ascii", "ignore") if isinstance(name, bytes) else name
    try:
        codec = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    # Browsers treat these labels as windows-1252; do the same (WHATWG Encoding Standard).
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def _decoded(body: bytes, codec: str) -> tuple[str, bytes | None]:
    """``body`` decoded strictly with ``codec``; the bytes too when they are that text's UTF-8."""
    return body.decode(codec), (body if codec == "utf-8" else None)


def decode_page(body: bytes | str, charset: str | None = None) -> tuple[str, bytes | None]:
    """The page's text, and its UTF-8 bytes when the text is ``body`` decoded as UTF-8.

    Never raises. The order is a browser's (module docstring); the bytes let
    :func:`parse_html` skip re-encoding the text.
    """
    if isinstance(body, str):
        return body, None
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(enc, errors="replace"), None
    http_codec = _codec(charset)
    if http_codec and not http_codec.startswith("utf-16"):
        if http_codec == "cp1252":
            # Servers often default to "ISO-8859-1" for pages that are really UTF-8, and
            # legacy text almost never validates as UTF-8: prefer UTF-8 when it does.
            try:
                return _decoded(body, "utf-8")
            except UnicodeDecodeError:
                pass
        try:
            return _decoded(body, http_codec)
        except (UnicodeDecodeError, LookupError):
            pass
    head = body[:8192]  # long <head>s put <meta charset> after scripts
    declared = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    codec = _codec(declared.group(1)) if declared else None
    if codec and not codec.startswith("utf-16"):
        try:
            return _decoded(body, codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return _decoded(body, "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        if best is not None and best.encoding:
            return body.decode(best.encoding, errors="replace"), None
    except Exception:  # noqa: BLE001, S110 — detection is best effort; fall through to cp1252
        pass
    return body.decode(codec or "cp1252", errors="replace"), None


def decode_html(body: bytes | str, charset: str | None = None) -> str:
    """Decode page bytes to text; never raises (:func:`decode_page` without the bytes)."""
    return decode_page(body, charset)[0]


@cache
def _audited() -> bool:
    """Whether ``trafilatura.utils`` (``load_html`` and its helpers) is the audited code."""
    from trafilatura import utils

    return source_matches([utils], _AUDITED_SHA256,
                          "trafilatura.utils: pages are parsed by load_html")


def parse_html(text: str, utf8: bytes | None = None) -> HtmlElement | None:
    """``trafilatura.utils.load_html(text)``, parsed from ``utf8`` when that is ``text``'s
    UTF-8 encoding (NUL characters aside: ``load_html`` deletes them too)."""
    from trafilatura.utils import load_html

    if utf8 is None or not _audited():
        return load_html(text)
    beginning = text[:50].lower()  # load_html's, taken before its repairs
    data = utf8.translate(None, _CONTROL_BYTES)
    if _NONCHARACTERS[0] in data or _NONCHARACTERS[1] in data:
        data = data.replace(_NONCHARACTERS[0], b"").replace(_NONCHARACTERS[1], b"")
    if "doctype" in beginning:
        data = _repair_doctype(data)
    # At most 4 bytes a character: these bytes hold the repaired text's first 4096 characters.
    head = data[:16388].decode("utf-8", "ignore")[:4096]
    if any("<html" in line and line.endswith("/>") for line in head.splitlines()[:4]):
        return load_html(text)  # its <html .../> repair: rare, left to trafilatura
    from lxml.html import fromstring

    try:
        tree = fromstring(data, parser=_parser())
    except Exception:  # noqa: BLE001 — whatever it was, load_html reports it its own way
        return load_html(text)
    if tree is None or len(tree) < 1 or ("html" not in beginning and len(tree) < 2):
        return load_html(text)  # its retry and its rejection of non-HTML, as it does them
    return tree


@cache
def _parser() -> etree.HTMLParser:
    """``trafilatura.utils.HTML_PARSER``'s options (audited with it), all elements
    ``HtmlElement`` by a lookup that never calls into Python (module docstring)."""
    from lxml.html import HtmlComment, HtmlEntity, HtmlProcessingInstruction

    parser = etree.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                              remove_comments=True, remove_pis=True)
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction,
        entity=HtmlEntity))
    return parser


def _repair_doctype(data: bytes) -> bytes:
    """``repair_faulty_html``'s DOCTYPE fix (libxml2 bug 1955915) on UTF-8 bytes.

    It removes a DOCTYPE holding a ``/`` from the first line and rebuilds the text as
    ``first line + "\\n" + rest``, which also appends a newline to a one-line page.
    """
    from trafilatura.utils import DOCTYPE_TAG

    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).decode("utf-8")  # valid: decode_page checked
    if DOCTYPE_TAG.search(first) is None:
        return data if end >= 0 else data + b"\n"  # nothing to remove: no copy
    return DOCTYPE_TAG.sub("", first, count=1).encode("utf-8") + (data[end:] if end >= 0 else b"\n")
