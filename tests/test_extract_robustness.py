"""extract() is pure, deterministic, keeps offsets valid and never raises."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors import extract
from extractors.loader import load_ruleset

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
RS = load_ruleset(CONFIGS)

WEIRD = [
    "",
    "   \n\n\t ",
    "\x00\x01\x02",
    "\ud800 lone surrogate North Korea sent 12,000 troops to Russia.",
    "İstanbul İİİ North Korea sent 5,000 troops to Russia.",
    "🚀🚀 North Korea test-fired a ballistic missile into the sea. 🚀",
    "North Korea sent troops to Russia" * 2000,
    "." * 10000,
    "A" * 100000,
    "Mr. Kim. Dr. Putin. U.S. U.N. e.g. i.e. 1.2.3.4",
    "\u2028\u2029North Korea sent 3,000 troops to Russia\u2029",
    "(((((((((((((((((((( [[[[[ {{{{ killed killed killed 12 12 12",
    "北朝鮮はロシアに12000人の兵士を派遣した。",
    "Россия отправила войска. Russia sent 500 troops to Belarus.",
]


@pytest.mark.parametrize("text", WEIRD, ids=range(len(WEIRD)))
@pytest.mark.parametrize("published", [None, "2025-04-28", dt.date(2025, 4, 28), "not a date", dt.datetime(2020, 2, 29, 5)])
def test_never_raises_on_odd_text(text, published):
    events = extract(text, published, RS)
    assert isinstance(events, list)
    for e in events:
        assert text[e.char_start:e.char_end] == e.sentence


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_on_any_unicode(text):
    events = extract(text, None, RS)
    for e in events:
        assert text[e.char_start:e.char_end] == e.sentence
        assert 0.0 <= e.confidence <= 1.0


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from([
    "North Korea sent as many as 12,000 troops to Russia last fall.", "If attacked, it would respond.",
    "He unveiled a new destroyer at Nampo.", "About 40 people were killed in the shelling, officials said.",
    "Ukraine denied that Kursk had been retaken.", "\n", " ", "“Quote.”", "Kim said.", "The 5,000-ton warship",
]), max_size=12))
def test_never_raises_on_shuffled_news(parts):
    text = " ".join(parts)
    events = extract(text, "2025-04-28", RS)
    assert extract(text, "2025-04-28", RS) == events  # deterministic
    for e in events:
        assert text[e.char_start:e.char_end] == e.sentence


def test_offsets_with_leading_whitespace_and_curly_quotes():
    text = "\n\n  Intro line.\n“North Korea sent 2,000 troops to Russia,” officials said on Friday."
    events = extract(text, "2025-04-28", RS)
    dep = [e for e in events if e.type == "military_deployment"]
    assert len(dep) == 1
    assert text[dep[0].char_start:dep[0].char_end] == dep[0].sentence
    assert dep[0].quantity == 2000 and dep[0].actor == "PRK" and dep[0].target == "RUS"


def test_ruleset_version_is_stable():
    assert load_ruleset(CONFIGS).version == load_ruleset(CONFIGS).version
