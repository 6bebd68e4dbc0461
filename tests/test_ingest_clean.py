"""ingest.clean over real pages (zyte / fundus expectations) and hostile bytes."""

from __future__ import annotations

import difflib
import gzip
import json
import random
from datetime import date
from pathlib import Path

import pytest

from ingest.clean import clean_html, content_hash, decode_html, normalise_text

PAGES = Path(__file__).parent / "fixtures" / "pages"
EXPECTED = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "pages"


def similarity(a: str, b: str) -> float:
    """Word-level similarity (difflib ratio) of two texts after whitespace normalisation."""
    return difflib.SequenceMatcher(
        None, normalise_text(a).split(), normalise_text(b).split(), autojunk=False
    ).ratio()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_clean_matches_expected_body(name: str) -> None:
    exp = EXPECTED[name]
    body = gzip.decompress((PAGES / name).read_bytes())
    result = clean_html(body, exp["url"])
    assert result.error is None, result.detail
    art = result.article
    assert similarity(art.text, exp["body"]) >= 0.85
    assert art.content_hash == content_hash(art.text) and len(art.content_hash) == 64
    assert art.url == exp["url"]
    assert art.canonical_url.startswith("https://")
    if exp["source"] == "fundus":
        assert art.title == exp["title"]
        assert art.published == date.fromisoformat(exp["published"][:10])


def test_metadata_details() -> None:
    de = EXPECTED["fundus_de_BR_2024_04_22.html.gz"]
    art = clean_html(
        gzip.decompress((PAGES / "fundus_de_BR_2024_04_22.html.gz").read_bytes()), de["url"]
    ).article
    assert art.language == "de" and art.canonical_url == de["url"]
    ap = EXPECTED["fundus_us_APNews_2023_04_28.html.gz"]
    art = clean_html(
        gzip.decompress((PAGES / "fundus_us_APNews_2023_04_28.html.gz").read_bytes()),
        "file:///tmp/ap.html",
    ).article
    # The page's <link rel=canonical> wins over where we happened to read it from.
    assert art.canonical_url == ap["url"] and art.url == "file:///tmp/ap.html"
    assert art.language == "en" and art.author


@pytest.mark.skipif(not (SHARED / "zyte").is_dir(), reason="shared data not available")
def test_zyte_benchmark_quality() -> None:
    """All 181 zyte pages: none fails, and the mean word similarity stays high."""
    truth = json.loads((SHARED / "zyte" / "ground-truth.json").read_text(encoding="utf-8"))
    scores = []
    for key, exp in sorted(truth.items()):
        result = clean_html(
            gzip.decompress((SHARED / "zyte" / "html" / f"{key}.html.gz").read_bytes()), exp["url"]
        )
        assert result.error is None, (key, result.detail)
        scores.append(similarity(result.article.text, exp["articleBody"]))
    assert sum(scores) / len(scores) >= 0.93
    assert sum(s >= 0.8 for s in scores) >= 0.9 * len(scores)


CANON_PAGE = """<html lang="{lang}"><head><title>Head title</title>{canon}</head><body><article>
<h1>Big news</h1><p>{text}</p><p>{text}</p></article></body></html>"""
TEXT = "The council approved the new budget on Tuesday after a long debate about schools and roads."


@pytest.mark.parametrize(
    ("canon", "expected"),
    [
        ('<link rel="canonical" href="/story?utm_source=x#top">', "https://example.org/story"),
        ('<link rel="Canonical" href="https://Other.org/a">', "https://other.org/a"),
        ('<link rel="canonical" href="https://example.org/">', "https://example.org/news/1"),
        ('<link rel="canonical" href="javascript:void(0)">', "https://example.org/news/1"),
        ("", "https://example.org/news/1"),
    ],
)
def test_canonical_url(canon: str, expected: str) -> None:
    html = CANON_PAGE.format(lang="en-GB", canon=canon, text=TEXT)
    art = clean_html(html, "https://EXAMPLE.org/news/1?fbclid=z").article
    assert art.canonical_url == expected
    assert art.language == "en"


