"""Bad rule files must fail loudly, naming the file, the rule id and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors import RuleFileError, compile_ruleset
from extractors.loader import load_ruleset, read_sources

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
LEXICONS = read_sources(CONFIGS / "lexicons")

GOOD_RULE = """
type: attack
rules:
  - id: attack.test_rule
    version: 1
    trigger:
      words: [shelled]
"""


def _compile(files: dict[str, str]):
    return compile_ruleset(files, LEXICONS)


def _error(files: dict[str, str]) -> RuleFileError:
    with pytest.raises(RuleFileError) as info:
        _compile(files)
    return info.value


def test_good_minimal_rule_compiles():
    rs = _compile({"attack.yaml": GOOD_RULE})
    assert [r.id for r in rs.rules] == ["attack.test_rule"]
    assert len(rs.version) == 12


def test_rule_file_error_is_value_error():
    assert issubclass(RuleFileError, ValueError)


def test_unknown_key_names_file_rule_and_field():
    bad = GOOD_RULE + "    colour: red\n"
    err = _error({"attack.yaml": bad})
    msg = str(err)
    assert "attack.yaml" in msg and "attack.test_rule" in msg and "colour" in msg
    assert (err.file, err.rule_id, err.field) == ("attack.yaml", "attack.test_rule", "colour")


def test_bad_regex_names_trigger_field():
    bad = GOOD_RULE.replace("words: [shelled]", "regex: ['(unclosed']")
    err = _error({"attack.yaml": bad})
    assert (err.file, err.rule_id, err.field) == ("attack.yaml", "attack.test_rule", "trigger.regex[0]")


def test_bad_requires_regex():
    bad = GOOD_RULE + "    requires: ['[a-']\n"
    err = _error({"attack.yaml": bad})
    assert (err.rule_id, err.field) == ("attack.test_rule", "requires[0]")


def test_wrong_type_for_version():
    bad = GOOD_RULE.replace("version: 1", "version: first")
    err = _error({"attack.yaml": bad})
    assert (err.file, err.rule_id, err.field) == ("attack.yaml", "attack.test_rule", "version")


def test_missing_trigger_patterns():
    bad = GOOD_RULE.replace("      words: [shelled]\n", "      words: []\n")
    err = _error({"attack.yaml": bad})
    assert (err.rule_id, err.field) == ("attack.test_rule", "trigger")


def test_bad_slot_value():
    bad = GOOD_RULE + "    slots: {actor: sideways}\n"
    err = _error({"attack.yaml": bad})
    assert (err.rule_id, err.field) == ("attack.test_rule", "slots.actor")


def test_bad_quantity_unit():
    bad = GOOD_RULE + "    slots: {quantity: [{unit: bananas}]}\n"
    err = _error({"attack.yaml": bad})
    assert err.rule_id == "attack.test_rule" and err.field.startswith("slots.quantity.0.unit")


def test_unknown_event_type():
    err = _error({"picnic.yaml": GOOD_RULE.replace("type: attack", "type: picnic")})
    assert (err.file, err.field) == ("picnic.yaml", "type")


def test_type_must_match_file_name():
    err = _error({"agreement.yaml": GOOD_RULE})
    assert (err.file, err.field) == ("agreement.yaml", "type")


def test_duplicate_rule_id_across_files():
    other = GOOD_RULE.replace("type: attack", "type: casualties")
    err = _error({"attack.yaml": GOOD_RULE, "casualties.yaml": other})
    assert (err.rule_id, err.field) == ("attack.test_rule", "id")


def test_invalid_yaml_names_file():
    err = _error({"attack.yaml": "type: attack\nrules: [\n"})
    assert err.file == "attack.yaml" and "YAML" in str(err)


def test_bad_lexicon_names_file_and_field():
    lex = dict(LEXICONS)
    lex["weapons.yaml"] = "classes: {tank: [tank]}\nnames: [{pattern: 'T-72', klass: tank}]\n"
    with pytest.raises(RuleFileError) as info:
        compile_ruleset({"attack.yaml": GOOD_RULE}, lex)
    assert info.value.file == "weapons.yaml" and "names" in info.value.field


def test_load_ruleset_on_bad_folder(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "lexicons").mkdir()
    for name, text in LEXICONS.items():
        (tmp_path / "lexicons" / name).write_text(text, encoding="utf-8")
    (tmp_path / "rules" / "attack.yaml").write_text(GOOD_RULE + "    confidence: 3\n", encoding="utf-8")
    with pytest.raises(RuleFileError) as info:
        load_ruleset(tmp_path)
    assert (info.value.file, info.value.rule_id, info.value.field) == ("attack.yaml", "attack.test_rule", "confidence")


def test_empty_rules_folder(tmp_path):
    with pytest.raises(RuleFileError):
        load_ruleset(tmp_path)


def test_version_is_stable_and_content_sensitive():
    a = _compile({"attack.yaml": GOOD_RULE}).version
    b = _compile({"attack.yaml": GOOD_RULE}).version
    c = _compile({"attack.yaml": GOOD_RULE.replace("shelled", "bombed")}).version
    assert a == b != c


def test_shipped_rules_all_compile():
    rs = load_ruleset(CONFIGS)
    assert {r.type for r in rs.rules} <= set(rs.event_types)
    assert len({r.id for r in rs.rules}) == len(rs.rules)
