"""flows/rules_cache.py: the compiled rule set is reused across processes, never stale.

Real rule files (a copy of configs/), a real cache folder; "served from disk" is proven
by making compilation fail: a set that still comes back was read from the cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from extractors.errors import RuleFileError

from flows import rules_cache

ROOT = Path(__file__).resolve().parent.parent


def _no_compile(base: Path) -> None:
    raise AssertionError(f"compiled {base} although the cache should have served it")


@pytest.fixture()
def configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MUSTER_CACHE_DIR", str(tmp_path / "cache"))
    for folder in ("rules", "lexicons"):
        shutil.copytree(ROOT / "configs" / folder, tmp_path / "configs" / folder)
    rules_cache._cache.clear()  # a new process, as far as the cache can tell
    yield tmp_path / "configs"
    rules_cache._cache.clear()


def _files(tmp: Path) -> list[Path]:
    return sorted((tmp / "cache").glob("rules-*.pickle"))


def test_second_process_reads_the_compiled_set(configs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = rules_cache.cached_ruleset(configs)
    assert len(_files(configs.parent)) == 1
    rules_cache._cache.clear()
    monkeypatch.setattr(rules_cache, "load_ruleset", _no_compile)
    again = rules_cache.cached_ruleset(configs)
    assert again.version == first.version and again is not first
    text = "North Korea sent 12,000 troops to Russia."
    from extractors import extract

    assert [e.model_dump() for e in extract(text, None, again)] == [
        e.model_dump() for e in extract(text, None, first)]


def test_an_edited_rule_file_is_compiled_again(configs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules_cache.cached_ruleset(configs)
    rules_cache._cache.clear()
    rule = sorted((configs / "rules").glob("*.yaml"))[0]
    rule.write_text(rule.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    monkeypatch.setattr(rules_cache, "load_ruleset", _no_compile)
    with pytest.raises(AssertionError, match="compiled"):
        rules_cache.cached_ruleset(configs)
    monkeypatch.undo()
    monkeypatch.setenv("MUSTER_CACHE_DIR", str(configs.parent / "cache"))
    rules_cache.cached_ruleset(configs)
    assert len(_files(configs.parent)) == 1  # the old set's file is gone


def test_a_corrupt_cache_file_is_recompiled(configs: Path) -> None:
    first = rules_cache.cached_ruleset(configs)
    (path,) = _files(configs.parent)
    path.write_bytes(b"not a pickle")
    rules_cache._cache.clear()
    assert rules_cache.cached_ruleset(configs).version == first.version
    assert path.read_bytes() != b"not a pickle"


def test_a_bad_rule_file_raises_and_is_not_cached(configs: Path) -> None:
    (configs / "rules" / "zz_bad.yaml").write_text("rules: [ {id: x", encoding="utf-8")
    with pytest.raises(RuleFileError):
        rules_cache.cached_ruleset(configs)
    assert _files(configs.parent) == []
