"""Which date expression of a sentence dates a trigger.

Split from the engine: the nearest date wins, except a date that names the
report ("said Monday", a dateline), another noun phrase's happening ("in the
wake of the September 11, 2001 attacks") or a relative clause's own verb ("a
pact that he and Putin signed in June 2024").
"""

from __future__ import annotations

import re
from typing import Any

from extractors.dates import DateExpr

_DATELINE = re.compile(r"\s*[A-Z][A-Za-z .'/-]{1,40},\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:,?\s+\d{4})?\s*(?:\([^)]{1,30}\))?\s*(?:--|[-\u2013\u2014:])")


def pick_date(an: Any, trig_start: int, trig_end: int) -> DateExpr | None:
    """Nearest date expression that is not the date of a speech act ("said Monday")."""
    s = an.sent.norm
    cands = []
    for d in an.dates:
        tied_to_speech = any(
            0 <= d.start - e <= 35 and not re.search(r"\bthat\b|,", s[e:d.start]) for e in an.speech_ends
        ) or re.match(r"\s*,?\s*(?:said|reported|told|announced|confirmed)\b", s[d.end:d.end + 14])
        if tied_to_speech or d.start < 40 and _DATELINE.match(s) and _DATELINE.match(s).end() >= d.end:
            continue  # "SEOUL, Sept. 8 (Yonhap) --" dates the report, not the event
        if modifies_other_noun(s, d, trig_start, trig_end):
            continue  # "invaded ... in the wake of the September 11, 2001 attacks": the attacks' date
        if trig_end <= d.start and _REL_CLAUSE.search(s, trig_end, d.start):
            continue  # "the deployment under a pact that he and Putin signed in June 2024": the pact's date
        dist = trig_start - d.end if d.end <= trig_start else d.start - trig_end
        cands.append((max(dist, 0), d))
    if not cands:
        return None
    return min(cands, key=lambda c: c[0])[1]


_REL_CLAUSE = re.compile(r"\b[a-z]+\s+(?:that|which)\s+(?!(?:is|was|are|were|has|had|have)\b)(?:\w+\s+){1,5}?\w+(?:ed|ew|ent|ook|ought|igned)\b")


def modifies_other_noun(s: str, d: DateExpr, trig_start: int, trig_end: int) -> bool:
    """A date inside another noun phrase ("the September 11, 2001 attacks", "the 1988 bombing").

    Such a date names that phrase's happening; it dates the trigger only when
    the trigger is the phrase's head.
    """
    if trig_start < d.end and d.start < trig_end or not re.search(
            r"\b(?:the|a|an|its|their|his|her|this|that|last)\s+$", s[max(0, d.start - 7):d.start], re.I):
        return False  # the trigger spans the date ("the Oct. 7 attacks"), or no determiner before it
    if not re.match(r"\s+[A-Za-z]", s[d.end:d.end + 2]):
        return False  # "the September 11, 2001, attacks" or a date at a clause end: not a pre-modifier
    # only a trigger *before* the phrase is another happening ("invaded ... in the wake of the
    # September 11, 2001 attacks"); one after it ("the Oct. 7 attacks, which killed 1,200") refers back
    return trig_end <= d.start