def test_charset_handling() -> None:
    text = "Der Bürgermeister äußerte sich über die Straßenbahn und die Brücke am Fluss. " * 3
    page = CANON_PAGE.format(lang="de", canon="", text=text)
    latin = page.replace("<head>", '<head><meta charset="iso-8859-1">').encode("latin-1")
    assert "Bürgermeister" in clean_html(latin, "https://x.org/a").article.text
    undeclared = page.encode("cp1252")  # no declaration and not UTF-8: detection fallback
    assert "Straßenbahn" in decode_html(undeclared)
    utf16 = b"\xff\xfe" + page.encode("utf-16-le")
    assert "Brücke" in clean_html(utf16, "https://x.org/a").article.text
    assert decode_html(page) == page


def test_content_hash_ignores_layout() -> None:
    assert content_hash("a  b\n\nc ") == content_hash(" a b c")
    assert content_hash("Cafe\u0301") == content_hash("Caf\u00e9")
    assert content_hash("a b") != content_hash("a c")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "empty_body"),
        ("   \n ", "empty_body"),
        (b"<html><body><p>Too short.</p></body></html>", "no_text"),
        (b"<html><head><title>Only a title</title></head><body></body></html>", "no_text"),
        (b"\x00\x01\x02\x03\xff\xfe\x00", None),
        ("<<<<>>>>&&&;;;" * 50, None),
        (b"<?xml version='1.0' encoding='utf-8'?><html><body><p>x</p></body></html>", "no_text"),
    ],
)
def test_bad_input_is_a_value(body: bytes | str, error: str | None) -> None:
    result = clean_html(body, "https://example.org/x")
    assert result.article is None and result.error is not None
    if error:
        assert result.error == error


def test_random_bytes_never_raise() -> None:
    rng = random.Random(1234)
    page = gzip.decompress((PAGES / "zyte_06e5123e4ef7.html.gz").read_bytes())
    for _ in range(40):
        cut = rng.randrange(len(page))
        mangled = bytearray(page[:cut])
        for _ in range(rng.randrange(1, 50)):
            if mangled:
                mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        result = clean_html(bytes(mangled), "https://example.org/x")
        assert (result.article is None) != (result.error is None)
    for size in (1, 10, 1000, 100_000):
        assert clean_html(rng.randbytes(size), "https://example.org/x").error is not None


@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        ("Dax falls again | Börsen-Zeitung", "Börsen-Zeitung", "https://x.de/a", "Dax falls again"),
        ("Gaza talks stall – DW – 13.06.2023", "DW", "https://dw.com/a", "Gaza talks stall"),
        ("Quantum batteries - Golem.de", None, "https://www.golem.de/a", "Quantum batteries"),
        (
            "Left - right politics explained",
            "Example",
            "https://example.org/a",
            "Left - right politics explained",
        ),
        ("Short | Example", "Example", "https://example.org/a", "Short | Example"),
        (
            "Tax rise explained - expert view",
            None,
            "https://x.de/a",
            "Tax rise explained - expert view",
        ),
    ],
)
def test_site_name_suffix_is_stripped(
    title: str, site: str | None, url: str, expected: str
) -> None:
    from ingest.clean import _strip_site_name

    assert _strip_site_name(title, site, url) == expected


FUNDUS = SHARED / "fundus"


def _fundus_cases() -> list[tuple[Path, dict, str]]:
    """(page, expected record, url) for all fundus pages; versions pair with pages in date order."""
    cases = []
    for country in sorted(p for p in FUNDUS.iterdir() if p.is_dir()):
        meta = json.loads((country / "meta.info").read_text(encoding="utf-8"))
        for pub_json in sorted(country.glob("*.json")):
            expected = json.loads(pub_json.read_text(encoding="utf-8"))
            pages = sorted(country.glob(f"{pub_json.stem}_*.html.gz"))
            for page, version in zip(pages, expected):
                cases.append((page, expected[version], meta[page.name]["url"]))
    return cases


@pytest.mark.skipif(not FUNDUS.is_dir(), reason="shared data not available")
def test_fundus_benchmark_quality() -> None:
    """All 258 fundus pages (41 countries): text, title and date against the expectations."""
    cases = _fundus_cases()
    ok = titles = dates = 0
    scores = []
    for page, exp, url in cases:
        result = clean_html(gzip.decompress(page.read_bytes()), url)
        if result.error:
            continue
        ok += 1
        art = result.article
        body = exp["body"]
        expected_text = " ".join(
            body.get("summary", []) + [p for s in body["sections"] for p in s["paragraphs"]]
        )
        scores.append(similarity(art.text, expected_text))
        titles += normalise_text(art.title or "") == normalise_text(exp.get("title") or "")
        dates += str(art.published) == (exp.get("publishing_date") or "")[:10]
    n = len(cases)
    assert n >= 250
    assert ok >= 0.98 * n
    assert dates >= 0.93 * n
    assert titles >= 0.70 * n
    assert sum(scores) / len(scores) >= 0.90


