"""Who did it: the doer units standing before (or after) a trigger.

Split from the engine so each stays small; pure functions over one sentence's
actor units.  Why the filters exist is said next to each one.
"""

from __future__ import annotations

import re
from typing import Any

from extractors.compiler import CompiledRule
from extractors.slots import Unit, coordinated, outside

MAX_ACTOR_GAP = 150  # chars between a doer and its trigger; farther names belong to other clauses


def actor_units(rule: CompiledRule, an: Any, ts: int, te: int, qnoun: tuple[int, int] | None
                 ) -> list[Unit]:
    s = an.sent.norm
    side = rule.slots.actor
    cands = outside(an.units, an.speaker_spans)
    if side == "none":
        return []
    if side == "victim":
        if qnoun:
            inside = [u for u in cands if qnoun[0] <= u.start < qnoun[1] and u.head.kind != "pronoun"]
            if not inside and re.search(r"\bothers\b", s[qnoun[0]:qnoun[1]], re.I):
                # "killed one U.S. soldier and wounded two others": the others are of the same side
                inside = [u for u in cands if u.end <= qnoun[0] and qnoun[0] - u.end <= 60
                          and u.head.kind in ("demonym", "state")][-1:]
            return inside[:1]
        return []
    if side == "after":
        after = [u for u in cands if u.start >= te and u.head.kind != "pronoun"]
        if not re.search(r"\b(?:by|to|from|between)\s*$", s[ts:te], re.I):  # "a ceasefire between X and Y"
            after = [u for u in after if re.search(r"\b(?:by|from)\s+(?:\S+\s+){0,2}$", s[te:u.start], re.I)]
        # "killed by an airstrike in Tehran": a place, not the doer; nor a name after the clause ends
        after = [u for u in after if (u.head.kind not in ("capital", "state")
                                      or not _LOCATIVE.search(s, max(0, u.start - 26), u.start))
                 and not re.search(r"[,;]", s[te:u.start])]
        return after[:1]
    if rule.type == "attack":  # "a strike ..., which Moscow blamed on Kyiv": the blamed party did it
        blamed = [u for u in cands if te <= u.start <= te + 90 and u.head.kind != "pronoun"
                  and re.search(r"\b(?:blamed|pinned)\s+on\s+(?:the\s+)?$", s[max(0, u.start - 20):u.start], re.I)]
        if blamed:
            return blamed[:1]
    if side == "before" and rule.type == "military_deployment" and re.fullmatch(r"(?i)deployments?|dispatch", s[ts:te]):
        owner = [u for u in cands if te < u.start <= te + 40 and u.head.kind in ("demonym", "state") and u.head.code
                 and _OF_COUNT.fullmatch(s, te, u.start) and _FORCE_NOUN.match(s, u.start + len(u.head.canonical))]
        if owner:  # "welcomed the deployment of 2,000 US troops": whose troops they are, not who welcomed them
            return owner[:1]
    agent = [u for u in cands if te <= u.start <= te + 12 and u.head.kind != "pronoun"
             and re.fullmatch(r"\s+by\s+(?:the\s+)?", s[te:u.start], re.I)] or [
        u for u in cands if te <= u.start <= te + 60 and u.head.kind != "pronoun"  # "the capture of X by Y"
        and re.match(r"(?:capture|seizure|takeover|test(?:-firing|-launch)?|launch|deployment|shelling|bombing|"
                     r"bombardment|invasion|occupation|annexation|recapture|liberation|killing|attack|unveiling|"
                     r"delivery|sale|transfer)s?(?:\s+of)?$", s[ts:te], re.I)
        and _OF_BY.fullmatch(s, te, u.start)][:1]
    if side == "before" and agent and not re.match(r"\w+ed\b", s[ts:te]):
        return agent[:1]  # a noun and its agent: "the sixth nuclear test by North Korea"
    passive = (re.search(r"\b(?:was|were|been|being|be|is|are)\s+(?:\w+ly\s+)?$", s[:ts], re.I)
               and not re.match(r"\w+ing\b", s[ts:te])) or _HEADLINE_PASSIVE.fullmatch(s[ts:te]) \
        and re.match(r"\s+by\b", s[te:])  # headline without its auxiliary: "Kyiv hit by Russian drones"
    if passive and side == "before" and not re.search(r"\bby\s*$", s[ts:te]):
        by = [u for u in cands if u.start >= te and u.head.kind != "pronoun"
              and re.search(r"\bby\s+(?:\S+\s+){0,2}$", s[te:u.start], re.I)]
        if by or rule.slots.passive_actor == "by":
            return by[:1]
    # "5,000 American troops remain", "two Israeli air raids": the counted nationality is the doer's
    counted_ok = passive or rule.type == "military_deployment" or rule.slots.actor_within is not None
    gap = MAX_ACTOR_GAP if rule.slots.actor_within is None else rule.slots.actor_within
    if rule.type == "attack":  # "Putin denounced a drone strike": the denouncer did not strike
        cands = [u for u in cands if u.end > ts or not _REACTION.search(s, u.end, ts)]
    before = [u for u in cands if (u.end <= ts or u.start < ts < u.end) and ts - u.end <= gap and (not _quantified(s, u) or counted_ok or _subject_of(rule, s, u, ts))
              and not _LOCATIVE.search(s, max(0, u.start - 26), u.start)
              and not (re.match(r"\s+(?:border|frontier|coast|waters)\b", s[u.end:u.end + 12])  # "on the Thai border"
                       and re.search(r"\b(?:on|along|off|to)\s+(?:the\s+)?$", s[max(0, u.start - 12):u.start]))
              and not (u.head.kind == "pronoun" and re.search(r"\bwhat\s+$", s[max(0, u.start - 8):u.start], re.I))]
    # "what it called a test": that pronoun is a hedge, the doer stands further back
    asides = [(m.start(), m.end()) for m in _ASIDE.finditer(s, 0, ts)]
    if asides:  # "Finland, which borders Russia, joined NATO": the doer stands outside the aside
        before = [u for u in before if not any(a <= u.start < b for a, b in asides)] or before
    if rule.slots.actor_within is not None:  # nominal trigger: only modifiers between doer and noun
        before = [u for u in before if u.end > ts or not _NOT_MODIFIER.search(s, u.end, ts) or (
            re.search(r"\b(?:blam\w+|accus\w+|held)\s+$", s[:u.start], re.I)  # "blamed Israel for the bombing"
            and re.fullmatch(r"\s+(?:for|of)\s+(?:the\s+|an?\s+)?(?:[\w-]+\s+)?", s[u.end:ts]))]
    if not before:
        return []
    idx = an.units.index(before[-1])
    if side == "parties" or not rule.slots.coordinate:
        return [before[-1]]
    return coordinated(an.units, idx, s)


