"""Which rules can fire on a text at all: literal keywords derived from each trigger regex.

Scanning every rule's trigger over every article is most of extraction's cost, and most
rules cannot match most articles.  Every trigger regex needs some literal text to match
("claim" in ``\\bclaim(?:ed|s)?\\s+responsibility``; one of "clashes", "battles", ... in an
alternation), so one Aho-Corasick pass per article over all those keywords says which rules
are worth scanning.  Derived from the regexes themselves, so rule authors write nothing
extra; a trigger whose keywords cannot be derived is always scanned.
"""

from __future__ import annotations

import re
from typing import Any

import ahocorasick

try:  # Python >= 3.11
    import re._parser as _sre  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    import sre_parse as _sre  # type: ignore[no-redef]

_SKIP = {"AT", "ASSERT", "ASSERT_NOT"}  # zero-width: \b, lookarounds
MIN_KEY = 3  # shorter keywords match nearly every article: no filtering value


def _name(op: Any) -> str:
    return str(op)


def _seq_keys(items: list) -> set[str] | None:
    """Keywords one of which every match of this sequence contains (None: unknown)."""
    best: set[str] | None = None
    run = ""
    candidates: list[set[str]] = []
    for op, arg in list(items) + [(None, None)]:
        name = _name(op) if op is not None else ""
        if name == "LITERAL":
            run += chr(arg)
            continue
        if len(run) >= MIN_KEY:
            candidates.append({run})
        run = ""
        if op is None or name in _SKIP:
            continue
        sub = _item_keys(name, arg)
        if sub is not None:
            candidates.append(sub)
    for cand in candidates:  # the fewest, longest keywords filter best
        if best is None or (min(map(len, cand)), -len(cand)) > (min(map(len, best)), -len(best)):
            best = cand
    return best


def _item_keys(name: str, arg: Any) -> set[str] | None:
    if name == "SUBPATTERN":
        return _seq_keys(arg[-1])
    if name == "BRANCH":
        out: set[str] = set()
        for branch in arg[1]:
            keys = _seq_keys(branch)
            if keys is None:
                return None
            out |= keys
        return out
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and arg[0] >= 1:
        return _seq_keys(arg[2])
    return None


def trigger_keys(pattern: str) -> frozenset[str] | None:
    """Lower-case keywords of a (lower-cased, flag-free) trigger regex, or None if underivable."""
    try:
        keys = _seq_keys(list(_sre.parse(pattern)))
    except (re.error, TypeError, ValueError, IndexError):  # unusual syntax: scan always
        return None
    return frozenset(keys) if keys else None


class Prefilter:
    """One keyword automaton for a rule set; ``candidates`` names the rules worth scanning."""

    def __init__(self, rules: tuple[Any, ...]) -> None:
        self.always: list[int] = []
        self._auto = ahocorasick.Automaton()
        index: dict[str, list[int]] = {}
        for i, rule in enumerate(rules):
            keys = trigger_keys(rule.trigger_lc.pattern) if rule.trigger_lc.flags & re.I == 0 else None
            if keys is None:
                self.always.append(i)
                continue
            for k in keys:
                index.setdefault(k, []).append(i)
        for k, ids in index.items():
            self._auto.add_word(k, tuple(ids))
        self._empty = not index
        if not self._empty:
            self._auto.make_automaton()

    def candidates(self, lower: str) -> set[int]:
        """Indexes of the rules whose trigger may match ``lower`` (a lower-cased text)."""
        found = set(self.always)
        if not self._empty:
            for _end, ids in self._auto.iter(lower):
                found.update(ids)
        return found


_CACHE: dict[int, tuple[Any, Prefilter]] = {}


def prefilter_for(ruleset: Any) -> Prefilter:
    """The (cached) prefilter of a rule set; the set itself is kept so its id stays unique."""
    hit = _CACHE.get(id(ruleset))
    if hit is None or hit[0] is not ruleset:
        if len(_CACHE) > 16:
            _CACHE.clear()
        hit = (ruleset, Prefilter(ruleset.rules))
        _CACHE[id(ruleset)] = hit
    return hit[1]
