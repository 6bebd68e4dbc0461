"""Fill an event's slots from the mentions around its trigger.

Positional heuristics, steered per rule by ``Slots`` hints: the doer is the
nearest actor before the trigger (outside any "X said" source phrase), the
other state stands after it ("to Russia", "on Ukraine's cities"), the place is
the nearest gazetteer name behind a preposition.
"""

from __future__ import annotations

import re
from typing import Any
from dataclasses import dataclass

from extractors.mentions import Mention
from extractors.quantities import Quantity
from extractors.schema import QuantityHint

_TITLE_GAP = re.compile(
    r"^\s*(?:'s\s+)?(?:(?:new|former|late|then|deputy|acting|top|chief|senior|supreme|defen[cs]e|foreign|"
    r"prime|vice|president|minister|leader|premier|chancellor|king|queen|general|gen\.|"
    r"commander|spokes(?:man|woman|person)|secretary|envoy|ambassador|head|chairman|of|state|"
    r"the|affairs|interior|army|military|navy|air force|[A-Z][a-z]+)\s+)*$")
_PREP_BEFORE = re.compile(
    r"(?:\b(?:in|at|near|outside|inside|into|of|around|across|off|from|to|toward|towards|over|on|"
    r"within|along|onto|through)\s+(?:[\w'-]+\s+){0,3}|\b(?:capital|city|town|village|port|province|region|"
    r"district|base|enclave|stronghold)\s+(?:of\s+)?)$", re.I)


_BARE_BEFORE = re.compile(r"\s*(?:(?:were|was|have|has|had|been|be|are|is|reportedly|also|now|all|already|"
                          r"confirmed|dead|people|others|more|killed|and|or|wounded|injured)\s+){0,4}", re.I)
_BARE_AFTER = re.compile(r"\s*(?::|,)?\s*(?:(?:rose|has|had|have|risen|climbed|reached|stands|stood|at|of|is|was|to|"
                         r"now|jumped|increased|toll)\s*){0,4}", re.I)


_LOCATIVE_PREFIX = re.compile(
    r"(?:\b(?:in|at|near|inside|outside|across|throughout|around)\s+(?:the\s+)?|\b(?:suburbs?|outskirts|city|"
    r"town|cent(?:er|re)|heart|north|south|east|west|province|region|parts?|areas?|streets)\s+of\s+(?:the\s+)?)$",
    re.I)
# "the eastern Ukrainian town of Chasiv Yar": a place the gazetteer may not know
# "the town of Khan al-Assal", "Deir ez-Zor", "Rio de Janeiro": a lower-case particle inside the name
_NAMED_PLACE = re.compile(
    r"\b(?:[\w-]+\s+){0,3}?(?:village|town|city|settlement|district|province|region|port|airport|air\s+base|"
    r"base|enclave|stronghold|hub)\s+of\s+(?P<name>[A-Z][\w'-]+(?:\s+(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday|January|February|March|April|May|June|July|August|September|October|November|December|"
    r"On|In|At|And|But|The)\b)(?:(?:al|el|ad|as|ash|ar|an|az|at|ez|es|ul)-|(?:de|del|da|do|bin|ibn)\s)?[A-Z][\w'-]+)?)")
# "southern Israel", "north-western Syria": a part of a country, kept as written
_COMPASS_BEFORE = re.compile(r"\b((?:north|south)?(?:-?(?:east|west))?(?:ern)|central|(?:north|south)-?(?:east|west)ern)\s+$",
                             re.I)
_SECOND_VERB = re.compile(r"\band\s+(?:then\s+|later\s+)?(?:took|fled|went|left|sent|brought|\w+ed)\s+(?!by\b|in\b)")
_REACH = re.compile(r"\b(?:able\s+to|capable\s+of|can|could|range\s+of|within\s+range|reach(?:ing)?|deep\s+inside)\b",
                    re.I)
GENERIC_CLASSES = {"missile", "small_arms", "aircraft", "warship", "artillery"}


@dataclass(frozen=True)
class Unit:
    """Adjacent mentions that name one party ("Russian President Vladimir Putin")."""

    head: Mention  # the most specific mention (used for name and code)
    start: int
    end: int


def group_units(mentions: list[Mention], s: str) -> list[Unit]:
    """Merge "North Korean leader Kim Jong Un" into one unit headed by the person."""
    units: list[Unit] = []
    for m in mentions:
        if units:
            prev = units[-1]
            gap = s[prev.end:m.start]
            same = prev.head.code is not None and prev.head.code == m.code
            if same and m.kind != "pronoun" and prev.head.kind != "pronoun" and _TITLE_GAP.match(gap) \
                    and "," not in gap and " and " not in gap:
                head = m if m.kind in ("person", "org") or prev.head.kind not in ("person", "org") else prev.head
                units[-1] = Unit(head, prev.start, m.end)
                continue
        units.append(Unit(m, m.start, m.end))
    return units


