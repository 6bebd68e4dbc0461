"""Building blocks of the engine: sentences, quantities, dates, mentions, pronouns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from extractors import extract
from extractors.dates import find_dates
from extractors.loader import load_ruleset
from extractors.mentions import find_actors, find_places, find_weapons
from extractors.quantities import find_quantities, parse_number
from extractors.text import normalize, split_sentences

RS = load_ruleset(Path(__file__).resolve().parents[1] / "configs")
PUB = dt.date(2025, 4, 28)  # a Monday


@pytest.mark.parametrize(("text", "value", "qual"), [
    ("as many as 12,000 troops", 12000, "upper"),
    ("up to 300 soldiers", 300, "upper"),
    ("about 4,000 of the soldiers", 4000, "approx"),
    ("some 1,500 soldiers", 1500, "approx"),
    ("nearly 70 people", 70, "approx"),
    ("at least 156 people", 156, "lower"),
    ("more than 2,500 civilians", 2500, "lower"),
    ("the 5,000-ton warship", 5000, "exact"),
    ("within 400-odd days", 400, "approx"),
    ("dozens of people", 12, "approx"),
    ("scores of refugees", 20, "approx"),
    ("hundreds of troops", 100, "approx"),
    ("thousands of soldiers", 1000, "approx"),
    ("between 10 and 20 killed", 20, "upper"),
    ("twenty-five soldiers", 25, "exact"),
    ("1.5 million people", 1500000, "exact"),
    ("three warships", 3, "exact"),
])
def test_quantities(text, value, qual):
    q = find_quantities(text)[0]
    assert (q.value, q.qualifier) == (value, qual)


@pytest.mark.parametrize("text", ["in June 2024", "in 2019 the", "rose 5 percent", "aged 25-year-old", "$40 million"])
def test_not_counts(text):
    assert find_quantities(text) == []


def test_parse_number():
    assert parse_number("12,000") == 12000 and parse_number("seven") == 7 and parse_number("2.5 million") == 2500000


@pytest.mark.parametrize(("text", "iso", "prec"), [
    ("last fall", "2024-10-01", "season"),
    ("last August", "2024-08-01", "month"),
    ("in June 2024", "2024-06-01", "month"),
    ("since the start of this year", "2025-01-01", "year"),
    ("last month", "2025-03-01", "month"),
    ("on Friday", "2025-04-25", "day"),
    ("on Monday", "2025-04-28", "day"),
    ("early next year", "2026-01-01", "year"),
    ("on June 12, 2024", "2024-06-12", "day"),
    ("on 3 March", "2025-03-03", "day"),
    ("yesterday", "2025-04-27", "day"),
    ("in 1998", "1998-01-01", "year"),
    ("two days ago", "2025-04-26", "day"),
])
def test_dates(text, iso, prec):
    d = find_dates(text, PUB)[0]
    assert (d.date.isoformat(), d.precision) == (iso, prec)


@pytest.mark.parametrize("text", ["last week", "this weekend", "since July", "recently"])
def test_vague_dates_resolve_to_none(text):
    d = find_dates(text, PUB)
    assert d and d[0].date is None


def test_sentence_split_keeps_offsets_and_abbreviations():
    text = "U.S. officials said Mr. Kim left. Then he returned!\nNew line here? Yes."
    sents = split_sentences(text)
    assert [s.text for s in sents] == ["U.S. officials said Mr. Kim left.", "Then he returned!", "New line here?", "Yes."]
    for s in sents:
        assert text[s.start:s.end] == s.text


def test_normalize_keeps_length():
    text = "“Kim’s” — ‘x’\u00a0y"
    assert len(normalize(text)) == len(text)


def test_actor_mentions():
    s = "The South Korean Ministry of National Defense denounced the North Korean troop deployment."
    acts = find_actors(s, RS)
    assert [(a.text, a.code) for a in acts] == [
        ("The South Korean Ministry of National Defense", "KOR"), ("North Korean", "PRK")]


def test_no_partial_word_matches():
    assert [a.code for a in find_actors("Nigeria and Niger.", RS)] == ["NGA", "NER"]
    assert find_actors("anti-Syria protests", RS) == []


def test_places_and_weapons():
    assert [(p.canonical, p.country) for p in find_places("in the port of Nampho", RS)] == [("Nampo", "PRK")]
    w = find_weapons("test-fired a Hwasong-19 intercontinental ballistic missile", RS)
    assert [(x.kind, x.canonical) for x in w] == [("name", "icbm"), ("class", "icbm")]


def test_pronoun_resolves_to_last_person_across_sentences():
    text = "Kim Jong Un visited the shipyard. On Friday, he unveiled a new 5,000-ton destroyer."
    ev = [e for e in extract(text, PUB, RS) if e.type == "weapons_unveiling"]
    assert len(ev) == 1 and ev[0].actor == "PRK" and ev[0].actor_name == "he (Kim Jong Un)"


def test_denial_makes_a_claim():
    text = "Russia said it had recaptured Kursk. Ukraine denied that Kursk had been retaken."
    ev = [e for e in extract(text, PUB, RS) if e.type == "territorial_control"]
    assert len(ev) == 1
    assert (ev[0].actor, ev[0].target, ev[0].location, ev[0].status) == ("RUS", "UKR", "Kursk", "claimed")


def test_one_happening_one_event():
    text = ("North Korea sent 12,000 troops to Russia. The deployment of North Korean troops to Russia "
            "was denounced by Seoul. North Korea later sent 3,000 more troops to Russia.")
    dep = [e for e in extract(text, PUB, RS) if e.type == "military_deployment"]
    assert sorted(e.quantity for e in dep) == [3000, 12000]


def test_joint_actors_make_one_event_each():
    text = "Syrian forces and their Russian allies attacked rebel positions in Idlib on Sunday."
    att = [e for e in extract(text, PUB, RS) if e.type == "attack"]
    assert sorted(e.actor for e in att) == ["RUS", "SYR"]


def test_dateline_date_resolves_weekdays():
    text = "SEOUL, South Korea, March 3 (AP) - North Korea fired two ballistic missiles into the sea on Thursday."
    ev = [e for e in extract(text, "2022-03-10", RS) if e.type == "weapons_test"]
    assert len(ev) == 1 and (ev[0].date, ev[0].date_precision) == ("2022-03-03", "day")


def test_non_state_armed_group_keeps_name_without_code():
    ev = [e for e in extract("Syrian rebels shelled government positions in Aleppo.", PUB, RS) if e.type == "attack"]
    assert len(ev) == 1 and ev[0].actor is None and ev[0].actor_name == "Syrian rebels"


def test_place_missing_from_gazetteer_is_read_from_town_of():
    text = "Russian forces captured the eastern Ukrainian town of Chasiv Yar, the Defense Ministry said."
    ev = [e for e in extract(text, PUB, RS) if e.type == "territorial_control"]
    assert len(ev) == 1
    assert (ev[0].actor, ev[0].location, ev[0].location_country, ev[0].status) == ("RUS", "Chasiv Yar", "UKR", "reported")


def test_passive_condemnation_swaps_sides():
    ev = [e for e in extract("The launch was condemned by Japan and South Korea.", PUB, RS) if e.type == "condemnation"]
    assert ev == []  # no condemned party named
    ev = [e for e in extract("North Korea's launch was condemned by Japan.", PUB, RS) if e.type == "condemnation"]
    assert len(ev) == 1 and (ev[0].actor, ev[0].target) == ("JPN", "PRK")


@pytest.mark.parametrize("text", [
    "If attacked, Iran would respond with force.",
    "North Korea says its missiles can hit anywhere in the United States.",
    "The drills are held every spring near the border.",
    "No troops have been sent to the region.",
    "The striker unleashed a missile of a strike.",
    "The bank is deploying a new app for customers.",
    "Russia threatened to strike Kyiv's decision-making centers.",
    "China warned it would take military action if Taiwan declared independence.",
])
def test_spec_not_events(text):
    assert extract(text, PUB, RS) == []


def test_generic_weapon_mention_merges_with_specific():
    text = ("North Korea fired a ballistic missile into the sea on Thursday, Seoul said. "
            "It was North Korea's third missile test this month.")
    ev = [e for e in extract(text, PUB, RS) if e.type == "weapons_test"]
    assert len(ev) == 1 and ev[0].weapon_class == "ballistic_missile"
