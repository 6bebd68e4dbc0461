"""One happening, one event: merge repeated mentions within a document.

Two candidate events are the same happening when they have the same type and
no key slot disagrees (a missing slot agrees with anything).  The first
evidence is kept; slots missing there are filled from later mentions; a
happening that one source reports and another denies becomes ``claimed``.
"""

from __future__ import annotations

import re
from typing import Any

GENERIC_CLASSES = {"missile", "small_arms", "aircraft", "warship", "artillery"}
KEY_SLOTS = ("actor", "target", "quantity", "unit", "location", "weapon_class", "direction")
FILL_SLOTS = ("actor", "actor_name", "target", "target_name", "location", "location_country",
              "quantity", "unit", "quantity_qualifier", "weapon_class", "weapon_name", "date",
              "date_precision")


def _party(e: dict[str, Any], code: str, name: str) -> str | None:
    """Identity of a party: its state code, else its name (groups, UN...), else unknown."""
    if e.get(code):
        return str(e[code])
    if e.get(name) and not str(e[name]).lower().startswith(("he ", "she ", "it ", "they ")):
        return "name:" + str(e[name]).lower()
    return None


SYMMETRIC = ("agreement",)  # "Russia, China sign pact" ... "China and Russia signed": one accord


def _compatible(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["type"] != b["type"]:
        return False
    if a["type"] in SYMMETRIC and _party(a, "actor", "actor_name") == _party(b, "target", "target_name") \
            and _party(a, "target", "target_name") == _party(b, "actor", "actor_name") is not None:
        b = {**b, "actor": a.get("actor"), "actor_name": a.get("actor_name"),
             "target": a.get("target"), "target_name": a.get("target_name")}
    for k in KEY_SLOTS:
        if k in ("actor", "target"):
            va, vb = _party(a, k, f"{k}_name"), _party(b, k, f"{k}_name")
        else:
            va, vb = a.get(k), b.get(k)
        if va is not None and vb is not None and va != vb:
            if k == "location" and str(va).lower() == str(vb).lower():
                continue
            if k == "location" and a.get("location_country") and a.get("location_country") == b.get("location_country") \
                    and (a.get("_country_place") or b.get("_country_place")):
                continue  # "in Ivory Coast" ... "the northern town of Bouake": the town is in that country
            if k == "location" and (a.get("_headline") or b.get("_headline")) and _same_country(a, b):
                continue  # headline "in north Gaza town" ... lead "the town of Beit Lahiya": one strike
            if k == "weapon_class" and (va in GENERIC_CLASSES or vb in GENERIC_CLASSES):
                continue  # "a ballistic missile" ... "the missile": same weapon, said twice
            return False
    actor, target = a.get("actor") or b.get("actor"), a.get("target") or b.get("target")
    if actor is not None and actor == target:
        return False  # the merged event would have a state acting on itself
    for x, y in ((a, b), (b, a)):
        if x.get("date") and not y.get("date") and all(x.get(k) is None for k in (*KEY_SLOTS, "actor_name")):
            return False  # "the September 11, 2001 attacks", known only by its date, is not the Taliban's shoot-down
    return not _dates_differ(a, b)


def _same_country(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Both places in one country, or one of them a named place the gazetteer does not know."""
    ca, cb = a.get("location_country"), b.get("location_country")
    return (ca is not None or cb is not None) and (ca is None or cb is None or ca == cb)


_PREC_LEN = {"day": 10, "month": 7, "season": 7, "year": 4}


def _dates_differ(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two dated mentions on different days/months/years are two happenings ("a previous test on
    December 10, 2010" is not Tuesday's test).  Compared at the coarser of the two precisions."""
    da, db = a.get("date"), b.get("date")
    if a.get("_other_date") and db or b.get("_other_date") and da:
        return True  # "invaded ... in the wake of the September 11, 2001 attacks": the date is the attacks'
    if not da or not db:
        return False
    n = min(_PREC_LEN.get(a.get("date_precision") or "day", 10), _PREC_LEN.get(b.get("date_precision") or "day", 10))
    return str(da)[:n] != str(db)[:n]


def _merge_into(keep: dict[str, Any], other: dict[str, Any]) -> None:
    if keep.get("_country_place") and other.get("location") and not other.get("_country_place") \
            and keep.get("location_country") == other.get("location_country"):
        keep["location"], keep["_country_place"] = other["location"], False  # the more specific place
    elif keep.get("_headline") and not other.get("_headline") and other.get("location") \
            and _same_country(keep, other):
        keep["location"] = other["location"]  # the lead names the place more precisely than its headline
        keep["location_country"] = other.get("location_country") or keep.get("location_country")
    for k in FILL_SLOTS:
        if k in ("actor", "target") and keep.get(f"{k}_name"):
            continue  # a named non-state party stays as named
        if keep.get(k) is None and other.get(k) is not None:
            if k in ("actor_name", "target_name", "location_country", "quantity_qualifier", "unit",
                     "date_precision", "weapon_name"):
                continue  # filled together with their key slot below
            keep[k] = other[k]
            pair = {"actor": "actor_name", "target": "target_name", "location": "location_country",
                    "quantity": ("unit", "quantity_qualifier"), "date": "date_precision",
                    "weapon_class": "weapon_name"}.get(k)
            for p in (pair if isinstance(pair, tuple) else (pair,) if pair else ()):
                if keep.get(p) is None:
                    keep[p] = other.get(p)
    if keep.get("date") and other.get("date") and _PREC_LEN.get(other.get("date_precision") or "", 0) > \
            _PREC_LEN.get(keep.get("date_precision") or "", 0):  # "in October" ... "the Oct. 13 attack": the day
        keep["date"], keep["date_precision"] = other["date"], other["date_precision"]
    if keep.get("weapon_class") in GENERIC_CLASSES and other.get("weapon_class") not in (None, *GENERIC_CLASSES):
        keep["weapon_class"] = other["weapon_class"]
    statuses = {keep["status"], other["status"]}
    if statuses & {"denied", "claimed"} and len(statuses) > 1:
        keep["status"] = "claimed"
        if other.get("attributed_to") and keep.get("attributed_to") and \
                other["attributed_to"] not in keep["attributed_to"] and other["status"] not in ("denied", "claimed"):
            keep["attributed_to"] = f"{keep['attributed_to']}; {other['attributed_to']}"
    keep["confidence"] = max(keep["confidence"], other["confidence"])


def merge_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge compatible events in document order (first evidence wins)."""
    out: list[dict[str, Any]] = []
    for e in events:
        for kept in out:
            if _compatible(kept, e):
                _merge_into(kept, e)
                break
        else:
            out.append(dict(e))
    return out


_ANAPHORIC = re.compile(r"\b(?:in|during|by|from)\s+(?:the|that|this)\s+(?:\w+\s+)?(?:attack|strike|blast|bombing|"
                        r"explosion|shelling|raid|assault)\b"
                        # "The first shell killed Abdallah": the weapon of the attack just told
                        r"|^\s*(?:The|That|This)\s+(?:first|second|third|last|same|\w+-?\w*)?\s*(?:shell|strike|missile|"
                        r"rocket|drone|bomb|blast|explosion|attack)\s+(?:\w+ly\s+)?(?:killed|wounded|injured|hit)\b", re.I)


def drop_test_launches_as_attacks(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """"North Korea fired a ballistic missile into the sea": a test, not also an attack on nobody."""
    tests = {(e["char_start"], e["actor"]) for e in events if e["type"] == "weapons_test"}
    return [e for e in events if not (e["type"] == "attack" and e["target"] is None and e.get("target_name") is None
                                      and (e["char_start"], e["actor"]) in tests)]


def inherit_from_attack(raw: list[dict[str, Any]]) -> None:
    """"42 people were wounded in the attack": the casualties share the last attack's place and day."""
    last: dict[str, Any] | None = None
    for e in raw:
        if e["type"] == "attack":
            last = e
        elif e["type"] == "casualties" and last is not None and _ANAPHORIC.search(e["sentence"]):
            if e["location"] is None and last.get("location"):
                e["location"], e["location_country"] = last["location"], last["location_country"]
            if e["date"] is None and last.get("date"):
                e["date"], e["date_precision"] = last["date"], last["date_precision"]


_CONDEMNED_ATTACK = re.compile(r"(?i)\b(?:denounc|condemn|critici[sz]|deplor|decr[iy])\w*"
                               r"(?:\s*,?\s*in\s+the\s+strongest\s+(?:possible\s+)?terms\s*,?)?\s+(?:it|them|the\s+(?:\w+\s+)?"
                               r"(?:attacks?|strikes?|assault|bombing|shelling|raids?|invasion))\b")


_ANAPHORIC_ACTION = re.compile(r"(?i)\b(?:the|this|that|its|any|such\s+a)\s+(?:[\w-]+\s+)?(?:decision|move|step|policy|"
                                r"announcement|shift|measure)\b")


def target_condemned_attack(raw: list[dict[str, Any]]) -> None:
    """"..., denouncing it as unacceptable" after an attack story: the condemned party is that attack's doer."""
    last: dict[str, Any] | None = None
    for e in raw:
        if e["type"] == "attack" and e.get("actor"):
            last = e
        elif e["type"] == "condemnation" and e["target"] is None and e.get("target_name") is None \
                and last is not None and last["actor"] != e.get("actor") and _CONDEMNED_ATTACK.search(e["sentence"]):
            e["target"], e["target_name"] = last["actor"], last.get("actor_name")
    prev: dict[str, Any] | None = None
    for e in raw:  # "... stressed the decision would not change ...": the decision condemned a sentence earlier
        if e["type"] != "condemnation":
            continue
        if e["target"] is None and e.get("target_name") is None and prev is not None \
                and prev["target"] != e.get("actor") and _ANAPHORIC_ACTION.search(e["sentence"]):
            e["target"], e["target_name"] = prev["target"], prev.get("target_name")
        elif e["target"] is not None:
            prev = e

