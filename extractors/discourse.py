"""Discourse: what earlier sentences of the article tell about the current one.

Split from the engine so each stays small.  Antecedents for pronouns, the last named
source for a following "they said", the state behind "the Navy", and the place of the
sentence before when this one names none.
"""

from __future__ import annotations

import re
from typing import Any

from extractors.mentions import Mention

_ANAPHOR = re.compile(r"\b(?:there|(?:the|that|this)\s+(?:city|town|village|region|area|territory|province|port|"
                     r"enclave|island|district|capital)|(?P<plural>(?:the|those|these)\s+(?:territories|"
                     r"areas|regions|towns|villages|cities)))\b", re.I)
_SERVICE = re.compile(r"\bthe\s+(?:Navy|Army|Air\s+Force|military|armed\s+forces)(?:['\u2019]s)?\b")


class Discourse:
    """Earlier sentences, searched backwards (lazily) for antecedents and sources."""

    LOOKBACK = 6

    def __init__(self, history: list[Any]) -> None:
        self._history = history

    def get(self, key: str) -> Mention | None:
        """Last person ("person") or state-like actor ("state") named before."""
        kinds = ("person",) if key == "person" else ("state", "capital", "org")
        for an in reversed(self._history[-self.LOOKBACK:]):
            for u in reversed(an.units):
                if u.head.kind in kinds and u.head.code:
                    return u.head
        return None

    def carried_place(self, etype: str, s: str, has_place: bool) -> tuple[str | None, str | None]:
        """The place of the sentence before, when this one names none and the reference is clear.

        "Israel seized control of the territories" after "... in east Jerusalem and the West
        Bank": an anaphor ("the territories", "there") takes the previous sentence's place (its
        first for a plural); a casualty count or attack with no place at all takes it only when
        the sentence before names exactly one place.
        """
        if has_place or not self._history:
            return None, None
        prev = self._history[-1]
        spans = prev.speaker_spans
        places = [p for p in prev.places if not any(a <= p.start < b for a, b in spans)]
        names = list(dict.fromkeys((p.canonical, p.country) for p in places))
        ana = _ANAPHOR.search(s)
        if not names or ana is None and etype not in ("attack", "casualties"):
            return None, None
        if len(names) == 1 or ana is not None and ana.group("plural"):
            return names[0]
        return None, None

    def last_source(self) -> str | None:
        """The last named source ("South Korean officials") for a following "They said"."""
        for an in reversed(self._history[-3:]):
            srcs = [a.source for a in an.attrs if not re.fullmatch(r"(?i)they|he|she|it", a.source)]
            if srcs:
                return srcs[-1]
        return None

    def service_state(self, s: str) -> Mention | None:
        """"The ship is the Navy's 64th destroyer": the navy of the state last named."""
        return self.get("state") if _SERVICE.search(s) else None


_BACK_REF = re.compile(r"\b(?:the|this|that)\s+(?:[\w-]+\s+){0,4}?(?:launch|launching|test|test-firing|test-fire|"
                       r"test\s+flight|missile|weapon|ceremony|vessel|ship|submarine|carrier|destroyer|frigate|"
                       r"warship|drone|rocket|parade)\b"
                       # "during a test on April 5", "launched an AGM-183A ... Weapon", "Launched Aug. 15, DDG 128 ..."
                       r"|\bduring\s+an?\s+(?:\w+\s+)?(?:test|launch|flight|parade)\b"
                       r"|\b(?:launched|fired|test-fired)\s+an?\s+(?:[\w-]+\s+){0,5}?(?:missile|weapon|rocket)\b"
                       r"|^\s*(?:Launched|Christened|Floated\s+out|Test-fired|Tested|Unveiled)\b", re.I)
_TONS = re.compile(r"(?P<n>\d{1,3}(?:,\d{3})+|\d+)[- ](?:tons?|tonnes?)\b", re.I)
ELABORATED = ("weapons_test", "weapons_unveiling")
LOOKAHEAD = 2


def elaborate(raw: list[dict[str, Any]], history: list[Any], starts: list[int]) -> None:
    """Fill a weapons event's missing place, day or tonnage from the next sentences that say more
    about the same launch ("The launch took place from Abdul Kalam Island"; "the vessel, named the
    Fujian, was put into the water in a Shanghai dockyard"; "The DR-8 ... in Beijing on Saturday").
    """
    from bisect import bisect_right

    for e in raw:
        if e["type"] not in ELABORATED or (e["location"] and e["date"]
                                           and (e["quantity"] or e["type"] != "weapons_unveiling")):
            continue
        i = bisect_right(starts, e["char_start"]) - 1
        for an in history[i + 1:i + 1 + LOOKAHEAD]:
            s = an.sent.norm
            if e["date"] is None and any(o["type"] == e["type"] and o["char_start"] == an.sent.start for o in raw):
                break  # "A previous test of the Agni-IV on December 10, 2010": that sentence's own event
            named = e.get("weapon_name") and e["weapon_name"] in s
            if not (named or _BACK_REF.search(s)):
                continue
            if e["location"] is None:
                places = [p for p in an.places if not any(a <= p.start < b for a, b in an.speaker_spans)]
                capitals = [u.head for u in an.units if u.head.kind == "capital" and re.search(
                    r"\b(?:in|at|near|over|outside)\s+$", s[max(0, u.start - 8):u.start])]  # "a rehearsal in Beijing"
                if places:
                    e["location"], e["location_country"] = places[0].canonical, places[0].country
                elif capitals:
                    e["location"], e["location_country"] = capitals[0].text, capitals[0].code
            if e["date"] is None:
                dates = [d for d in an.dates if d.date is not None]
                if len(dates) == 1 and not re.match(r"\s*,?\s*(?:said|reported|announced|told)", s[dates[0].end:]):
                    e["date"], e["date_precision"] = dates[0].date.isoformat(), dates[0].precision
            if e["type"] == "weapons_unveiling" and e["quantity"] is None and (m := _TONS.search(s)):
                e["quantity"], e["unit"] = int(m.group("n").replace(",", "")), "tons"
                e["quantity_qualifier"] = "lower" if re.search(r"(?:more\s+than|over|at\s+least)\s+$",
                                                                s[:m.start()]) else "exact"
