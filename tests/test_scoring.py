"""Tests of extractors.scoring: the spec's event matcher and its report."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.scoring import (
    _max_weight_assignment,
    dates_equal,
    format_report,
    match_events,
    score,
    slot_equal,
)

SEED_GOLD = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "spec" / "seed-article.gold.jsonl"
)


def ev(type_: str = "military_deployment", **slots) -> dict:
    return {"type": type_, **slots}


DEPLOY = ev(
    actor="PRK",
    target="RUS",
    location="Kursk",
    quantity=12000,
    unit="troops",
    quantity_qualifier="upper",
    date="2024-10-01",
    date_precision="season",
    status="reported",
)
ATTACK = ev("attack", actor="RUS", target="UKR", status="asserted")


def doc(doc_id: str, *events: dict) -> dict:
    return {"doc_id": doc_id, "events": list(events)}


def test_perfect_match_is_one():
    report = score([doc("d", DEPLOY, ATTACK)], [doc("d", DEPLOY, ATTACK)])
    assert report["overall"]["precision"] == 1.0
    assert report["overall"]["recall"] == 1.0
    assert report["overall"]["f1"] == 1.0
    assert all(cell["accuracy"] in (1.0, None) for cell in report["slots"].values())
    assert report["slots"]["quantity"] == {"filled": 1, "correct": 1, "accuracy": 1.0}


def test_seed_gold_scores_perfectly_against_itself():
    gold = [json.loads(line) for line in SEED_GOLD.read_text().splitlines() if line.strip()]
    report = score(gold, gold)
    assert report["overall"]["f1"] == 1.0
    assert all(cell["accuracy"] in (1.0, None) for cell in report["slots"].values())


def test_missing_event_lowers_recall_only():
    report = score([doc("d", DEPLOY)], [doc("d", DEPLOY, ATTACK)])
    overall = report["overall"]
    assert (overall["pairs"], overall["predicted"], overall["gold"]) == (1, 1, 2)
    assert overall["precision"] == 1.0 and overall["recall"] == 0.5
    assert overall["f1"] == pytest.approx(2 / 3)
    assert report["per_type"]["attack"]["recall"] == 0.0
    assert report["details"][0]["missed"] == [1]


def test_spurious_event_lowers_precision_only():
    report = score([doc("d", DEPLOY, ATTACK)], [doc("d", DEPLOY)])
    assert report["overall"]["precision"] == 0.5
    assert report["overall"]["recall"] == 1.0
    assert report["per_type"]["attack"]["precision"] == 0.0
    assert report["details"][0]["spurious"] == [1]


def test_document_missing_from_predictions_predicts_nothing():
    report = score([doc("a", DEPLOY)], [doc("a", DEPLOY), doc("b", ATTACK)])
    assert report["overall"]["recall"] == 0.5
    assert report["documents"] == 2


def test_extra_predicted_document_is_ignored_and_listed():
    report = score([doc("a", DEPLOY), doc("zzz", ATTACK)], [doc("a", DEPLOY)])
    assert report["overall"]["precision"] == 1.0
    assert report["extra_doc_ids"] == ["zzz"]


def test_empty_document_predicted_empty_is_perfect():
    report = score([doc("a")], [doc("a")])
    assert report["overall"]["f1"] == 1.0


def test_type_mismatch_never_pairs():
    report = score(
        [doc("d", ev("weapons_test", actor="PRK"))],
        [doc("d", ev("weapons_unveiling", actor="PRK"))],
    )
    assert report["overall"]["pairs"] == 0


def test_actor_mismatch_prevents_pairing():
    pred = dict(DEPLOY, actor="KOR")
    report = score([doc("d", pred)], [doc("d", DEPLOY)])
    assert report["overall"]["pairs"] == 0
    assert report["overall"]["f1"] == 0.0


def test_gold_without_actor_pairs_with_any_actor():
    gold = ev("attack", actor=None, actor_name="Hamas", target="ISR")
    report = score([doc("d", ev("attack", actor="PSE", target="ISR"))], [doc("d", gold)])
    assert report["overall"]["pairs"] == 1
    assert report["slots"]["actor"]["filled"] == 0  # gold does not fill it


def test_list_valued_gold_slot_accepts_any_alternative():
    gold = ev("weapons_unveiling", actor="PRK", location=["Nampo", "Nampho"])
    for spelling, ok in (("Nampho", 1), ("nampo", 1), ("Pyongyang", 0)):
        report = score(
            [doc("d", ev("weapons_unveiling", actor="PRK", location=spelling))], [doc("d", gold)]
        )
        assert report["slots"]["location"]["correct"] == ok, spelling


def test_list_valued_gold_actor_pairs_with_any():
    gold = ev("attack", actor=["RUS", "SUN"])
    assert score([doc("d", ev("attack", actor="SUN"))], [doc("d", gold)])["overall"]["pairs"] == 1
    assert score([doc("d", ev("attack", actor="UKR"))], [doc("d", gold)])["overall"]["pairs"] == 0


@pytest.mark.parametrize(
    "predicted", ["kursk", "Kursk region", "KURSK Oblast", "Kursk Province", " Kursk "]
)
def test_location_ignores_case_and_admin_suffix(predicted):
    assert slot_equal("location", predicted, "Kursk region")
    assert slot_equal("location", predicted, "Kursk")


def test_location_suffix_only_stripped_at_end():
    assert not slot_equal("location", "Kursk", "Kursk city")
    assert not slot_equal("location", "Belgorod", "Kursk region")


def test_date_compared_at_gold_precision():
    assert dates_equal("2024-06-17", "2024-06-01", "month")
    assert not dates_equal("2024-07-01", "2024-06-01", "month")
    assert dates_equal("2025-12-31", "2025-01-01", "year")
    assert not dates_equal("2024-01-01", "2025-01-01", "year")
    assert dates_equal("2025-04-25", "2025-04-25", "day")
    assert not dates_equal("2025-04-24", "2025-04-25", "day")
    assert not dates_equal("2025-04", "2025-04-25", "day")


def test_season_precision_means_same_season():
    assert dates_equal("2024-09-01", "2024-10-01", "season")  # autumn start vs gold's October
    assert dates_equal("2024-11-30", "2024-10-01", "season")
    assert not dates_equal("2024-08-31", "2024-10-01", "season")
    assert dates_equal("2024-12-01", "2025-01-01", "season")  # one winter spans the new year
    assert not dates_equal("2025-12-01", "2025-01-01", "season")


def test_date_precision_inferred_from_gold_string_when_absent():
    assert dates_equal("2024-06-30", "2024-06", None)
    assert not dates_equal("2024-06-30", "2024-06-01", None)


def test_date_slot_uses_gold_precision_in_score():
    gold = ev("agreement", actor="PRK", date="2024-06-01", date_precision="month")
    pred = ev("agreement", actor="PRK", date="2024-06-19", date_precision="day")
    report = score([doc("d", pred)], [doc("d", gold)])
    assert report["slots"]["date"]["correct"] == 1
    assert report["slots"]["date_precision"]["correct"] == 0


def test_quantity_compares_numbers():
    assert slot_equal("quantity", 12000, 12000)
    assert slot_equal("quantity", "12000", 12000)
    assert not slot_equal("quantity", 1200, 12000)
    assert not slot_equal("quantity", None, 12000)


def test_missing_predicted_status_defaults_to_asserted():
    gold = ev("attack", actor="RUS", status="asserted")
    report = score([doc("d", ev("attack", actor="RUS"))], [doc("d", gold)])
    assert report["slots"]["status"]["correct"] == 1


def test_unfilled_gold_slot_is_not_scored():
    gold = ev("attack", actor="RUS", location=None)
    report = score([doc("d", ev("attack", actor="RUS", location="Kyiv"))], [doc("d", gold)])
    assert report["slots"]["location"]["filled"] == 0


def test_assignment_maximises_agreeing_slots():
    # two gold deployments of one actor; predictions listed in the "wrong" order
    g1 = ev(actor="PRK", quantity=12000, unit="troops", date="2024-10-01", date_precision="season")
    g2 = ev(actor="PRK", quantity=3000, unit="troops", date="2025-01-01", date_precision="year")
    p1 = ev(actor="PRK", quantity=3000, unit="troops", date="2025-02-01")
    p2 = ev(actor="PRK", quantity=12000, unit="troops", date="2024-10-01")
    assert match_events([p1, p2], [g1, g2]) == [(0, 1), (1, 0)]
    report = score([doc("d", p1, p2)], [doc("d", g1, g2)])
    assert report["slots"]["quantity"]["accuracy"] == 1.0


def test_assignment_maximises_pair_count_before_slots():
    # p0 agrees best with g0, but pairing p0-g1 lets p1 (which can only pair g0) pair too
    g0 = ev("attack", actor=None, target="UKR", location="Kyiv", date="2024-01-01")
    g1 = ev("attack", actor="RUS")
    p0 = ev("attack", actor="RUS", target="UKR", location="Kyiv", date="2024-01-01")
    p1 = ev("attack", actor="BLR")
    assert match_events([p0, p1], [g0, g1]) == [(0, 1), (1, 0)]


def test_each_event_pairs_at_most_once():
    report = score([doc("d", ATTACK, ATTACK, ATTACK)], [doc("d", ATTACK)])
    assert report["overall"]["pairs"] == 1
    assert report["overall"]["precision"] == pytest.approx(1 / 3)


def test_per_type_scores_are_separate():
    report = score([doc("d", DEPLOY)], [doc("d", DEPLOY, ATTACK)])
    assert report["per_type"]["military_deployment"]["f1"] == 1.0
    assert report["per_type"]["attack"]["f1"] == 0.0


def test_duplicate_doc_ids_are_refused():
    with pytest.raises(ValueError, match="more than once"):
        score([], [doc("a"), doc("a")])


def test_format_report_is_a_table():
    text = format_report(score([doc("d", DEPLOY)], [doc("d", DEPLOY, ATTACK)]))
    assert "military_deployment" in text and "overall" in text
    assert "[key slots]" in text and "quantity_qualifier" in text
    overall = next(line for line in text.splitlines() if line.startswith("overall"))
    assert overall.split()[-3:] == ["1.000", "0.500", "0.667"]


def _brute_force(weights: list[list[int]]) -> int:
    rows, cols = len(weights), len(weights[0])
    best = 0
    if rows <= cols:
        for perm in itertools.permutations(range(cols), rows):
            best = max(best, sum(weights[r][c] for r, c in enumerate(perm)))
    else:
        for perm in itertools.permutations(range(rows), cols):
            best = max(best, sum(weights[r][c] for c, r in enumerate(perm)))
    return best


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda r: st.integers(1, 5).flatmap(
            lambda c: st.lists(
                st.lists(st.integers(0, 20), min_size=c, max_size=c), min_size=r, max_size=r
            )
        )
    )
)
def test_hungarian_matches_brute_force(weights):
    pairs = _max_weight_assignment(weights)
    assert len({r for r, _ in pairs}) == len(pairs) == len({c for _, c in pairs})
    assert len(pairs) == min(len(weights), len(weights[0]))
    assert sum(weights[r][c] for r, c in pairs) == _brute_force(weights)


def test_format_report_marks_undefined_rates():
    text = format_report(score([doc("d")], [doc("d", ATTACK)]))
    attack = next(line for line in text.splitlines() if line.startswith("attack"))
    assert attack.split()[1:] == ["0", "1", "0", "-", "0.000", "0.000"]