def outside(units: list[Unit], spans: list[tuple[int, int]]) -> list[Unit]:
    return [u for u in units if not any(a <= u.start < b for a, b in spans)]


def resolve_pronoun(unit: Unit, units_all: list[Unit], discourse: Any) -> tuple[str | None, str | None]:
    """(code, name) for a pronoun unit: same-sentence antecedent, else discourse memory."""
    p = unit.head.canonical
    want = ("person",) if p in ("he", "she") else ("state", "capital", "org", "demonym") if p == "it" \
        else ("demonym", "group", "state")
    for u in reversed([u for u in units_all if u.end <= unit.start]):
        if u.head.kind in want:
            return u.head.code, u.head.text
    if p == "they":
        return None, None  # "they" across sentences is too often reporters, residents, officials
    key = "person" if p in ("he", "she") else "state"
    ante = discourse.get(key)
    if ante is None:
        return None, None
    return ante.code, f"{unit.head.text} ({ante.text})"


def coordinated(units: list[Unit], idx: int, s: str) -> list[Unit]:
    """Units joined with "and"/"," ending at ``units[idx]`` (joint doers)."""
    group = [units[idx]]
    j = idx
    while j > 0:
        gap = s[units[j - 1].end:units[j].start]
        if re.fullmatch(r"\s*(?:,\s*(?:and\s+)?|and\s+)(?:(?:their|its|the)\s+)?", gap):
            group.insert(0, units[j - 1])
            j -= 1
        else:
            break
    return group


_CLAUSE_TURN = re.compile(r"[;]|,\s+(?:while|whereas|but|although|though)\b", re.I)


def pick_target(units: list[Unit], trig_end: int, s: str, mode: str, actor_code: str | None,
                limit: int) -> Unit | None:
    """First suitable actor unit after the trigger."""
    after = [u for u in units if trig_end <= u.start < limit and u.head.kind != "pronoun"]
    if mode == "to":
        for u in after:
            if re.search(r"\b(?:to|into|in|for|with|aid|help|support|toward|towards|"
                         r"to\s+(?:aid|help|support|back|reinforce))\s+(?:the\s+)?$", s[:u.start], re.I):
                if u.head.code != actor_code or actor_code is None:
                    return u
    if mode == "on":
        for u in after:
            if re.search(r"\b(?:on|against|at|targeting)\s+(?:the\s+)?$", s[:u.start], re.I):
                if u.head.code != actor_code or actor_code is None:
                    return u
    if mode == "loser":
        for u in [u for u in units if u.head.kind != "pronoun" and u.head.code and u.head.code != actor_code]:
            if re.match(r"-(?:controlled|held|occupied)\b", s[u.end:]) or (
                    u.start >= trig_end and re.search(r"\b(?:from|(?:held|controlled|occupied)\s+by)\s+(?:the\s+)?$",
                                                      s[:u.start], re.I)):
                return u
        return None
    if mode == "object":  # "..., while the Arab League condemned": another clause's subject is no object
        after = [u for u in after if not _CLAUSE_TURN.search(s, trig_end, u.start)]
        after = [u for u in after if not re.search(
            r"\b(?:on|against|in|at|to|into|from|by|of|near|over)\s+(?:the\s+)?$", s[:u.start], re.I)
            or re.search(r"\b(?:by|of)\s+(?:the\s+)?$", s[:u.start], re.I)
            and re.search(r"\b(?:attack|attacks|deployment|actions?|launch|test|strikes?|invasion|aggression|"
                          r"annexation|occupation|behavior|behaviour|decision|move|seizure|shelling|bombing)\s+"
                          r"(?:(?:announced|made|taken|ordered|carried\s+out|launched|[\w,]+day|on|last|this)\s+){0,4}"
                          r"(?:by|of)\s+(?:the\s+)?$", s[:u.start], re.I)]
    for u in after:
        if u.head.code is None and u.head.kind not in ("group", "intl"):
            continue
        if mode != "to" and _LOCATIVE_PREFIX.search(s[:u.start]):
            continue  # "in Jerusalem" is where it happened, not who it was aimed at
        if actor_code is None or u.head.code != actor_code:
            return u
    return None