# --- _link_texts reads plain links' .text: the same as text_content() on every page ------

@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data not available")
def test_link_texts_on_every_stored_page() -> None:
    from trafilatura.utils import load_html

    from ingest.clean import _link_texts
    from tests.stored_pages import STORED_PAGES

    assert len(STORED_PAGES) >= 400
    for page in STORED_PAGES:
        tree = load_html(decode_html(gzip.decompress(page.read_bytes())))
        assert _link_texts(tree) == {
            normalise_text(a.text_content()) for a in tree.iter("a")} - {""}, page.name


def _head_info_xpath(tree, url):  # type: ignore[no-untyped-def]
    """The XPath expressions ``_head_info`` reads in one walk (its docstring), as they were."""
    from urllib.parse import urljoin

    from ingest.clean import _LANG

    canonical = None
    for href in tree.xpath("//link[contains(concat(' ', normalize-space(translate(@rel,"
                           "'CANONICAL','canonical')), ' '), ' canonical ')]/@href"):
        if href and href.strip():
            canonical = urljoin(url, href.strip())
            break
    lang = None
    for cand in tree.xpath("/html/@lang | /html/@xml:lang | //meta[translate(@http-equiv,"
                           "'CONTENT-LANGUAGE','content-language')='content-language']/@content"
                           " | //meta[@property='og:locale']/@content"):
        cand = str(cand).strip().split(",")[0].strip()
        if _LANG.match(cand):
            lang = cand.replace("_", "-").split("-")[0].lower()
            break
    titles = tree.xpath("//meta[@property='og:title']/@content | //title/text()")
    return canonical, lang, next((str(t).strip() for t in titles if str(t).strip()), None)


_HEADS = [
    '<html lang="de" xml:lang="fr"><head><title> </title><title>T1</title></head><body/></html>',
    '<html xml:lang="fr" lang="de"><head></head><body/></html>',
    '<html><head><meta http-equiv="Content-Language" content="pt-BR, en">'
    '<meta property="og:locale" content="es_ES"><meta property="og:title" content="  ">'
    '<title>Page</title><meta property="og:title" content="OG"></head></html>',
    '<html><head><meta http-equiv="CONTENT-LANGUAGE" content="x"><meta property="og:locale" '
    'content="en_GB"></head></html>',
    '<html><head><meta http-equiv="content-Language" content="nl"></head></html>',
    '<html><head><link rel="Canonical" href="  "><link rel="alternate CANONICAL" href="/a">'
    '<link rel="canonical" href="/b"></head></html>',
    '<html><head><link rel="xcanonical" href="/x"><link rel=" \tcanonical\n" href="/c">'
    '</head></html>',
    '<html><head><link rel="canonical\xa0" href="/nbsp"><link rel="canonicaL" href="/y">'
    '</head></html>',
    '<html><body><svg><title>in svg</title></svg><meta property="og:title" content="late">'
    '<link rel="canonical" href="https://other.example/p"></body></html>',
    '<html lang="EN"><head><meta property="og:locale" content="fr_FR"></head></html>',
    '<html lang="not a code" ><head><meta property="og:locale"></head></html>',
]


@pytest.mark.parametrize("html", _HEADS + [p.name for p in sorted(SHARED.glob("*/*.html.gz"))]
                         + [p.name for p in sorted(SHARED.glob("*/*/*.html.gz"))])
def test_head_info_reads_what_its_xpaths_select(html: str) -> None:
    from ingest.clean import _head_info
    from ingest.html_tree import decode_page, parse_html

    if html.endswith(".html.gz"):
        path = next(SHARED.rglob(html))
        text, utf8 = decode_page(gzip.decompress(path.read_bytes()))
        tree = parse_html(text, utf8)
    else:
        tree = parse_html(html, html.encode())
    url = "https://news.example/section/page.html"
    assert _head_info(tree, url) == _head_info_xpath(tree, url)
