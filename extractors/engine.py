"""``extract``: text -> events, a pure function over a compiled RuleSet.

Per sentence: find mentions once, then for every rule trigger decide whether
it is an event (vetoes), fill slots, set status from attribution, and finally
merge mentions of one happening within the document.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from typing import Any

from extractors.compiler import CompiledRule, RuleSet
from extractors.context import claimant, disputed, find_attributions, governing, in_relative_clause, is_planned, veto
from extractors.datepick import modifies_other_noun, pick_date
from extractors.dates import DateExpr, as_date, dateline_date, find_dates
from extractors.discourse import Discourse, elaborate
from extractors.doers import NON_STATE, PARTY_GAP, STATE_GROUP, actor_units, victim_state
from extractors.mentions import Mention, find_actors, find_places, find_weapons
from extractors.merge import drop_test_launches_as_attacks, inherit_from_attack, merge_events, target_condemned_attack
from extractors.model import Event
from extractors.prefilter import trigger_hits
from extractors.quantities import Quantity, find_quantities
from extractors.slots import (
    Unit,
    group_units,
    outside,
    pick_location,
    pick_quantity,
    pick_target,
    pick_weapon,
    resolve_pronoun,
)
from extractors.text import Sentence, headline_end, normalize, proper_name_trigger, split_sentences

MAX_TEXT = 2_000_000
MAX_HITS_PER_SENTENCE = 24


class Analysis:
    """Everything found once per sentence and shared by all rules.

    Everything is computed on first use: sentences without a trigger cost only
    the trigger scan, unless a later pronoun or "they said" looks back at them.
    """

    def __init__(self, sent: Sentence, rs: RuleSet, pub: dt.date | None) -> None:
        self.sent, self._rs, self._pub = sent, rs, pub
        self.later: list[Sentence] = []  # the next few sentences, where a running quote may close

    @cached_property
    def quote_speaker(self) -> tuple[str | None, str] | None:
        """'"We condemn .... We call on ...," X said': the speaker of a quote that runs past this sentence."""
        if not self.sent.norm.lstrip().startswith('"') or self.sent.norm.count('"') % 2 == 0:
            return None
        nxt = next((x for x in self.later if '"' in x.norm), None)
        an = Analysis(nxt, self._rs, self._pub) if nxt is not None else None
        at = an and next((a for a in an.attrs if a.mode == "trail" and a.src_start > nxt.norm.find('"')), None)
        if not at:
            return None
        units = [u for u in an.units if at.src_start <= u.start < at.src_end and (u.head.code or u.head.kind in ("org", "intl"))]
        return (units[-1].head.code, nxt.text[at.src_start:at.src_end]) if units else (None, nxt.text[at.src_start:at.src_end])

    @cached_property
    def attrs(self) -> list:
        return find_attributions(self.sent.norm, self._rs.cues)

    @cached_property
    def units(self) -> list[Unit]:
        return group_units(find_actors(self.sent.norm, self._rs), self.sent.norm)

    @cached_property
    def speaker_spans(self) -> list[tuple[int, int]]:
        return [(a.src_start, a.src_end) for a in self.attrs]

    @cached_property
    def places(self) -> list[Mention]:
        return find_places(self.sent.norm, self._rs)

    @cached_property
    def weapons(self) -> list[Mention]:
        return find_weapons(self.sent.norm, self._rs)

    @cached_property
    def quants(self) -> list:
        return find_quantities(self.sent.norm)

    @cached_property
    def dates(self) -> list[DateExpr]:
        return find_dates(self.sent.norm, self._pub)

    @cached_property
    def speech_ends(self) -> list[int]:
        return [m.end() for m in self._rs.cues.speech.finditer(self.sent.norm)]


def _analyse(sent: Sentence, rs: RuleSet, pub: dt.date | None) -> Analysis:
    return Analysis(sent, rs, pub)


def _near(patterns: tuple, s: str, start: int, end: int, window: int | None) -> bool:
    if window is None:
        return any(p.search(s) for p in patterns)
    lo, hi = max(0, start - window), min(len(s), end + window)
    return any(p.search(s, lo, hi) for p in patterns)


_BACKGROUND = re.compile(r"\b(?:(?:\w+\s+)?(?:days?|weeks?|months?|years?)\s+after|after|following|in\s+the\s+wake\s+of|"
                         r"in\s+retaliation\s+for)\s+(?!(?:he|she|they|it|we)\b)", re.I)


_FUTURE_SUBORD = re.compile(r"\b(?:will|'ll|would|plans?\s+to|is\s+to|are\s+to)\s+[^,;.]*?\b(?:after|once|when|until|as\s+soon\s+as)"
                            r"\s+(?:\w+\s+){1,4}$", re.I)


def _status(rule: CompiledRule, an: Analysis, ts: int, te: int, rs: RuleSet,
            discourse: Discourse) -> tuple[str, str | None, Any]:
    s = an.sent.norm
    at = governing(an.attrs, ts, te, s)
    attributed = None
    status = "asserted"
    if at is not None and (rule.type == "casualties" and at.mode != "lead"
                           or re.search(r"\b(?:which|that|who)\s+$", s[:at.src_start])
                           or not in_relative_clause(s, ts, rs.cues)):
        # a count in a relative clause is the news itself: ", Zelenskyy said" covers "an attack that
        # killed two"; a pact "that he and Putin signed" stays presupposed background
        src = at.source
        if re.fullmatch(r"(?i)they|he|she|it", src):
            src = discourse.last_source() or src
        attributed = an.sent.text[at.src_start:at.src_end] if src == at.source else src
        status = "denied" if at.denial else "reported"
        bg = None
        for bg in _BACKGROUND.finditer(s, 0, ts):
            pass
        if not at.denial and bg is not None and bg.start() > 0 and not re.search(r"[,;:]", s[bg.end():ts]) \
                and (at.mode != "lead" or at.verb_end <= bg.start()):
            # "Italy announced ... one day after a Serbian jet shot down a helicopter": the source
            # vouches for its own news; the happening it is dated against is background, stated as fact
            status, attributed = "asserted", None
    if status == "asserted" and (re.search(r"\b(?:believed|thought|said|reported|alleged|understood|rumou?red)\s+to\s+"
                                           r"(?:have\s+(?:been\s+)?)?$", s[max(0, ts - 40):ts])
                                 or re.search(r"\b(?:believed|thought|alleged|rumou?red)\s+to\b", s[ts:te])):
        status = "reported"  # "200 personnel are believed to remain": hedged, someone unnamed says so
    if status in ("asserted", "reported") and disputed(an.attrs, te, s):
        status = "claimed"  # "Russia said it took Robotyne, but Ukraine denied it": one side's disputed claim
    if status not in ("denied", "claimed") and is_planned(s, ts, rs.cues):
        status = "planned"
    elif status != "denied" and (fut := _FUTURE_SUBORD.search(s[max(0, ts - 160):ts])) is not None \
            and not re.match(r"\w+(?:ed|ew|ent|ook|ought)\b", s[ts:te]):
        status = "planned"  # "will keep its base after American troops leave Syria": a future happening
    return status, attributed, at


def _events_for_trigger(rule: CompiledRule, an: Analysis, ts: int, te: int, rs: RuleSet,
                        pub: dt.date | None, discourse: Discourse) -> list[dict[str, Any]]:
    s, sent = an.sent.norm, an.sent
    sl = rule.slots
    q, hint, noun_end = pick_quantity(an.quants, sl.quantity, rule.quantity_nouns, s, ts, te)
    if q is None and sl.default_quantity is not None and sl.quantity:  # "X was assassinated": one person
        q, hint, noun_end = Quantity(ts, ts, sl.default_quantity, "exact", None), sl.quantity[0], -1
    actors = actor_units(rule, an, ts, te, (q.start, noun_end) if q else None)
    status, attributed, at = _status(rule, an, ts, te, rs, discourse)
    resolved: list[tuple[str | None, str | None, Unit | None]] = []
    for u in actors:
        if u.head.kind == "pronoun":
            code, name = resolve_pronoun(u, an.units, discourse)
            if name is None:
                continue
            resolved.append((code, name, u))
        elif u.head.kind == "demonym" and rule.type != "casualties" and NON_STATE.search(s, u.start, u.end):
            resolved.append((None, sent.text[u.start:u.end], u))  # "Syrian rebels": not the state
        elif u.head.kind == "state" and rule.type != "casualties" and (g := STATE_GROUP.match(s, u.end)):
            resolved.append((None, sent.text[u.start:g.end()], u))  # headline "Syria rebels seize town"
        else:
            resolved.append((u.head.code, sent.text[u.head.start:u.head.end] if u.head.kind == "person"
                             else sent.text[u.start:u.end] if u.head.kind != "demonym"
                             else sent.text[u.head.start:u.head.end], u))
    lead = claimant(an.attrs, at, ts)  # "Russia claims capture of X, Kyiv denies": the claimer, not the denier
    if lead is not None and not resolved and sl.actor != "victim" and sl.actor_within is None \
            and (re.match(r"(?i)announc|confirm|report|unveil|disclos|reveal|claim", s[lead.verb_start:lead.verb_end])
                 or re.match(r"\s+(?:that\s+)?(?:it|they|its|their|the\s+(?:country|North|South)(?:'s)?)\s",
                             s[lead.verb_end:ts])):  # "NATO says it will deploy"; "state media say the country's navy"
        inside = [u for u in an.units if lead.src_start <= u.start < lead.src_end
                  and (u.head.kind in ("state", "capital", "org", "person") and u.head.code
                       or u.head.kind in ("group", "intl"))]
        if inside:
            best = inside[-1]  # the head of "Somalia's al-Shabab militants" is the last name
            resolved.append((best.head.code, sent.text[best.start:best.end], best))
    if not resolved and at is not None and at.mode == "trail" and re.search(
            r"[\"\u201c\u2018']\s*(?:we|i)\s+(?:\w+ly\s+|also\s+)?$", s[:ts], re.I):  # '"We condemn ...," X said'
        inside = [u for u in an.units if at.src_start <= u.start < at.src_end
                  and (u.head.code or u.head.kind in ("group", "intl"))]
        if inside:
            resolved.append((inside[-1].head.code, sent.text[inside[-1].start:inside[-1].end], None))
    if not resolved and rule.type == "condemnation" and an.quote_speaker is not None \
            and re.fullmatch(r"\s*\"\s*(?:we|i)\s+(?:\w+ly\s+|also\s+)?", s[:ts], re.I):
        resolved.append((*an.quote_speaker, None))  # the quote closes a sentence or two later: '," X said'
    if rule.type == "condemnation" and re.match(r"\w+ing\b", s[ts:te]) and re.search(r",\s*$", s[:ts]):
        subj = [u for u in an.units if u.start < ts and (u.head.code or u.head.kind in ("group", "intl"))]
        if subj:  # "Hoxha, Albania's foreign minister, reported that ..., denouncing it": the speaker condemns
            resolved = [(subj[0].head.code, sent.text[subj[0].start:subj[0].end], None)]
    if not resolved and rule.type.startswith("weapons_"):  # "HII christened the U.S. Navy's destroyer": the owner
        owner = [u for u in an.units if te <= u.start <= te + 14 and u.head.code
                 and re.match(r"['\u2019]s\b", s[u.end:u.end + 3])]
        if owner:
            resolved.append((owner[0].head.code, sent.text[owner[0].start:owner[0].end], owner[0]))
    if not resolved and rule.type.startswith("weapons_") and (svc := discourse.service_state(s)) is not None:
        resolved.append((svc.code, svc.text, None))
    if at is not None and at.denial and not resolved and sl.denier == "actor":
        inside = [u for u in an.units if at.src_start <= u.start < at.src_end]
        if inside:
            resolved.append((inside[0].head.code, inside[0].head.text, inside[0]))
    if rule.type == "attack" and resolved:
        victim = victim_state(an.units, s, None)
        if victim is not None:  # "three US servicemen were killed by an IED": the victims did not do it
            resolved = [r for r in resolved if r[2] is None or r[2].start != victim.start] or [(None, None, None)]
    if sl.require_actor and not resolved:
        return []
    if not resolved:
        resolved = [(None, None, None)]
    limit = min([a.src_start for a in an.attrs if a.mode == "trail" and a.src_start >= te] + [len(s)])
    out = []
    for code, name, unit in resolved:
        target = target_name = None
        if sl.actor == "parties":
            before = [u for u in outside(an.units, an.speaker_spans) if u.end <= ts]
            if unit is not None and len(before) >= 2 and before[-1] is unit:
                prev = before[-2]
                if re.fullmatch(PARTY_GAP, s[prev.end:unit.start]):
                    pcode, pname = (resolve_pronoun(prev, an.units, discourse) if prev.head.kind == "pronoun"
                                    else (prev.head.code, prev.head.text))
                    if pname is not None:
                        code, name, target, target_name = pcode, pname, code, name
        tu = None
        if target is None and sl.target != "none":
            mode = sl.target
            if unit is not None and unit.start >= te and sl.actor == "before" and not re.match(r"\s+of\b", s[te:]):
                mode = "before"  # passive "X was condemned by Y": the target stands before
            if mode == "before":
                cands = [u for u in outside(an.units, an.speaker_spans) if u.end <= ts and u is not unit]
                tu = cands[-1] if cands else None
            else:
                tu = pick_target(outside(an.units, an.speaker_spans), te, s,
                                 "after" if mode == "after" else mode, code, limit)
            if tu is not None and tu.head.kind != "pronoun":
                target, target_name = tu.head.code, sent.text[tu.head.start:tu.head.end]
        if sl.distinct_parties and target is not None and target == code:
            continue
        if at is not None and at.denial and sl.denier == "target" and target is None:
            inside = [u for u in an.units if at.src_start <= u.start < at.src_end and u.head.code]
            if inside:
                target, target_name = inside[0].head.code, inside[0].head.text
        if sl.require_target and target_name is None:
            continue
        ev_status, ev_attributed = status, attributed
        if rule.type == "condemnation" and status == "reported" and at is not None and (
                unit is None or at.src_start <= unit.start < at.src_end or unit.head.kind == "pronoun"
                or code is not None and code in {u.head.code for u in an.units if at.src_start <= u.start < at.src_end}):
            ev_status, ev_attributed = "asserted", None  # "Russia's ministry said it viewed ... as": saying it is the act
        if status == "denied" and at is not None:
            deniers = {u.head.code for u in an.units if at.src_start <= u.start < at.src_end and u.head.code}
            if deniers and code not in deniers:
                ev_status = "claimed"  # X denies what Y is said to have done: a disputed claim
        loc, loc_country, loc_pos = pick_location(  # not in a source phrase, not a weapon's name ("Khorramshahr")
            [p for p in an.places if not any(a <= p.start < b for a, b in an.speaker_spans)
             and not any(w.kind == "name" and w.start <= p.start < w.end for w in an.weapons)],
            outside(an.units, an.speaker_spans), s, ts, te, sl.location_after_trigger,
            {target} if rule.type in ("military_deployment", "arms_transfer") else set(),
            within=sl.location_within, from_ok=sl.direction == "withdraw")
        if loc is None and rule.type == "territorial_control" and sl.actor == "after":
            whole = [u for u in outside(an.units, an.speaker_spans) if u.end <= ts and u.head.kind == "state"
                     and u.head.code and u.head.code != code and ts - u.end <= 120
                     and s[u.end:u.end + 2] not in ("'s", "\u2019s")]  # "Ukraine's grain was seized": not the state
            if whole:  # "Austria ..., having been annexed by Hitler's Germany": the state itself was taken
                loc, loc_country = whole[-1].head.text, whole[-1].head.code
                if target is None and sl.target == "none":
                    target, target_name = loc_country, loc
        if not sl.location:
            loc = loc_country = None
        elif loc is None:
            loc, loc_country = discourse.carried_place(rule.type, s, bool(an.places))
            if rule.type == "attack" and loc_country and code and loc_country == code and target not in (None, code):
                loc = loc_country = None  # "Ukrainian attacks on Russian territory" after a Kyiv story: not Kyiv
        if rule.type == "attack" and (target is None or tu is not None and re.match(
                r"\s+(?:city|town|village|province|region|capital|port|border|territory)\b", s[tu.end:])):
            victim = victim_state(an.units, s, code)  # "... outside the Iraqi city of Basra": a place, not the target
            if victim is not None:  # "wounded two British soldiers": the state whose people were hit
                target, target_name = victim.head.code, sent.text[victim.start:victim.end]
        doer_place = loc_pos is not None and loc_pos < ts and len(s[loc_pos:ts].split()) <= 2 \
            and re.search(r"\b(?:in|from|inside)\s+(?:the\s+)?$", s[:loc_pos]) is not None  # "a tank in Israel fired"
        if doer_place and rule.type == "attack" and loc_pos is not None and \
                re.match(r"\s*(?:\w+ly\s+)?$", s[loc_pos + len(loc or ""):ts]) is not None:
            loc = loc_country = None  # where the shooter stood, not the place that was hit
        if (rule.type == "attack" or sl.direction == "withdraw") and target is None and loc_country \
                and loc_country != code and not doer_place:  # "air raids on Susangerd": the state whose ground was hit;
            target = loc_country  # "troops leave Syria": the host they leave
        if sl.require_location and loc is None:
            continue
        if sl.require_quantity and q is None:
            continue
        wclass = wname = None
        if sl.weapon != "none":
            wclass, wname = pick_weapon(an.weapons, ts, te)
            if sl.weapon == "required" and wclass is None:
                continue
        date = pick_date(an, ts, te) if sl.date else None
        other_date = sl.date and date is None and any(modifies_other_noun(s, d, ts, te) for d in an.dates)
        if not (name or target_name or loc or q or wname and sl.weapon == "required"
                or sl.date_anchors and date is not None and date.date is not None):
            continue  # nothing anchors it: a bare trigger word is not a happening (a named weapon is)
        conf = rule.confidence + (0.1 if code else -0.1) + (0.05 if q else 0.0)
        out.append({
            "type": rule.type, "actor": code, "actor_name": name, "target": target,
            "target_name": target_name, "location": loc,
            "location_country": loc_country, "quantity": q.value if q else None,
            "unit": hint.unit if q and hint else None, "quantity_qualifier": q.qualifier if q else None,
            "weapon_class": wclass, "weapon_name": wname,
            "direction": sl.direction if rule.type == "military_deployment" else None,
            "date": date.date.isoformat() if date and date.date else None,
            "date_precision": date.precision if date and date.date else None,
            "status": ev_status, "attributed_to": ev_attributed, "sentence": sent.text,
            "char_start": sent.start, "char_end": sent.end, "rule_id": rule.id,
            "confidence": round(max(0.05, min(0.99, conf)), 3), "rule_version": rule.version,
            "_other_date": other_date,  # merge-only: the sentence's date names another happening
            "_country_place": loc is not None and loc_country is not None and any(  # merge-only: "in Ivory Coast"
                u.head.kind == "state" and u.head.code == loc_country and u.head.text == loc for u in an.units),
        })
    if rule.type == "military_deployment":
        for e in out:
            e["direction"] = e["direction"] or "deploy"
    return out


def _extract(text: str, published: Any, rs: RuleSet) -> list[Event]:
    if not text or not text.strip():
        return []
    text = text[:MAX_TEXT]
    pub = as_date(published)
    norm = normalize(text)
    pub = dateline_date(norm, pub) or pub
    raw: list[dict[str, Any]] = []
    history: list[Analysis] = []
    discourse = Discourse(history)
    sentences = split_sentences(text, norm)
    starts = [x.start for x in sentences]
    hits = trigger_hits(rs, norm, starts, [x.end for x in sentences], MAX_HITS_PER_SENTENCE)
    for i, sent in enumerate(sentences):
        an = _analyse(sent, rs, pub)
        an.later = sentences[i + 1:i + 4]
        s = sent.norm
        for rule, ts, te in hits.get(i, ()):
            if proper_name_trigger(s, ts):
                continue
            if rule.requires and not _near(rule.requires, s, ts, te, rule.requires_window):
                continue
            if rule.exclude and _near(rule.exclude, s, ts, te, rule.exclude_window):
                continue
            why = veto(s, ts, te, rs.cues)
            if why in ("negation", "conditional", "capability", "wish"):
                continue
            if why and (why == "generic" or not in_relative_clause(s, ts, rs.cues)):
                continue
            raw.extend(_events_for_trigger(rule, an, ts, te, rs, pub, discourse))
        history.append(an)
    head_end = headline_end(text)
    for e in raw:
        if e["char_end"] <= head_end:
            e["_headline"] = True
    inherit_from_attack(raw)
    target_condemned_attack(raw)
    elaborate(raw, history, starts)
    merged = drop_test_launches_as_attacks(merge_events(raw))
    for e in merged:
        e.pop("_other_date", None)
        e.pop("_country_place", None)
        e.pop("_headline", None)
    return [Event.model_validate(e) for e in merged]


def extract(text: str, published: dt.date | None, ruleset: RuleSet, title: str | None = None
            ) -> list[Event]:
    """Events of one article; deterministic and never raises (returns [] at worst).

    ``title`` is accepted for the contract but not mined: every event's evidence
    must be a span of ``text`` (char_start/char_end), and a title is not part of it.
    """
    try:
        return _extract(text if isinstance(text, str) else str(text or ""), published, ruleset)
    except Exception:  # noqa: BLE001 -- the contract: never raise on any text
        return []
