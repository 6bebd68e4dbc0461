"""Article language: declared ``<html lang>`` checked against py3langid on the clean text.

The fundus cases run over every real page in ``../shared/data/pages/fundus`` (41 countries)
against ``tests/fixtures/languages/fundus_languages.json``, which
``make_fundus_languages.py`` next to it generates from fundus's own curated article bodies
(never edit it by hand).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ingest.clean import clean_html
from ingest.language import (
    MIN_DETECT_CHARS,
    detect_language,
    pick_language,
    primary,
    same_language,
)

HERE = Path(__file__).parent
EXPECTED = json.loads((HERE / "fixtures" / "languages" / "fundus_languages.json")
                      .read_text(encoding="utf-8"))
FUNDUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pages" / "fundus"

GERMAN = ("Die Bundesregierung hat am Montag neue Hilfen für die Landwirtschaft beschlossen. "
          "Nach Angaben des Ministeriums sollen die Mittel noch in diesem Jahr ausgezahlt werden.")
ENGLISH = ("The government approved new support for farmers on Monday. According to the "
           "ministry, the money is to be paid out before the end of this year.")
NORWEGIAN = ("Regjeringen la mandag fram en ny pakke med støtte til bøndene. Ifølge departementet "
             "skal pengene betales ut i løpet av året, og ordningen skal evalueres til høsten.")


def _page(lang_attr: str, body: str) -> str:
    return (f"<html{lang_attr}><head><title>Nachrichten</title></head><body><article>"
            + "".join(f"<p>{body}</p>" for _ in range(3)) + "</article></body></html>")


@pytest.mark.skipif(not FUNDUS.is_dir(), reason="shared fundus pages not available")
@pytest.mark.parametrize("key", sorted(EXPECTED["pages"]))
def test_fundus_page_language(key: str) -> None:
    exp = EXPECTED["pages"][key]
    result = clean_html(gzip.decompress((FUNDUS / key).read_bytes()), exp["url"])
    if result.article is None:  # the quality test in test_ingest_clean.py counts these
        pytest.skip(f"{key}: no article ({result.error})")
    assert same_language(result.article.language, exp["language"]), (
        f"{key}: stored {result.article.language}, text is {exp['language']}")


def test_fundus_expectations_cover_many_languages() -> None:
    langs = {v["language"] for v in EXPECTED["pages"].values()}
    assert len(EXPECTED["pages"]) >= 250 and len(langs) >= 20 and {"en", "de", "zu"} <= langs


def test_confident_text_beats_a_wrong_template_declaration() -> None:
    art = clean_html(_page(' lang="en-GB"', GERMAN), "https://example.org/a").article
    assert art is not None and art.language == "de"
    assert pick_language("en", GERMAN) == "de"


def test_declaration_kept_when_text_agrees_or_detection_unsure() -> None:
    assert pick_language("de-AT", GERMAN) == "de"
    assert pick_language("nb", NORWEGIAN) == "nb"  # model says "no": same language, kept
    assert pick_language("de", "Ja.") == "de"  # too short to judge
    assert pick_language(None, "Ja.") is None  # nothing known: caller falls back to the feed
    assert pick_language("fr", "12345 67890 " * 10) == "fr"  # digits: not a language
    art = clean_html(_page("", ENGLISH), "https://example.org/b").article
    assert art is not None and art.language == "en"  # undeclared: detected


def test_codes_and_detection() -> None:
    assert [primary(c) for c in ("zh-TW", "EN_us", "iw", "deu", "", None)] == [
        "zh", "en", "he", "de", None, None]
    assert same_language("nb", "no") and same_language("sr", "hr")
    assert not same_language("en", "de") and not same_language(None, "en")
    lang, prob = detect_language(GERMAN) or ("", 0.0)
    assert lang == "de" and prob > 0.99
    assert detect_language("   ") is None and len(GERMAN) >= MIN_DETECT_CHARS
