"""The compiled rule set, once per process while the rule files stay the same.

``muster run`` validates the rules before Prefect starts (a typo is one sentence, not a
failed flow run), then the flow needs them again: compiling them (patterns, lexicons,
the GeoNames gazetteer) costs about a second each time, which a run with nothing new to
fetch would pay twice for nothing.  The key is the files' *content* (read again on every
call, a few milliseconds), so an edited rule is never served stale, and a long-lived
process (``muster serve``) recompiles exactly when the rules change.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from extractors import RuleSet
from extractors.loader import load_ruleset, read_sources

_cache: dict[tuple[str, str], RuleSet] = {}
_lock = threading.Lock()


def _signature(base: Path) -> str:
    digest = hashlib.sha256()
    for folder in ("rules", "lexicons"):
        for name, text in sorted(read_sources(base / folder).items()):
            digest.update(f"{folder}/{name}\0{text}\0".encode())
    return digest.hexdigest()


def cached_ruleset(configs_dir: Path | str) -> RuleSet:
    """``extractors.loader.load_ruleset(configs_dir)``, compiled once per content."""
    base = Path(configs_dir)
    key = (str(base.resolve()), _signature(base))
    with _lock:
        if key not in _cache:
            ruleset = load_ruleset(base)  # raises RuleFileError on a bad file: not cached
            _cache.clear()  # one rule set at a time: an old one is never needed again
            _cache[key] = ruleset
        return _cache[key]
