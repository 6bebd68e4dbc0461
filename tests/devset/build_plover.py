"""Build the PLOVER part of the development set, reproducibly.

Reads ``../shared/data/corpora/plover-gsr/PLOVER_GSR_CAMEO.json`` (322 wire
sentences labelled with PLOVER event types), maps the PLOVER labels to Muster's
event types where they correspond (rules below; rationale in README.md), then
applies the hand review in ``plover_overrides.yaml`` (an entry replaces the
mapped events of that document).  Writes ``plover.in.jsonl`` (``muster extract``
input) and ``plover.gold.jsonl`` next to this file.

    .venv/bin/python tests/devset/build_plover.py            # (re)write the files
    .venv/bin/python tests/devset/build_plover.py --check    # fail if they are stale
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pycountry
import yaml
from extractors.model import Event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from devset_io import check_flag, dump, write_or_check  # noqa: E402  (sibling module)

HERE = Path(__file__).resolve().parent
SOURCE = (
    HERE.parents[1] / ".." / "shared" / "data" / "corpora" / "plover-gsr" / "PLOVER_GSR_CAMEO.json"
)
OVERRIDES = HERE / "plover_overrides.yaml"
OUT_IN = HERE / "plover.in.jsonl"
OUT_GOLD = HERE / "plover.gold.jsonl"

# Gold carries every contract field of the event model except the extractor's own
# provenance; derived, so a field added to the model cannot be silently left out here.
GOLD_FIELDS = tuple(
    f for f in Event.model_fields if f not in {"rule_id", "confidence", "rule_version"}
)
# PLOVER's non-ISO country codes, and its codes that are not states at all.
CODE_FIXES = {"JAP": "JPN", "ITL": "ITA", "VTN": "VNM"}
NON_STATE = {"IGO", "NGO", "IMG", "ISM", ""}
SPECIAL_STATES = {"PSE", "SUN"}  # spec: Palestine, the Soviet Union
# PLOVER sectors that are organs of a state; others (REB rebels, UAF unidentified armed forces,
# CVL civilians, OPP opposition, ...) are not, so their events get actor null (spec).
STATE_SECTORS = {"", "GOV", "MIL", "COP", "LEG", "JUD", "SPY"}

SIGNED_ACCORD = re.compile(
    r"\bsign\w*\b.*\b(treaty|agreement|pact|accord|memorandum)|"
    r"\b(treaty|agreement|pact|accord|memorandum)\b.*\bsign",
    re.IGNORECASE,
)
ACCORD_WORDS = re.compile(
    r"\b(treaty|pact|accord|cease-?fire|truce|memorandum|agreement|deal)\b", re.IGNORECASE
)
DEPLOY_WORDS = re.compile(
    r"\b(deploy\w*|sen[dt]|strengthen\w*|reinforc\w*|arriv\w*)\b", re.IGNORECASE
)
CONDEMN_WORDS = re.compile(
    r"\b(denounc\w*|condemn\w*|deplor\w*|decr(y|ied)|critici[sz]\w*|protest\w*|complain\w*)\b",
    re.IGNORECASE,
)


def iso3(code: str | None) -> str | None:
    """PLOVER actor code -> ISO 3166-1 alpha-3 of a state, or None for non-states."""
    if not code or code.upper() in NON_STATE:
        return None
    code = CODE_FIXES.get(code.upper(), code.upper())
    if code in SPECIAL_STATES or pycountry.countries.get(alpha_3=code):
        return code
    raise ValueError(f"unknown PLOVER actor code {code!r}")


def actors(field: object) -> list[tuple[str | None, str]]:
    """[(iso3 or None, actor text)] of a PLOVER source/target field; non-state sectors -> None."""
    if not isinstance(field, list):
        return []
    out = []
    for a in field:
        code = iso3(a.get("code"))
        if (a.get("sector") or "")[:3] not in STATE_SECTORS:
            code = None
        out.append((code, a.get("actorText", "").strip()))
    return out


def count(value: object) -> int | None:
    """A PLOVER dead/injured/size value as an integer, if it is one."""
    try:
        return int(str(value).replace(",", ""))
    except ValueError:
        return None


def auto_events(rec: dict) -> list[dict]:
    """Events obtained from the PLOVER label alone (the documented mapping rules)."""
    kind, text = rec["event"], rec["text"]
    sources, targets = actors(rec.get("source")), actors(rec.get("target"))
    state_targets = [t for t in targets if t[0]]
    target = state_targets[0] if state_targets else (None, None)
    location = (rec.get("eventLoc") or {}).get("name")
    events: list[dict] = []
    if kind in ("ASSAULT", "FIGHT"):
        doers = [s for s in sources if s[0]] or [(None, sources[0][1] if sources else None)]
        for code, name in doers:  # spec: joint doers make one event per state
            events.append(
                {
                    "type": "attack",
                    "actor": code,
                    "actor_name": name,
                    "target": target[0],
                    "target_name": target[1],
                    "location": location,
                }
            )
        for key, unit in (("dead", "killed"), ("injured", "injured")):
            if count(rec.get(key)) is not None:
                events.append(
                    {
                        "type": "casualties",
                        "quantity": count(rec[key]),
                        "unit": unit,
                        "quantity_qualifier": "exact",
                        "location": location,
                    }
                )
    elif ACCORD_WORDS.search(text) and (kind == "AGREE" or SIGNED_ACCORD.search(text)):
        parties = [a for a in sources + targets if a[0]]
        if len({p[0] for p in parties}) >= 2:  # an agreement needs two state parties
            events.append(
                {
                    "type": "agreement",
                    "actor": parties[0][0],
                    "actor_name": parties[0][1],
                    "target": parties[1][0],
                    "target_name": parties[1][1],
                }
            )
    elif kind == "MOBILIZE" and rec.get("mode") == "troops" and DEPLOY_WORDS.search(text):
        for code, name in sources:
            events.append(
                {
                    "type": "military_deployment",
                    "actor": code,
                    "actor_name": name,
                    "target": target[0],
                    "target_name": target[1],
                    "direction": "deploy",
                }
            )
    elif kind == "DISAPPROVE" and CONDEMN_WORDS.search(text) and target[0]:
        for code, name in sources:
            events.append(
                {
                    "type": "condemnation",
                    "actor": code,
                    "actor_name": name,
                    "target": target[0],
                    "target_name": target[1],
                }
            )
    return events


def complete(event: dict, text: str) -> dict:
    """A full gold event: every contract field, defaults filled, evidence = the sentence."""
    unknown = set(event) - set(GOLD_FIELDS)
    if unknown:
        raise ValueError(f"unknown event fields {sorted(unknown)} in {event}")
    full = {field: event.get(field) for field in GOLD_FIELDS}
    full["status"] = full["status"] or "asserted"
    if full["type"] == "military_deployment" and full["direction"] is None:
        full["direction"] = "deploy"
    full.update(sentence=text, char_start=0, char_end=len(text))
    return full


def clean_text(text: str) -> str:
    """Undo PLOVER's markup leftovers: outer braces, escaped dollars, stray spaces."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    return text.replace("\\$", "$")


