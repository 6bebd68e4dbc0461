"""Where rules can fire in a text: literal keywords derived from each trigger regex.

Scanning every rule's trigger over every article is most of extraction's cost, and most
rules cannot match most articles.  Every trigger regex needs some literal text to match
("claim" in ``\\bclaim(?:ed|s)?\\s+responsibility``; one of "clashes", "battles", ... in an
alternation), so one Aho-Corasick pass per article over all those keywords says which rules
are worth scanning, and where.  Derived from the regexes themselves, so rule authors write
nothing extra; a trigger whose keywords cannot be derived is always scanned whole.

Where: a trigger match counts only inside one sentence (``engine._extract``), and it
contains one of its keywords, so only the sentences holding a keyword of the rule need
scanning (:meth:`Prefilter.windows`): ~12 candidate rules over a whole 5 KB article cost
~2.2 ms, over their few keyword sentences a fraction of that.  Each stretch starts one
sentence early, so a match that begins before a keyword sentence and runs into it (it is
then dropped, as it crosses a sentence end) still hides what it overlaps, as in a scan of
the whole text; tests/test_extract_prefilter.py checks that the events never change.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
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
    """One keyword automaton for a rule set; ``windows`` says where each rule is worth scanning."""

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

    def windows(
        self, lower: str, starts: Sequence[int], ends: Sequence[int]
    ) -> dict[int, list[tuple[int, int]]]:
        """Per rule worth scanning, the ``(scan_from, stop)`` stretches of ``lower`` to scan.

        ``starts``/``ends``: the sentences' offsets in ``lower``.  A stretch covers a run of
        sentences holding the rule's keywords, from the start of the sentence before it;
        matches starting at or after ``stop`` are past the run.  Always-scanned rules get
        the whole text.
        """
        whole = [(0, len(lower))]
        out: dict[int, list[tuple[int, int]]] = {i: whole for i in self.always}
        if self._empty:
            return out
        sentences: dict[int, set[int]] = {}
        for end, ids in self._auto.iter(lower):  # ``end``: the keyword's last character
            j = bisect_right(starts, end) - 1
            if j >= 0 and end < ends[j]:
                for i in ids:
                    sentences.setdefault(i, set()).add(j)
        for i, found in sentences.items():
            out[i] = _stretches(sorted(found), starts, ends)
        return out


def _stretches(found: list[int], starts: Sequence[int], ends: Sequence[int]) -> list[tuple[int, int]]:
    """Runs of sentence indexes -> text stretches, each from the sentence before the run.

    Runs with one sentence between them are joined: a stretch then never begins inside
    the previous one's last possible match.
    """
    runs: list[list[int]] = []
    for j in found:
        if runs and j - runs[-1][1] <= 2:
            runs[-1][1] = j
        else:
            runs.append([j, j])
    return [(starts[max(first - 1, 0)], ends[last]) for first, last in runs]


def scan_end(stop: int, ends: Sequence[int], length: int) -> int:
    """Where the regex engine may stop reading for a stretch ending at ``stop``.

    Two sentences beyond the stretch, so a trigger's lookahead still sees the text after
    its sentence (``(?=\\s+to\\b)``) as in a whole-text scan, while a stretch without a
    match does not send the engine on to the end of the article.
    """
    j = bisect_right(ends, stop)
    return ends[j + 1] if j + 1 < len(ends) else length


def trigger_hits(
    ruleset: Any, norm: str, starts: Sequence[int], ends: Sequence[int], per_sentence: int
) -> dict[int, list[tuple[Any, int, int]]]:
    """Every rule's trigger matches in ``norm``, by sentence: ``{i: [(rule, start, end)]}``.

    Offsets are within sentence ``i``; a match that crosses a sentence end is dropped, and
    each sentence keeps its first ``per_sentence`` matches in rule order.  Case-insensitive
    matching runs on the lower-cased text where lower-casing keeps every offset (else on
    ``norm`` itself, whole, with the case-folding pattern).
    """
    lower = norm.lower()
    same_len = len(lower) == len(norm)
    stretches = (prefilter_for(ruleset).windows(lower, starts, ends) if same_len
                 else dict.fromkeys(range(len(ruleset.rules)), [(0, len(norm))]))
    hits: dict[int, list[tuple[Any, int, int]]] = {}
    for k, rule in enumerate(ruleset.rules):
        pattern, text = (rule.trigger_lc, lower) if same_len else (rule.trigger, norm)
        for begin, stop in stretches.get(k, ()):  # none: no keyword of its trigger occurs
            for m in pattern.finditer(text, begin, scan_end(stop, ends, len(norm))):
                if m.start() >= stop:
                    break
                i = bisect_right(starts, m.start()) - 1
                if i >= 0 and m.end() <= ends[i]:
                    bucket = hits.setdefault(i, [])
                    if len(bucket) < per_sentence:
                        bucket.append((rule, m.start() - starts[i], m.end() - starts[i]))
    return hits


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
