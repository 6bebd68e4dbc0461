"""Property-based tests (hypothesis): quantity and date parsing, and the whole extractor.

Whatever the text, the extractor must not raise, and every offset it reports must point
into the caller's text with ``sentence == text[char_start:char_end]`` (the warehouse and
every analyst rely on it). Quantity and date finders must report spans inside the
sentence, and round-trip the numbers and dates news actually writes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from extractors import extract
from extractors.dates import find_dates
from extractors.engine import _extract
from extractors.loader import load_ruleset
from extractors.quantities import find_quantities, parse_number

ROOT = Path(__file__).resolve().parent.parent
RULESET = load_ruleset(ROOT / "configs")
PROFILE = settings(max_examples=int(__import__("os").environ.get("MUSTER_HYPOTHESIS_EXAMPLES", "150")), deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])

# Words that make the extractor's rules fire, mixed with arbitrary Unicode.
NEWSY = st.sampled_from([
    "North Korea", "Russia", "Ukraine", "sent", "deployed", "12,000", "troops", "to", "Kursk",
    "as many as", "about", "dozens of", "killed", "unveiled", "a 5,000-ton", "destroyer",
    "test-fired", "ballistic missile", "last fall", "on Monday", "in June 2024", "said",
    "denied", "will", "not", ".", ",", "\n", "\u2019", "\u201c", "\u00a0", "\u2028", "—",
    "Mr.", "U.S.", "e\u0301", "\U0001f600", "\u0000", "\r\n", "¿", "İ", "ß", "ﬁ",
])
TEXT = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(NEWSY, st.text(max_size=8)), max_size=60).map(" ".join),
)
DATES = st.one_of(st.none(), st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))


@PROFILE
@given(text=TEXT, published=DATES, title=st.one_of(st.none(), st.text(max_size=50)))
@example(text="North Korea sent 12,000 troops to Kursk last fall.", published=dt.date(2025, 4, 28),
         title=None)
@example(text="ﬁ İ North Korea sent 12,000 troops to Russia.", published=None, title=None)
@example(text="North Korea sent 12,000 troops.", published=dt.date(9999, 12, 31), title=None)
@example(text="North Korea sent 12,000 troops.", published=dt.date(1, 1, 1), title="x")
def test_extract_never_raises_and_offsets_point_into_the_text(
    text: str, published: dt.date | None, title: str | None
) -> None:
    # The engine itself, not only the public wrapper: ``extract`` turns an internal error
    # into [] (the contract), which would silently lose an article's events.
    events = _extract(text, published, RULESET)
    assert extract(text, published, RULESET, title=title) == events
    for e in events:
        assert 0 <= e.char_start < e.char_end <= len(text), e
        assert e.sentence == text[e.char_start:e.char_end], e


def test_the_property_can_fail() -> None:
    """The seed sentence yields events, so the offset property above is not vacuous."""
    text = "North Korea sent 12,000 troops to Kursk last fall."
    events = extract(text, dt.date(2025, 4, 28), RULESET)
    assert events and all(text[e.char_start:e.char_end] == e.sentence for e in events)


@PROFILE
@given(s=TEXT)
def test_find_quantities_spans_are_inside_and_values_sane(s: str) -> None:
    for q in find_quantities(s):
        assert 0 <= q.start < q.end <= len(s)
        assert isinstance(q.value, int) and q.value >= 0
        assert q.qualifier in ("exact", "upper", "lower", "approx")


@PROFILE
@given(n=st.integers(min_value=0, max_value=10**12))
def test_numbers_round_trip_with_and_without_commas(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n
    sentence = f"The army sent {n:,} troops."
    found = [q for q in find_quantities(sentence) if q.value == n]
    if not (1800 <= n <= 2099):  # a bare year-like number is not a count, by design
        assert found and sentence[found[0].start:found[0].end] == f"{n:,}"


@PROFILE
@given(n=st.integers(min_value=1, max_value=999), scale=st.sampled_from(
    [("thousand", 1000), ("million", 1_000_000), ("billion", 1_000_000_000)]))
def test_scaled_numbers(n: int, scale: tuple[str, int]) -> None:
    assert parse_number(f"{n} {scale[0]}") == n * scale[1]


@PROFILE
@given(s=TEXT, published=DATES)
def test_find_dates_spans_inside_and_precision_consistent(s: str, published: dt.date | None) -> None:
    for d in find_dates(s, published):
        assert 0 <= d.start < d.end <= len(s)
        assert (d.date is None) == (d.precision is None)
        if d.precision is not None:
            assert d.precision in ("day", "month", "season", "year")


@PROFILE
@given(day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)),
       published=DATES, style=st.sampled_from(["mdy", "dmy"]))
def test_explicit_dates_round_trip(day: dt.date, published: dt.date | None, style: str) -> None:
    month = day.strftime("%B")
    phrase = f"{month} {day.day}, {day.year}" if style == "mdy" else f"{day.day} {month} {day.year}"
    found = find_dates(f"The parade was held on {phrase} in the capital.", published)
    assert [(x.date, x.precision) for x in found] == [(day, "day")]


@PROFILE
@given(year=st.integers(min_value=1900, max_value=2099), month=st.integers(1, 12), published=DATES)
def test_month_year_round_trips(year: int, month: int, published: dt.date | None) -> None:
    name = dt.date(2000, month, 1).strftime("%B")
    found = find_dates(f"It happened in {name} {year}.", published)
    assert [(x.date, x.precision) for x in found] == [(dt.date(year, month, 1), "month")]


@pytest.mark.parametrize("published", [dt.date(1, 1, 1), dt.date(9999, 12, 31)])
def test_relative_dates_at_the_ends_of_the_calendar(published: dt.date) -> None:
    """'next year' from 9999 or 'last fall' from year 1 must not raise (no such date)."""
    for phrase in ("next year", "last year", "last fall", "next month", "three days ago",
                   "yesterday", "last Monday", "in June"):
        for d in find_dates(f"It happened {phrase}.", published):
            assert (d.date is None) == (d.precision is None)
