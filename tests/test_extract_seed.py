"""The seed article against its gold events (../shared/spec/seed-article.*)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors import extract
from extractors.loader import load_ruleset

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "spec"
SLOTS = ("actor", "target", "location", "location_country", "quantity", "unit", "quantity_qualifier",
         "weapon_class", "weapon_name", "direction", "date", "date_precision", "status")

pytestmark = pytest.mark.skipif(not (SPEC / "seed-article.in.jsonl").exists(), reason="shared spec missing")


@pytest.fixture(scope="module")
def seed():
    doc = json.loads((SPEC / "seed-article.in.jsonl").read_text(encoding="utf-8").splitlines()[0])
    gold = json.loads((SPEC / "seed-article.gold.jsonl").read_text(encoding="utf-8").splitlines()[0])
    events = extract(doc["text"], doc["published"], load_ruleset(ROOT / "configs"))
    return doc, gold["events"], [e.model_dump() for e in events]


def _eq(gold_value, value) -> bool:
    if isinstance(gold_value, list):
        return any(_eq(g, value) for g in gold_value)
    if isinstance(gold_value, str) and isinstance(value, str):
        return gold_value.lower() == value.lower()
    return gold_value == value


def _pair(gold_event, predicted):
    cands = [p for p in predicted if p["type"] == gold_event["type"]
             and (gold_event.get("actor") is None or p["actor"] == gold_event["actor"])]
    if not cands:
        return None
    return max(cands, key=lambda p: sum(_eq(gold_event[s], p[s]) for s in SLOTS if gold_event.get(s) is not None))


def test_evidence_offsets_point_into_text(seed):
    doc, _, predicted = seed
    assert predicted
    for p in predicted:
        assert doc["text"][p["char_start"]:p["char_end"]] == p["sentence"]


def test_deployment_12000_exact(seed):
    _, _, predicted = seed
    dep = [p for p in predicted if p["type"] == "military_deployment" and p["quantity"] == 12000]
    assert len(dep) == 1
    e = dep[0]
    assert (e["actor"], e["target"], e["location"], e["location_country"]) == ("PRK", "RUS", "Kursk", "RUS")
    assert (e["unit"], e["quantity_qualifier"], e["status"]) == ("troops", "upper", "reported")
    assert e["attributed_to"] == "U.S., South Korean and Ukrainian officials"
    assert (e["date"], e["date_precision"], e["direction"]) == ("2024-10-01", "season", "deploy")


def test_deployment_3000(seed):
    _, _, predicted = seed
    dep = [p for p in predicted if p["type"] == "military_deployment" and p["quantity"] == 3000]
    assert len(dep) == 1
    e = dep[0]
    assert (e["actor"], e["target"], e["unit"], e["quantity_qualifier"]) == ("PRK", "RUS", "troops", "exact")
    assert (e["date"], e["date_precision"], e["status"]) == ("2025-01-01", "year", "reported")
    assert e["attributed_to"] == "South Korean officials"


def test_unveiling_exact(seed):
    _, _, predicted = seed
    unv = [p for p in predicted if p["type"] == "weapons_unveiling"]
    assert len(unv) == 1
    e = unv[0]
    assert (e["actor"], e["actor_name"], e["weapon_class"]) == ("PRK", "he (Kim)", "destroyer")
    assert (e["quantity"], e["unit"], e["quantity_qualifier"]) == (5000, "tons", "exact")
    assert (e["location"], e["location_country"]) == ("Nampo", "PRK")
    assert (e["date"], e["date_precision"], e["status"], e["attributed_to"]) == ("2025-04-25", "day", "reported", "KCNA")


GOLD_TYPES = ["military_deployment", "casualties", "agreement", "territorial_control", "attack",
              "weapons_unveiling", "condemnation"]


@pytest.mark.parametrize("etype", GOLD_TYPES)
def test_gold_event_found_with_core_slots(seed, etype):
    _, gold, predicted = seed
    for g in [g for g in gold if g["type"] == etype]:
        p = _pair(g, predicted)
        assert p is not None, f"no {etype} event with actor {g['actor']}"
        for slot in ("actor", "target", "location", "quantity", "unit", "weapon_class", "status"):
            if g.get(slot) is not None:
                assert _eq(g[slot], p[slot]), f"{etype}.{slot}: got {p[slot]!r}, gold {g[slot]!r}"


def test_no_spurious_events(seed):
    _, gold, predicted = seed
    assert len(predicted) == len(gold), [(p["type"], p["actor"], p["sentence"][:60]) for p in predicted]
    for etype in {g["type"] for g in gold} | {p["type"] for p in predicted}:
        assert sum(p["type"] == etype for p in predicted) == sum(g["type"] == etype for g in gold), etype


def test_slot_accuracy_is_high(seed):
    _, gold, predicted = seed
    agree = total = 0
    for g in gold:
        p = _pair(g, predicted)
        for s in SLOTS:
            if g.get(s) is not None:
                total += 1
                agree += bool(p) and _eq(g[s], p[s])
    assert agree / total >= 0.9, f"slot accuracy {agree}/{total}"
