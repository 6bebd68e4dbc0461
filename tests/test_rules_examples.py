"""Every inline ``match`` / ``no_match`` example of every rule file is a test.

The examples live next to the rules they document (configs/rules/*.yaml), so a
rule edit that breaks its own examples fails here with the rule id in the test
id.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from extractors import extract
from extractors.loader import load_ruleset

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _examples() -> list:
    params = []
    for path in sorted((CONFIGS / "rules").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        etype = doc["type"]
        for rule in doc["rules"]:
            for i, ex in enumerate(rule.get("match", [])):
                params.append(pytest.param(etype, rule["id"], "match", ex, id=f"{rule['id']}-match-{i}"))
            for i, text in enumerate(rule.get("no_match", [])):
                params.append(pytest.param(etype, rule["id"], "no_match", {"text": text},
                                           id=f"{rule['id']}-no_match-{i}"))
    return params


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset(CONFIGS)


def test_there_are_examples_for_every_type(ruleset):
    types_with_examples = {p.values[0] for p in _examples() if p.values[2] == "match"}
    assert types_with_examples == set(ruleset.event_types) & {f.type for f in ruleset.rule_files.values()}


@pytest.mark.parametrize(("etype", "rule_id", "kind", "example"), _examples())
def test_rule_example(ruleset, etype, rule_id, kind, example):
    published = example.get("published")
    events = [e for e in extract(example["text"], published, ruleset) if e.type == etype]
    if kind == "no_match":
        assert events == [], f"{rule_id}: unexpected {[e.model_dump(exclude_none=True) for e in events]}"
        return
    expect = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in example.get("expect", {}).items()}
    assert events, f"{rule_id}: no {etype} event in {example['text']!r}"
    dumped = [e.model_dump() for e in events]
    best = max(dumped, key=lambda d: sum(d.get(k) == v for k, v in expect.items()))
    wrong = {k: (best.get(k), v) for k, v in expect.items() if best.get(k) != v}
    assert not wrong, f"{rule_id}: slots (got, expected) {wrong}"
