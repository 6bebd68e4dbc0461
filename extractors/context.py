"""Who says so, and does the sentence really assert the happening?

Attribution ("X said ...", "..., X reported", "according to X") gives
``status: reported`` and ``attributed_to``; denials give ``denied``; modal and
future cues give ``planned``.  Negation, conditionals, capabilities, threats and
generic statements veto the trigger entirely (the contract's "not events").
A trigger inside a relative clause ("a pact that he and Putin signed",
"Putin, who launched ...") is presupposed background, hence ``asserted``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.compiler import Cues

_AUX_TAIL = re.compile(r"(?:\s+(?:have|has|had|also|have also|has also|previously|earlier|were|was|is|are|"
                       r"would|will|had earlier|on \w+day|separately|repeatedly|again))+\s*$", re.I)
_LEAD_DATE = re.compile(r"^(?:(?:On|In|At|Last|Earlier|Later|Meanwhile|But|And|However|Separately)\b[^,]*,\s*)+")
_CLAUSE_BREAK = re.compile(r"[;:\"(]|\bthat\b|\bwhile\b|\bbut\b|\bafter\b|\bbefore\b|\bwhen\b|"
                           r"\bbecause\b|\s[-\u2014]\s|\u2014|,\s+(?=[a-z])")
_WORD = re.compile(r"[\w'.-]+")


@dataclass(frozen=True)
class Attribution:
    """A source phrase and the speech verb that makes it a source."""

    src_start: int
    src_end: int
    verb_start: int
    verb_end: int
    source: str
    mode: str  # lead | trail | according
    denial: bool


def _clean_src(s: str, start: int, end: int) -> tuple[int, int]:
    seg = s[start:end]
    m = _AUX_TAIL.search(seg)
    if m:
        end = start + m.start()
        seg = s[start:end]
    m = _LEAD_DATE.match(seg)
    if m:
        start += m.end()
    while start < end and s[start] in " ,\"'":
        start += 1
    while end > start and s[end - 1] in " ,\"'":
        end -= 1
    return start, end


_SOURCE_NOUN = re.compile(r"\b(?:officials?|sources?|witnesses|residents|police|spokes(?:man|woman|person)|"
                          r"ministry|military|army|agency|media|diplomats?|analysts?|experts?|officers?|"
                          r"observers?|medics|doctors|report|statement|authorities|commanders?|TV|television|radio|broadcaster|"
                          r"news\s+agency|newspaper|daily|governor|mayor|minister|president|monitor|activists|"
                          r"rescuers|health\s+workers|prosecutors?|envoy|army\s+chief|general)\b", re.I)
_SUBORD = re.compile(r"(?i)^(?:if|when|while|as|because|although|though|unless|whether|once|after|before|"
                     r"since|until|what|how|why|where|who|which)\b")


_REL_SOURCE = re.compile(r"(?i)(?:which|that|who)\s+((?:the\s+)?[A-Z][\w'.-]*(?:\s+[\w'.-]+){0,4})$")


_BARE_TRAIL = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|today|yesterday|tonight)\s+"
                         r"(?P<src>(?:[\w'-]+\s+){0,5}?[\w'-]+)\s*$")
_SENT_END = re.compile(r"\s*(?:on\s+\w+day|\w+day|today)?\s*[.!\"'\u201d]*\s*$")


def find_attributions(s: str, cues: Cues) -> list[Attribution]:
    """All source phrases of a sentence (offsets relative to the sentence)."""
    out = []
    for a in _find_attributions(s, cues):
        rel = _REL_SOURCE.match(a.source)
        if rel and a.mode == "lead":  # "the attacks, which Israeli figures say killed 1,200": the figures say so
            a = Attribution(a.src_start + rel.start(1), a.src_end, a.verb_start, a.verb_end, rel.group(1),
                            a.mode, a.denial)
        if not _SUBORD.match(a.source):
            out.append(a)
    return out


def _find_attributions(s: str, cues: Cues) -> list[Attribution]:
    out: list[Attribution] = []
    for m in re.finditer(r"\b(?i:according\s+to)\s+(?P<src>[^,;\"]+?)(?=\s*[,;\"]|\.\s*$|\.\s+[A-Z]|$)", s):
        a, b = _clean_src(s, m.start("src"), m.end("src"))
        if b > a:
            out.append(Attribution(a, b, m.start(), m.start("src"), s[a:b], "according", False))
    for vm in cues.speech.finditer(s):
        verb = vm.group(0).lower()
        denial = bool(cues.denial.fullmatch(verb))
        before = s[:vm.start()]
        # trailing: ", <src> said" -- source between the last comma and the verb
        comma = before.rfind(",")
        quote = before.rfind('"')
        trail_ok = comma >= 0 and (comma > quote - 1 or quote == comma + 1) and (len(before) - comma) < 90  # '...," X said'
        if trail_ok:
            a, b = _clean_src(s, comma + 1, vm.start())
            words = _WORD.findall(s[a:b])
            if 0 < len(words) <= 9 and not cues.speech.search(s[a:b]) and (
                    s[a:b][:1].isupper() or _SOURCE_NOUN.search(s[a:b])
                    or s[a:b].lower().startswith(("the ", "a ", "an ", "its ", "his ", "her ", "their "))):
                if len(_WORD.findall(s[:comma])) > 3:
                    out.append(Attribution(a, b, vm.start(), vm.end(), s[a:b], "trail", denial))
                    continue
        # wire copy without the comma: "... in southern Lebanon Sunday sources on both sides said."
        bare = _BARE_TRAIL.search(before) if _SENT_END.match(s, vm.end()) else None
        if bare and _SOURCE_NOUN.search(bare.group("src")) and len(_WORD.findall(s[:bare.start("src")])) > 3:
            out.append(Attribution(bare.start("src"), bare.end("src"), vm.start(), vm.end(), bare.group("src"),
                                   "trail", denial))
            continue
        # leading: "<src> said (that) ..." -- source back to the previous clause break
        start = 0
        for bm in _CLAUSE_BREAK.finditer(before):
            start = bm.end()
        a, b = _clean_src(s, start, vm.start())
        words = _WORD.findall(s[a:b])
        if re.search(r"\bwhat\s+\S+\s*$", s[a:b], re.I):
            continue  # "unveiled what it says is ...": a hedge inside the clause, not its source
        if re.match(r"\s+(?:on\s+\w+\s+|last\s+\w+\s+|\w+day\s+)?by\b", s[vm.end():]):
            continue  # "the move announced on Monday by Pompeo": a participle, not a speech act
        if 0 < len(words) <= 10:
            out.append(Attribution(a, b, vm.start(), vm.end(), s[a:b], "lead", denial))
    return out


def governing(attrs: list[Attribution], trig_start: int, trig_end: int, s: str) -> Attribution | None:
    """The attribution that covers a trigger, if any (denials first)."""
    best: Attribution | None = None
    for at in attrs:
        covers = False
        if at.mode == "according":
            covers = True
        elif at.mode == "lead" and at.verb_end <= trig_start:
            covers = True
        elif at.mode == "trail" and at.src_start >= trig_end:
            covers = True
        if covers and (best is None or at.denial or (best.mode != "lead" and at.mode == "lead")):
            best = at
    return best


def claimant(attrs: list[Attribution], at: Attribution | None, trig_start: int) -> Attribution | None:
    """The leading source that makes the claim ("Russia claims ..."), even when a denial governs.

    In "Russia claims capture of X, Kyiv denies" the denial covers the trigger, but the doer
    is the claimer; the denier only disputes it.
    """
    if at is None:
        return None
    if not at.denial:
        return at if at.mode == "lead" else None
    leads = [a for a in attrs if a.mode == "lead" and not a.denial and a.verb_end <= trig_start]
    return leads[-1] if leads else None


_DISPUTE_END = re.compile(r"\s*(?:it|this|that|the\s+(?:claims?|reports?)|(?:the\s+)?(?:any\s+)?such\s+claims?)?\s*(?:[.;]|$)",
                          re.I)


def disputed(attrs: list[Attribution], trig_end: int, s: str) -> bool:
    """A denial after the trigger that disputes it: "..., but Ukraine denied it", "...; Kyiv denies"."""
    return any(a.denial and a.verb_start >= trig_end and _DISPUTE_END.match(s, a.verb_end) for a in attrs)


def _words_before(s: str, pos: int, n: int) -> str:
    """The last ``n`` words before ``pos``, not crossing a clause break."""
    seg = s[:pos]
    cut = max(seg.rfind(","), seg.rfind(";"), seg.rfind(":"), seg.rfind("\u2014"), seg.rfind(" - "))
    seg = seg[cut + 1:]
    words = seg.split()
    return " ".join(words[-n:])


def clause_before(s: str, pos: int) -> str:
    """Text from the last clause break (comma etc.) up to ``pos``."""
    seg = s[:pos]
    cut = max(seg.rfind(","), seg.rfind(";"), seg.rfind(":"), seg.rfind("\u2014"), seg.rfind(" - "))
    return seg[cut + 1:]


def in_relative_clause(s: str, trig_start: int, cues: Cues) -> bool:
    """Trigger inside "... <noun> that/which/who ... <trigger>" (presupposed)."""
    before = s[:trig_start]
    words = list(re.finditer(r"[\w'-]+|[,;\u2014]", before))[-9:]
    for i in range(len(words) - 1, -1, -1):
        w = words[i].group(0)
        if w in (",", ";") and i < len(words) - 1:
            return False
        if w.lower() in ("who", "which", "that", "whom"):
            prev = " ".join(x.group(0) for x in words[max(0, i - 4):i])
            if w.lower() == "that" and (cues.speech.search(prev + " that") or re.search(
                    r"\b(?:so|such|believe|believes|know|knows|shows?|showed|means|clear|fact|evidence|"
                    r"report|reports|claims?|suggest\w*|indicat\w*|warn\w*|fear\w*|hope\w*|ensure\w*|"
                    r"deny|denied|denies|confirm\w*|admit\w*|announc\w*|insist\w*)\s*$", prev, re.I)):
                return False
            return i > 0 and words[i - 1].group(0) not in (",", ";") or w.lower() in ("who", "which")
    return False


# "The Americans wanted to raid a base", "eager to withdraw": a wish, neither a happening nor a plan
_WISH = re.compile(r"(?i)\b(?:want(?:s|ed)?|wish(?:es|ed)?|hop(?:e|es|ed|ing)|eager|keen|would\s+like|desir(?:e|es|ed))\s+"
                   r"to\s+(?:\w+ly\s+)?$")


def veto(s: str, trig_start: int, trig_end: int, cues: Cues) -> str | None:
    """Why this trigger is not an event (negation, conditional, ...), or None."""
    near = _words_before(s, trig_start, 4)
    clause = clause_before(s, trig_start)
    if cues.negator.search(near):
        return "negation"
    if cues.conditional.search(clause):
        return "conditional"
    if cues.capability.search(_words_before(s, trig_start, 5)):
        return "capability"
    if cues.threat.search(_words_before(s, trig_start, 7)):
        return "threat"
    if cues.generic.search(clause) or cues.generic.search(s, trig_end, trig_end + 40):
        return "generic"
    if _WISH.search(s, max(0, trig_start - 40), trig_start):
        return "wish"
    after = s[trig_end:trig_end + 60]
    after_clause = re.split(r"[,;:.]", after, maxsplit=1)[0]
    if re.search(r"\b(?:if|unless)\b", after_clause, re.I):
        return "conditional"
    if re.search(r"\bhow\s+many\b", clause, re.I):
        return "question"
    return None


# what may stand between a future cue and the trigger it governs: "will soon be deployed",
# "plans to quickly send", "the planned deployment"; a noun between ("agreed to a ceasefire after
# fighting") means the cue governs something else
_PLANNED_GAP = re.compile(r"(?i)\s*(?:(?:be|been|have|also|soon|then|now|further|again|not|the|a|an|its|their|"
                          r"first|new|more|additional|resume|start|begin|launch|conduct|carry\s+out|\w+ly)(?:\s+|$))*$")
# "continued to send", "believed to remain", "said to have": an infinitive that is not a plan
_NOT_PLAN_TO = re.compile(r"(?i)\b(?:continu\w*|believed|thought|said|known|reported|understood|appear\w*|"
                          r"seem\w*|used|began|begun|begin|start\w*|managed|helped|tried|went\s+on|failed|"
                          r"ordered|forced|allowed|able|moved|rushed|sought|appears|proceeded)\s+to\s*$")


def is_planned(s: str, trig_start: int, cues: Cues) -> bool:
    """A future or intention cue that governs the trigger itself ("will deploy", "plans to send")."""
    window = _words_before(s, trig_start, 4)
    for m in cues.planned.finditer(window):
        if not _PLANNED_GAP.fullmatch(window[m.end():]):
            continue
        if _NOT_PLAN_TO.search(window[:m.end()]):
            continue
        return True
    return False
