"""One happening, one event: merge repeated mentions within a document.

Two candidate events are the same happening when they have the same type and
no key slot disagrees (a missing slot agrees with anything).  The first
evidence is kept; slots missing there are filled from later mentions; a
happening that one source reports and another denies becomes ``claimed``.
"""

from __future__ import annotations

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


def _compatible(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["type"] != b["type"]:
        return False
    for k in KEY_SLOTS:
        if k in ("actor", "target"):
            va, vb = _party(a, k, f"{k}_name"), _party(b, k, f"{k}_name")
        else:
            va, vb = a.get(k), b.get(k)
        if va is not None and vb is not None and va != vb:
            if k == "location" and str(va).lower() == str(vb).lower():
                continue
            if k == "weapon_class" and (va in GENERIC_CLASSES or vb in GENERIC_CLASSES):
                continue  # "a ballistic missile" ... "the missile": same weapon, said twice
            return False
    return True


def _merge_into(keep: dict[str, Any], other: dict[str, Any]) -> None:
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