NON_STATE = re.compile(r"\b(?:rebels?|militants?|insurgents?|guerr?ill?as|gunmen|separatists?|jihadists?|militia(?:men)?|"
                        r"fighters|opposition|protesters|demonstrators|activists|extremists|terrorists|"
                        r"assailants|attackers|bombers?)$", re.I)
_OF_COUNT = re.compile(r"(?i)\s+of\s+(?:(?:some|about|around|nearly|roughly|up\s+to|more\s+than|at\s+least|an?|"
                       r"additional|more|extra|new|further|[\d,]+|\w+(?:ty|teen|dred|sand))\s+){0,4}")
_FORCE_NOUN = re.compile(r"(?i)\s*(?:[\w-]+\s+)?(?:troops|soldiers|forces|marines|warships?|jets|fighter\s+jets|personnel|"
                         r"peacekeepers|paratroopers|bombers|aircraft)\b")
# a noun, its object and its agent: "the capture of Avdiivka by", "the test-firing of a new missile by the"
_OF_BY = re.compile(r"(?i)\s+(?:of\s+)?(?:the\s+|an?\s+)?[\w.'-]+(?:\s+[\w.'-]+){0,4}?\s+by\s+(?:the\s+)?")
# "Libyan leader Muammar Gaddafi and Bulgarian ...": a title and a name may stand between the parties
PARTY_GAP = re.compile(r"(?:\s+(?:leader|President|Prime\s+Minister|Premier|King|Emir|Chancellor|Foreign\s+Minister|"
                        r"Defen[cs]e\s+Minister|officials|[A-Z][\w.'-]+)){0,4}\s*(?:,\s*and|and|,)\s*(?:the\s+)?")
