"""The keyword prefilter: which rules can fire on a text, derived from the trigger regexes.

It only skips work, so it must never change what ``extract`` returns: the last test runs
every dev-set document and the seed with and without it and compares the events.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import extractors.prefilter as prefilter
from extractors import extract
from extractors.loader import load_ruleset
from extractors.prefilter import Prefilter, trigger_keys

ROOT = Path(__file__).resolve().parents[1]
RS = load_ruleset(ROOT / "configs")


@pytest.mark.parametrize(("pattern", "keys"), [
    (r"\bclaim(?:ed|s|ing)?\s+(?:the\s+)?responsibility\s+for\b", {"responsibility"}),
    (r"\b(?:clashes|battles|fighting)\b", {"clashes", "battles", "fighting"}),
    (r"(?:(?:bloody|heavy)\s+)+(?:clashes|battles)", {"clashes", "battles"}),
    (r"\b(?:test-fired|launched)\s+\w+", {"test-fired", "launched"}),
])
def test_keywords_are_derived_from_the_regex(pattern: str, keys: set[str]):
    assert trigger_keys(pattern) == keys


@pytest.mark.parametrize("pattern", [r"\b\w+ed\b", r"(?:abc)?\d+", r"(?:ab|)x", r"[a-z]{4}"])
def test_no_keywords_means_always_scanned(pattern: str):
    assert trigger_keys(pattern) is None


def test_a_rule_is_skipped_only_when_none_of_its_keywords_occurs():
    pf = Prefilter(RS.rules)

    def ids(text: str) -> set[str]:
        return {RS.rules[i].id for i in pf.windows(text, [0], [len(text)])}

    assert "attack.claimed_responsibility" not in ids("the weather was fine in paris.")
    assert "attack.claimed_responsibility" in ids("the group claimed responsibility for it.")


def _devset_texts() -> list[tuple[str, str | None]]:
    docs = []
    for part in ("plover", "pages", "weapons", "headlines"):
        path = ROOT / "tests" / "devset" / f"{part}.in.jsonl"
        docs += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(d["text"], d.get("published")) for d in docs]


def test_prefilter_never_changes_the_events(monkeypatch):
    docs = _devset_texts()
    with_pf = [[e.model_dump() for e in extract(t, p, RS)] for t, p in docs]

    class ScanAll:  # every rule over the whole text, as before the prefilter
        def windows(self, lower: str, starts: list[int], ends: list[int]) -> dict:
            return dict.fromkeys(range(len(RS.rules)), [(0, len(lower))])

    monkeypatch.setattr(prefilter, "prefilter_for", lambda rs: ScanAll())
    without = [[e.model_dump() for e in extract(t, p, RS)] for t, p in docs]
    assert sum(map(len, with_pf)) > 100  # the comparison covers real events
    assert with_pf == without


def test_stretches_cover_the_keyword_sentences_from_the_one_before():
    pf = Prefilter(RS.rules)
    text = "the weather was fine. markets rose. the group claimed responsibility for it. rain."
    starts = [0, 22, 36, 77]
    ends = [21, 35, 76, 82]
    rule = next(i for i, r in enumerate(RS.rules) if r.id == "attack.claimed_responsibility")
    assert pf.windows(text, starts, ends)[rule] == [(22, 76)]  # sentence 2, from sentence 1
    assert rule not in pf.windows("the weather was fine.", [0], [21])