def build() -> tuple[list[dict], list[dict], dict[str, int]]:
    """(input records, gold records, statistics) of the PLOVER dev set."""
    records = json.loads(SOURCE.read_text(encoding="utf-8"))
    overrides = yaml.safe_load(OVERRIDES.read_text(encoding="utf-8")) or {}
    docs: dict[str, dict] = {}
    by_text: dict[str, str] = {}
    for rec in records:
        if rec["event"] == "DOCUMENT":
            continue
        text = clean_text(rec["text"])
        if text in by_text:  # the same sentence coded twice: one document, both labels kept
            doc = docs[by_text[text]]
            doc["plover"].append({"id": rec["id"], "event": rec["event"]})
            doc["auto"] += auto_events(rec)
            continue
        doc_id = "plover-" + rec["id"].removeprefix("PLOVER-GSR01-").lower()
        while doc_id in docs:  # PLOVER reuses an id (COERCE-0004) for two sentences
            doc_id += "b"
        by_text[text] = doc_id
        docs[doc_id] = {
            "text": text,
            "plover": [{"id": rec["id"], "event": rec["event"]}],
            "auto": auto_events(rec),
        }
    stale = sorted(set(overrides) - set(docs))
    if stale:
        raise SystemExit(f"{OVERRIDES.name}: no such document(s): {stale}")
    inputs, golds = [], []
    stats = {"documents": len(docs), "auto_with_events": 0, "overridden": 0, "override_changed": 0}
    for doc_id, doc in docs.items():
        auto = [complete(e, doc["text"]) for e in doc["auto"]]
        stats["auto_with_events"] += bool(auto)
        if doc_id in overrides:
            entry = overrides[doc_id]
            if not isinstance(entry, dict) or "note" not in entry or "events" not in entry:
                raise SystemExit(f"{OVERRIDES.name}: {doc_id} needs 'note' and 'events'")
            events = [complete(e, doc["text"]) for e in entry["events"]]
            stats["overridden"] += 1
            stats["override_changed"] += events != auto
        else:
            events = auto
        inputs.append({"doc_id": doc_id, "text": doc["text"], "published": None, "title": None})
        golds.append(
            {
                "doc_id": doc_id,
                "events": events,
                "source": {
                    "corpus": "PLOVER GSR (CC BY-SA 4.0)",
                    "plover": doc["plover"],
                    "reviewed": doc_id in overrides,
                },
            }
        )
    return inputs, golds, stats


def main() -> int:
    check = check_flag(__doc__)
    inputs, golds, stats = build()
    n_events = sum(len(g["events"]) for g in golds)
    summary = (
        f"{stats['documents']} documents, {n_events} gold events; automatic mapping gave events "
        f"for {stats['auto_with_events']}; {stats['overridden']} reviewed by hand, "
        f"{stats['override_changed']} of them changed"
    )
    return write_or_check({OUT_IN: dump(inputs), OUT_GOLD: dump(golds)}, check, __file__, summary)


if __name__ == "__main__":
    sys.exit(main())