_NOT_MODIFIER = re.compile(r"[,;:()\u2014]|\b(?:in|on|at|of|by|for|with|to|from|into|and|or|that|which|who|said|says|"
                           r"was|were|is|are|has|have|had|been|\w+ed|\w+ing)\b", re.I)
# headline grammar "Syria rebels seize town": a state name before a group noun is not the doer
STATE_GROUP = re.compile(r"\s+(?:rebels?|militants?|insurgents?|guerr?ill?as|gunmen|separatists?|jihadists?|"
                         r"militia(?:men)?|opposition\s+fighters|extremists|terrorists)\b", re.I)
_HEADLINE_PASSIVE = re.compile(r"(?i)(?:hit|struck|attacked|shelled|bombed|raided|targeted|pounded|"
                               r"rocked|ambushed|stormed|seized|captured|retaken|recaptured|condemned|"
                               r"denounced|critici[sz]ed)")
_REACTION = re.compile(r"\b(?:denounc|condemn|critici[sz]|deplor|decr[iy]|blam|accus|protest|complain|mourn|"
                       r"investigat|probe|survive|witness|report|warn|fear|vow|threaten|retaliat|respond)\w*", re.I)
_ASIDE = re.compile(r",\s*(?:which|who|whose|where)\b[^,;]*,")
_LOCATIVE = re.compile(r"\b(?:in|at|near|inside|outside|into|across|throughout|around)\s+(?:the\s+)?"
                       r"(?:(?:north|south|east|west|central)\w*\s+)?$", re.I)


def _subject_of(rule: CompiledRule, s: str, u: Unit, ts: int) -> bool:
    """"Two Palestinian suicide bombers killed ...": a counted nationality right before the verb is its subject."""
    return rule.type == "attack" and u.end <= ts and ts - u.end <= 30 and not _NOT_MODIFIER.search(s, u.end, ts)


def _quantified(s: str, u: Unit) -> bool:
    """A nationality right after a number ("46 Afghan civilians") names victims, not doers."""
    if u.head.kind != "demonym":
        return False
    return bool(re.search(r"(?:\b\d[\d,.]*|\b(?:two|three|four|five|six|seven|eight|nine|ten|dozens|hundreds|"
                          r"thousands|scores|several|many|one|\w+teen|\w+ty))\s+(?:of\s+the\s+)?"
                          r"(?:(?!years|days|months|weeks|after|before|ago)[a-z][\w-]*\s+){0,2}$", s[:u.start], re.I))


_VICTIM_NOUN = re.compile(r"\s+(?:[a-z-]+\s+)?(?:soldiers|troops|servicemen|service\s*members|marines|sailors|airmen|"
                          r"peacekeepers|civilians|nationals|citizens|tourists|diplomats|police(?:men)?|officers|"
                          r"personnel|journalists|reporters|aid\s+workers)\b")
_VICTIM_DET = re.compile(r"(?i)\b(?:\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|dozens?|scores|"
                         r"hundreds|several|some|an?|the|of)\s+$")


def victim_state(units: list[Unit], s: str, actor: str | None) -> Unit | None:
    """The state whose people an attack hit: "wounded two British soldiers", "three US servicemen were killed by"."""
    for u in units:
        if u.head.kind not in ("demonym", "state") or not u.head.code or u.head.code == actor:
            continue
        noun = _VICTIM_NOUN.match(s, u.end) or u.head.kind == "demonym" and _VICTIM_NOUN.match(
            s, u.start + len(u.head.canonical))  # "[British soldiers]" is one mention
        if not noun or not _VICTIM_DET.search(s[max(0, u.start - 12):u.start]):
            continue
        if re.search(r"\b(?:killed|killing|wounded|wounding|injured|injuring|shot|shooting|kidnapped|abducted)\s+"
                     r"(?:at\s+least\s+|as\s+many\s+as\s+|some\s+|about\s+)?(?:\S+\s+)?$",
                     s[max(0, u.start - 40):u.start]) or re.match(
                r"\s+(?:were|was|have\s+been|has\s+been|had\s+been)\s+(?:\w+ly\s+)?(?:killed|wounded|injured|shot)\b",
                s[noun.end():]):
            return u
    return None