def pick_location(places: list[Mention], state_units: list[Unit], s: str, trig_start: int,
                  trig_end: int, after_only: bool, exclude_codes: set[str | None],
                  within: int | None = None, from_ok: bool = False
                  ) -> tuple[str | None, str | None, int | None]:
    """(name, country, position) of the most specific place behind a preposition."""
    cands = [p for p in places if _PREP_BEFORE.search(s[:p.start]) or p.start == trig_end + 1
             or (p.end <= trig_start and len(s[p.end:trig_start].split()) <= 2)]
    # "killed 1,200 and took 250 hostages into Gaza": a place of a second, coordinated verb phrase
    cands = [p for p in cands if p.start < trig_end or not _SECOND_VERB.search(s, trig_end, p.start)]
    # "test fired a missile, able to carry a warhead deep inside China": a reach, not where it happened
    cands = [p for p in cands if p.start < trig_end or not _REACH.search(s, trig_end, p.start)]
    state_units = [u for u in state_units if u.start < trig_end or not _REACH.search(s, trig_end, u.start)]
    if after_only:
        cands = [p for p in cands if p.start >= trig_end]
    if within is not None:
        cands = [p for p in places if p.start >= trig_end and len(s[trig_end:p.start].split()) <= within
                 and not re.search(r"\b(?:by|with|after|during|and|from)\b", s[trig_end:p.start])]
    named = _NAMED_PLACE.search(s, trig_start if not after_only else trig_end)
    if named and within is not None and len(s[trig_end:named.start("name")].split()) > within + 3:
        named = None
    if named and any(p.start == named.start("name") for p in places):
        named = None  # the gazetteer knows it: use its spelling and country
    region = _compass_region(state_units, s, trig_end, after_only, within)
    if region is not None and (not cands or abs(region[2] - trig_end) < min(abs(p.start - trig_end) for p in cands)):
        return region  # "attacks on southern Israel ... into Gaza": the nearer place
    if cands:
        best = min(cands, key=lambda p: (p.start < trig_end, abs(p.start - trig_end)))
        named_first = named and (trig_end <= named.start("name") < best.start
                                 or best.end <= named.start("name") and named.start() <= best.end + 1)
        if not named_first:  # "the West Bank city of Tulkarm": the city is the more specific place
            return best.canonical, best.country, best.start
    if named:
        country = next((u.head.code for u in state_units if named.start() <= u.start < named.start("name")),
                       None) or (cands[0].country if cands else None)
        return named.group("name"), country, named.start("name")
    for u in state_units:
        m = u.head
        if m.kind not in ("capital", "state") or (
                m.code in exclude_codes and not re.search(r"\b(?:in|inside|within)\s+(?:the\s+)?$", s[:u.start])):
            continue  # "sent troops to Russia": the host; "forces in Lebanon": also where they are
        if after_only and u.start < trig_end:
            continue
        if within is not None and (u.start < trig_end or len(s[trig_end:u.start].split()) > within
                                   or re.search(r"\b(?:by|with|after|during|and|from)\b", s[trig_end:u.start])):
            continue
        if within is not None and m.kind in ("state", "capital"):
            return m.text, m.code, u.start
        if from_ok and re.search(r"\bfrom\s+(?:the\s+)?(?:\w+\s+)?$", s[:u.start]) and u.start >= trig_end:
            return m.text, m.code, u.start
        prefix = s[:u.start]
        if m.kind == "capital" and (_LOCATIVE_PREFIX.search(prefix) or _PREP_BEFORE.search(prefix)
                                    and not re.search(r"\b(?:to|from|on|of)\s+$", prefix)):
            return m.text, m.code, u.start
        compass = _COMPASS_BEFORE.search(prefix)
        if m.kind == "state" and re.search(r"\b(?:in|inside|across|over)\s+(?:the\s+)?(?:(?:north|south|east|west|central)"
                                           r"(?:ern|east|west|eastern|western)?\s+)?$", prefix, re.I) \
                and s[u.end:u.end + 2] != "'s":
            if compass:  # "in southern Lebanon": the region as written is more specific than the country
                return compass.group(1) + " " + m.text, m.code, compass.start(1)
            return m.text, m.code, u.start
    return None, None, None


def _compass_region(state_units: list[Unit], s: str, trig_end: int, after_only: bool,
                    within: int | None) -> tuple[str, str | None, int] | None:
    """ "on southern Israel", "in north-western Syria": a part of a country, as written."""
    for u in state_units:
        if u.head.kind != "state" or s[u.end:u.end + 2] == "'s" or after_only and u.start < trig_end:
            continue
        compass = _COMPASS_BEFORE.search(s[:u.start])
        if compass is None or not re.search(r"\b(?:in|inside|across|over|on|into|to|toward|towards|at|near|of|"
                                            r"from|throughout)\s+(?:the\s+)?$", s[:compass.start()], re.I):
            continue
        if within is not None and (u.start < trig_end or len(s[trig_end:u.start].split()) > within + 1):
            continue
        return compass.group(1) + " " + u.head.text, u.head.code, compass.start(1)
    return None


