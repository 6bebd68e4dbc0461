"""Find actor, place and weapon mentions in one sentence.

Multi-pattern matching with the Aho-Corasick automata compiled into the
RuleSet, then whole-word and leftmost-longest filtering so "North Korean"
never also yields "Korea" and "Niger" never fires inside "Nigeria".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.compiler import ActorRef, PlaceRef, RuleSet

PRONOUNS = re.compile(r"(?<![\w-])(he|she|it|they|He|She|It|They|(?:[Ii]ts|[Tt]heir)\s+(?:own\s+)?(?:forces|troops|army|"
                      r"military|navy|soldiers|warplanes|jets|drones|fighters|units|militants))(?![\w'-])")


@dataclass(frozen=True)
class Mention:
    """A span of the sentence (offsets relative to the sentence)."""

    start: int
    end: int
    text: str
    code: str | None
    kind: str
    canonical: str
    country: str | None = None  # places: the country the place is in


def _boundary_ok(s: str, start: int, end: int) -> bool:
    before = s[start - 1] if start > 0 else " "
    after = s[end] if end < len(s) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


def _longest(hits: list[tuple[int, int, object]]) -> list[tuple[int, int, object]]:
    """Leftmost-longest non-overlapping selection."""
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    out: list[tuple[int, int, object]] = []
    last_end = -1
    for h in hits:
        if h[0] >= last_end:
            out.append(h)
            last_end = h[1]
    return out


def _compass_prefix(s: str, start: int, end: int) -> bool:
    """ "the North" inside "the North Korean ..." is not a mention of its own."""
    return s[end - 5:end] in ("North", "South") and re.match(r" [A-Z]", s[end:end + 2]) is not None


def _scan(auto: object, s: str) -> list[tuple[int, int, object]]:
    hits = []
    for end_idx, (key, value) in auto.iter(s):  # type: ignore[attr-defined]
        start = end_idx - len(key) + 1
        if _boundary_ok(s, start, end_idx + 1) and not _compass_prefix(s, start, end_idx + 1):
            hits.append((start, end_idx + 1, value))
    return _longest(hits)


_ORG_PHRASE = re.compile(
    r"\s+((?:[A-Z][a-z]+|of|for|and|the)(?:\s+(?:[A-Z][a-z]+|of|for|and|the))*)"
)


def _expand_actor(s: str, start: int, end: int, ref: ActorRef, rs: RuleSet) -> tuple[int, int]:
    """Grow a demonym/state mention over the noun it modifies.

    "North Korean" + "soldiers" -> "North Korean soldiers"; "South Korean" +
    "Ministry of National Defense" -> "The South Korean Ministry of National
    Defense" (with a leading "The", which belongs to an institution's name).
    """
    if ref.kind not in ("demonym", "state"):
        return start, end
    rest = s[end:]
    if ref.kind == "state":
        if not rest.startswith("'s "):
            return start, end
        m = _ORG_PHRASE.match(rest[2:])
        if m and rs.cues.org_head.search(m.group(1)) and m.group(1)[0].isupper():
            return start, end + 2 + _trim_org(m)
        return start, end
    m = re.match(r"\s+", rest)
    tail = rest[m.end():] if m else ""
    fm = rs.cues.force_noun.match(tail)
    if m and fm:
        return start, end + m.end() + fm.end()
    om = _ORG_PHRASE.match(rest)
    if om and om.group(1)[0].isupper() and rs.cues.org_head.search(om.group(1)):
        new_start = start
        if start >= 4 and s[start - 4:start].lower() == "the ":
            new_start = start - 4
        return new_start, end + _trim_org(om)
    return start, end


def _trim_org(m: re.Match[str]) -> int:
    """Length of an org phrase match without trailing function words."""
    words = m.group(0)
    while True:
        stripped = re.sub(r"\s+(?:of|for|and|the)$", "", words)
        if stripped == words:
            return len(words)
        words = stripped


def find_actors(s: str, rs: RuleSet) -> list[Mention]:
    """Actors (states, people, orgs, groups) plus bare pronouns, in order."""
    out: list[Mention] = []
    for start, end, ref in _scan(rs.actors, s):
        assert isinstance(ref, ActorRef)
        if ref.kind == "demonym" and s[end:end + 1] == "-" and not s[end:end + 5] == "-led ":
            continue
        if start > 0 and s[start - 1] == "-":
            continue  # "anti-Syria", "pro-Russia" do not name a doer
        if re.search(r"(?:North|South|East|West)$", s[start:end]) and re.match(r" [A-Z]", s[end:end + 2]):
            continue  # "the North" inside "the North Korean ..."  # "Russian-made", "Ukrainian-controlled" do not name a doer
        st, en = _expand_actor(s, start, end, ref, rs)
        out.append(Mention(st, en, s[st:en], ref.code, ref.kind, ref.canonical))
    out = [m for m in out if not any(o is not m and o.start <= m.start and m.end <= o.end
                                     and (o.end - o.start) > (m.end - m.start) for o in out)]
    taken = [(m.start, m.end) for m in out]
    for pm in PRONOUNS.finditer(s):
        if not any(a <= pm.start() < b for a, b in taken):
            word = pm.group(0).split()[0].lower()
            canonical = {"its": "it", "their": "they"}.get(word, word)
            out.append(Mention(pm.start(), pm.end(), pm.group(0), None, "pronoun", canonical))
    out.sort(key=lambda m: m.start)
    return out


def _maximal(hits: list[tuple[int, int, object]]) -> list[tuple[int, int, object]]:
    """Drop a hit overlapped by a longer one ("the Gulf" inside "the Gulf of Aden")."""
    return [h for h in hits if not any(g[0] < h[1] and h[0] < g[1] and g[1] - g[0] > h[1] - h[0] for g in hits)]


def find_places(s: str, rs: RuleSet) -> list[Mention]:
    out = []
    raw = [(end_idx - len(key) + 1, end_idx + 1, value) for end_idx, (key, value) in rs.places.iter(s)]  # type: ignore[attr-defined]
    raw = [h for h in raw if _boundary_ok(s, h[0], h[1]) and not _compass_prefix(s, h[0], h[1])]
    for start, end, ref in _longest(_maximal(raw)) if len(raw) > 1 else raw:
        assert isinstance(ref, PlaceRef)
        surface = s[start:end]
        out.append(Mention(start, end, surface, None, "place", ref.name or surface, ref.country))
    return out


def find_weapons(s: str, rs: RuleSet) -> list[Mention]:
    """Weapon class words (case-insensitive) and proper names (Hwasong-19...)."""
    hits: list[tuple[int, int, object]] = []
    if rs.weapon_names is not None:
        for m in rs.weapon_names.finditer(s):
            group = m.lastgroup or "w0"
            cls = rs.weapon_name_classes[int(group[1:])]
            hits.append((m.start(), m.end(), ("name", cls)))
    for start, end, cls in _scan(rs.weapons, s.lower()):
        hits.append((start, end, ("class", cls)))
    out = []
    for start, end, (kind, cls) in _longest(hits):  # type: ignore[misc]
        out.append(Mention(start, end, s[start:end], None, kind, str(cls)))
    return out