_INSIDE_COUNT = re.compile(r"\b(?:including|among\s+(?:them|whom|those)|of\s+(?:whom|them))\s+"
                           r"(?:at\s+least\s+|about\s+|some\s+|nearly\s+|around\s+)?\Z", re.I)
_ABBREV = re.compile(r"(?:[A-Z]\.){1,3}")  # "U.S.", "U.N.", "N." inside a noun phrase


def _noun_end(q: Quantity, hint: QuantityHint, noun_rx: re.Pattern[str] | None, s: str,
              trig_start: int, trig_end: int) -> int:
    """End of the counted noun that makes ``q`` fit ``hint``, or -1."""
    if hint.unit == "tons":
        if q.glued in ("ton", "tonne"):
            return q.end
        m = re.match(r"\s*(?:metric\s+)?(?:tons?|tonnes?)\b", s[q.end:], re.I)
        return q.end + m.end() if m else -1
    if q.glued in ("ton", "tonne"):
        return -1
    if noun_rx is not None:
        words = list(re.finditer(r"\S+", s[q.end:]))
        for k in range(min(hint.max_gap, len(words)) + 1):
            prev = words[k - 1].group(0) if k > 0 else ""
            if prev and re.search(r"[.;:,)]$", prev) and not _ABBREV.fullmatch(prev):
                break  # the count's phrase ended -- but "800 U.S. soldiers" goes on
            rest = s[q.end:][words[k].start():] if k < len(words) else ""
            nm = noun_rx.match(rest)
            if nm:
                return q.end + words[k].start() + nm.end()
    if hint.bare_near_trigger:
        if q.end <= trig_start and _BARE_BEFORE.fullmatch(s[q.end:trig_start]):
            return q.end
        if q.start >= trig_end and _BARE_AFTER.fullmatch(s[trig_end:q.start]):
            return q.end
    return -1


def pick_quantity(quants: list[Quantity], hints: list[QuantityHint], nouns: tuple, s: str,
                  trig_start: int, trig_end: int) -> tuple[Quantity | None, QuantityHint | None, int]:
    """Nearest count fitting the first hint that fits any count; returns its noun end too."""
    usable = [q for q in quants if not re.match(
        r"\s+of\s+(?:the|its|their|our|his|her)\s+(?:worst|biggest|largest|deadliest|most|first|main|few|many|"
        r"best|\w+est)\b", s[q.end:])]
    # "nine Palestinians, among them two journalists, were killed": a count inside another is no count
    inner = [q for q in usable if _INSIDE_COUNT.search(s, 0, q.start)]
    if inner and len(inner) < len(usable):
        usable = [q for q in usable if q not in inner]
    passive = re.search(r"\b(?:were|was|been|be|are|is)\s+(?:\w+ly\s+)?$", s[:trig_start], re.I)
    for hint, noun_rx in zip(hints, nouns):
        best: tuple[int, Quantity, int] | None = None
        for q in usable:
            end = _noun_end(q, hint, noun_rx, s, trig_start, trig_end)
            if end < 0:
                continue
            dist = trig_start - q.end if q.end <= trig_start else max(0, q.start - trig_end)
            if q.end <= trig_start and passive:
                dist -= 1000  # "seven civilians were killed and 30 wounded": the count before wins
            if best is None or dist < best[0]:
                best = (dist, q, end)
        if best is not None:
            return best[1], hint, best[2]
    return None, None, -1


def pick_weapon(weapons: list[Mention], trig_start: int, trig_end: int
                ) -> tuple[str | None, str | None]:
    """(class, proper name): nearest class word after the trigger, else before."""
    if not weapons:
        return None, None
    after = [w for w in weapons if w.start >= trig_start]
    before = [w for w in weapons if w.start < trig_start]  # incl. "hydrogen [bomb test]"
    ordered = after + list(reversed(before))
    name = next((w.text for w in ordered if w.kind == "name"), None)
    cls = next((w.canonical for w in ordered if w.kind == "class"), None)
    name_cls = next((w.canonical for w in ordered if w.kind == "name"), None)
    if name_cls and cls in GENERIC_CLASSES:
        cls = name_cls  # "S-400 missile systems": the name is more specific than "missile"
    if cls is None:
        cls = next((w.canonical for w in ordered if w.kind == "name"), None)
    return cls, name
