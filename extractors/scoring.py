"""The spec's scorer: predicted events against gold events, per document.

Implements "How a scorer matches events" of ``shared/spec/events.md``.  Pure
functions over ``{"doc_id": str, "events": [event dicts]}`` records; no I/O.

Matching (within one document):

* a predicted and a gold event *can* pair when their ``type`` is equal and,
  where the gold event names an ``actor``, the actors are equal;
* among those candidate pairs an optimal assignment is chosen: first the
  number of pairs is maximised, then the number of agreeing slots (each event
  pairs at most once).  Solved exactly with the Hungarian algorithm.

Comparison of one slot (``slot_equal``):

* a gold value may be a list of acceptable values; any of them counts;
* strings compare case-insensitively with whitespace collapsed and typographic
  apostrophes/quotes straightened;
* ``location`` additionally ignores a trailing "region", "province" or
  "oblast" ("Kursk region" == "kursk");
* ``quantity`` compares as integers;
* ``date`` compares at the gold event's ``date_precision`` (inferred from the
  gold string's length when absent): ``day`` -> YYYY-MM-DD, ``month`` ->
  YYYY-MM, ``year`` -> YYYY, ``season`` -> the same meteorological season
  (Mar-May spring, Jun-Aug summer, Sep-Nov autumn, Dec-Feb winter, December
  counting towards the following year's winter).  The gold convention is to
  write a season as a date inside it (the seed writes "last fall" as
  2024-10-01); a prediction that writes the season's first month (2024-09-01)
  or any other date inside that season agrees.

Which slots are scored: every contract field except ``type`` (used for
pairing), the evidence (``sentence``, ``char_start``, ``char_end``) and the
provenance (``rule_id``, ``confidence``, and any extra fields).  A slot counts
for a pair only when the gold event fills it (not null, not an empty list).
A predicted event without ``status`` takes the contract default "asserted".

Rates with an empty denominator: precision is 1.0 when nothing is predicted,
recall is 1.0 when nothing is gold (so predicting nothing for a document with
no gold events is perfect, and F1 is 0.0 whenever exactly one side is empty).
Documents in gold but absent from the predictions count as predicting
nothing; predicted documents absent from gold are ignored and listed under
``extra_doc_ids``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

# fmt: off
SCORED_SLOTS: tuple[str, ...] = (
    "actor", "actor_name", "target", "target_name", "location", "location_country", "quantity",
    "unit", "quantity_qualifier", "weapon_class", "weapon_name", "direction", "date",
    "date_precision", "status", "attributed_to",
)
"""Slots compared between paired events (contract fields minus type/evidence/provenance)."""

KEY_SLOTS: tuple[str, ...] = (
    "actor", "target", "location", "quantity", "unit", "quantity_qualifier", "weapon_class",
    "date", "status",
)
# fmt: on
"""The slots reported first; the rest follow as secondary slots."""

_LOCATION_SUFFIX = re.compile(r"\s+(region|province|oblast)$")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_SEASONS = {12: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 2, 7: 2, 8: 2, 9: 3, 10: 3, 11: 3}


# ----------------------------------------------------------------- slot comparison
def _norm_str(value: Any) -> str:
    """Case-folded, whitespace-collapsed, quote-straightened string form."""
    return " ".join(str(value).translate(_QUOTES).split()).casefold()


def _norm_location(value: Any) -> str:
    """Normalised place name without a trailing administrative word."""
    return _LOCATION_SUFFIX.sub("", _norm_str(value)).strip()


def _as_int(value: Any) -> int | None:
    """``value`` as an int, or None when it is not a whole number."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _date_parts(value: Any) -> tuple[int, int | None, int | None] | None:
    """(year, month, day) from an ISO-like date string; missing parts are None."""
    match = re.match(r"^\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", str(value))
    if not match:
        return None
    year, month, day = match.groups()
    return int(year), int(month) if month else None, int(day) if day else None


def _infer_precision(gold_date: Any) -> str:
    """Precision implied by how much of the gold date string is written."""
    parts = _date_parts(gold_date)
    if parts is None or parts[1] is None:
        return "year"
    return "month" if parts[2] is None else "day"


def dates_equal(predicted: Any, gold: Any, precision: str | None) -> bool:
    """Whether ``predicted`` equals ``gold`` at ``precision`` (see module doc)."""
    gold_parts, pred_parts = _date_parts(gold), _date_parts(predicted)
    if gold_parts is None or pred_parts is None:
        return False
    precision = precision or _infer_precision(gold)
    if precision == "year":
        return pred_parts[0] == gold_parts[0]
    if pred_parts[1] is None or gold_parts[1] is None:
        return False
    if precision == "season":

        def season(year: int, month: int) -> tuple[int, int]:
            return (year + 1 if month == 12 else year, _SEASONS.get(month, -1))

        return season(pred_parts[0], pred_parts[1]) == season(gold_parts[0], gold_parts[1])
    if precision == "month":
        return pred_parts[:2] == gold_parts[:2]
    return pred_parts == gold_parts


def _alternatives(gold_value: Any) -> list[Any]:
    """The acceptable gold values (a list, or the single value)."""
    if isinstance(gold_value, (list, tuple)):
        return [v for v in gold_value if v is not None]
    return [] if gold_value is None else [gold_value]


def gold_fills(gold_event: dict, slot: str) -> bool:
    """Whether the gold event fills ``slot`` (a non-null value or non-empty list)."""
    return bool(_alternatives(gold_event.get(slot)))


def _predicted_value(pred_event: dict, slot: str) -> Any:
    """The predicted slot value, with the contract default for ``status``."""
    value = pred_event.get(slot)
    if slot == "status" and value is None:
        return "asserted"
    return value


def slot_equal(slot: str, predicted: Any, gold_value: Any, gold_event: dict | None = None) -> bool:
    """Whether a predicted slot value matches the gold value (or any gold alternative).

    A list-valued prediction (as when gold is scored against itself) matches
    when any of its values does.
    """
    if isinstance(predicted, (list, tuple)):
        return any(slot_equal(slot, p, gold_value, gold_event) for p in predicted)
    if predicted is None:
        return False
    for alt in _alternatives(gold_value):
        if slot == "date":
            precision = (gold_event or {}).get("date_precision")
            if isinstance(precision, (list, tuple)):
                precision = precision[0] if precision else None
            if dates_equal(predicted, alt, precision):
                return True
        elif slot == "quantity":
            if _as_int(predicted) is not None and _as_int(predicted) == _as_int(alt):
                return True
        elif slot == "location":
            if _norm_location(predicted) == _norm_location(alt):
                return True
        elif _norm_str(predicted) == _norm_str(alt):
            return True
    return False


def can_pair(pred_event: dict, gold_event: dict) -> bool:
    """Spec pairing condition: same type; same actor where the gold event names one."""
    if pred_event.get("type") != gold_event.get("type"):
        return False
    if gold_fills(gold_event, "actor"):
        return slot_equal("actor", pred_event.get("actor"), gold_event.get("actor"), gold_event)
    return True


def agreeing_slots(pred_event: dict, gold_event: dict) -> list[str]:
    """The scored slots the gold event fills and the prediction matches."""
    return [
        slot
        for slot in SCORED_SLOTS
        if gold_fills(gold_event, slot)
        and slot_equal(slot, _predicted_value(pred_event, slot), gold_event.get(slot), gold_event)
    ]


# ----------------------------------------------------------------- assignment
def _max_weight_assignment(weights: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """Maximum-weight assignment of rows to columns (Hungarian algorithm, O(n^2 m)).

    ``weights`` is a rectangular matrix; every row or every column (whichever
    are fewer) is assigned.  Returns (row, column) pairs.
    """
    rows = len(weights)
    cols = len(weights[0]) if rows else 0
    if rows == 0 or cols == 0:
        return []
    transpose = rows > cols
    if transpose:
        weights = [list(col) for col in zip(*weights)]
        rows, cols = cols, rows
    top = max(max(row) for row in weights)
    cost = [[top - w for w in row] for row in weights]  # minimise cost == maximise weight
    inf = float("inf")
    u, v = [0.0] * (rows + 1), [0.0] * (cols + 1)
    match_col = [0] * (cols + 1)  # match_col[j] = row (1-based) assigned to column j
    way = [0] * (cols + 1)
    for i in range(1, rows + 1):
        match_col[0] = i
        j0 = 0
        minv = [inf] * (cols + 1)
        used = [False] * (cols + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = match_col[j0], inf, 0
            for j in range(1, cols + 1):
                if not used[j]:
                    cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(cols + 1):
                if used[j]:
                    u[match_col[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if match_col[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match_col[j0] = match_col[j1]
            j0 = j1
    pairs = [(match_col[j] - 1, j - 1) for j in range(1, cols + 1) if match_col[j]]
    return [(c, r) for r, c in pairs] if transpose else pairs


def match_events(predicted: list[dict], gold: list[dict]) -> list[tuple[int, int]]:
    """Optimal (predicted index, gold index) pairs for one document.

    Maximises the number of pairs, then the number of agreeing slots.
    """
    if not predicted or not gold:
        return []
    bonus = len(SCORED_SLOTS) + 1  # any extra pair outweighs all slot agreement
    weights = [
        [bonus + len(agreeing_slots(p, g)) if can_pair(p, g) else 0 for g in gold]
        for p in predicted
    ]
    return sorted((p, g) for p, g in _max_weight_assignment(weights) if weights[p][g] > 0)


# ----------------------------------------------------------------- scoring
def _rates(pairs: int, n_pred: int, n_gold: int) -> dict[str, float | int]:
    """Counts plus precision, recall and F1 (conventions in the module doc)."""
    precision = pairs / n_pred if n_pred else 1.0
    recall = pairs / n_gold if n_gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "predicted": n_pred,
        "gold": n_gold,
        "pairs": pairs,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def _index(records: Iterable[dict], side: str) -> dict[str, list[dict]]:
    """doc_id -> events; TypeError for a missing doc id, ValueError for a duplicate."""
    out: dict[str, list[dict]] = {}
    for n, record in enumerate(records, 1):
        doc_id = record.get("doc_id")
        if not isinstance(doc_id, str):
            raise TypeError(f"{side} record {n} has no string doc_id")
        if doc_id in out:
            raise ValueError(f"{side} doc_id {doc_id!r} occurs more than once")
        out[doc_id] = list(record.get("events") or [])
    return out


def score(predicted: list[dict], gold: list[dict]) -> dict[str, Any]:
    """Score predicted records against gold records, as the spec says.

    Returns a dict with ``overall`` and ``per_type`` (counts, precision,
    recall, f1), ``slots`` (per slot: ``filled`` = pairs whose gold event fills
    the slot, ``correct``, ``accuracy`` or None), ``slots_per_type``,
    ``key_slots``, ``documents`` and ``details`` (per document: pairs with
    the slots that disagree, missed gold indices, spurious predicted indices).
    """
    pred_docs, gold_docs = _index(predicted, "predicted"), _index(gold, "gold")
    counts: dict[str, list[int]] = {}  # type -> [predicted, gold, pairs]
    slot_counts: dict[str, dict[str, list[int]]] = {}  # type -> slot -> [filled, correct]
    details = []
    for doc_id, gold_events in gold_docs.items():
        pred_events = pred_docs.get(doc_id, [])
        for event in pred_events:
            counts.setdefault(str(event.get("type")), [0, 0, 0])[0] += 1
        for event in gold_events:
            counts.setdefault(str(event.get("type")), [0, 0, 0])[1] += 1
        pairs = match_events(pred_events, gold_events)
        pair_details = []
        for p, g in pairs:
            gold_event = gold_events[g]
            etype = str(gold_event.get("type"))
            counts[etype][2] += 1
            agree = set(agreeing_slots(pred_events[p], gold_event))
            wrong = []
            for slot in SCORED_SLOTS:
                if gold_fills(gold_event, slot):
                    cell = slot_counts.setdefault(etype, {}).setdefault(slot, [0, 0])
                    cell[0] += 1
                    cell[1] += slot in agree
                    if slot not in agree:
                        wrong.append(slot)
            pair_details.append({"predicted": p, "gold": g, "type": etype, "wrong_slots": wrong})
        paired_p, paired_g = {p for p, _ in pairs}, {g for _, g in pairs}
        details.append(
            {
                "doc_id": doc_id,
                "pairs": pair_details,
                "missed": [g for g in range(len(gold_events)) if g not in paired_g],
                "spurious": [p for p in range(len(pred_events)) if p not in paired_p],
            }
        )

    def slot_table(cells: Iterable[dict[str, list[int]]]) -> dict[str, dict[str, Any]]:
        table = {}
        for slot in SCORED_SLOTS:
            filled = sum(c.get(slot, [0, 0])[0] for c in cells)
            correct = sum(c.get(slot, [0, 0])[1] for c in cells)
            table[slot] = {
                "filled": filled,
                "correct": correct,
                "accuracy": correct / filled if filled else None,
            }
        return table

    totals = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {
        "documents": len(gold_docs),
        "extra_doc_ids": sorted(set(pred_docs) - set(gold_docs)),
        "overall": _rates(totals[2], totals[0], totals[1]),
        "per_type": {t: _rates(c[2], c[0], c[1]) for t, c in sorted(counts.items())},
        "slots": slot_table(list(slot_counts.values())),
        "slots_per_type": {t: slot_table([cells]) for t, cells in sorted(slot_counts.items())},
        "key_slots": list(KEY_SLOTS),
        "details": details,
    }


def format_report(report: dict[str, Any]) -> str:
    """A fixed-width text table of a ``score`` report: events per type, then slots."""
    lines = [
        f"documents: {report['documents']}",
        "",
        f"{'type':<22}{'pred':>6}{'gold':>6}{'pairs':>7}{'P':>8}{'R':>8}{'F1':>8}",
    ]

    def row(name: str, r: dict[str, Any]) -> str:  # "-" where a denominator is empty
        p = f"{r['precision']:>8.3f}" if r["predicted"] else f"{'-':>8}"
        rec = f"{r['recall']:>8.3f}" if r["gold"] else f"{'-':>8}"
        counts = f"{name:<22}{r['predicted']:>6}{r['gold']:>6}{r['pairs']:>7}"
        return f"{counts}{p}{rec}{r['f1']:>8.3f}"

    for etype, rates in report["per_type"].items():
        lines.append(row(etype, rates))
    lines.append("-" * 65)
    lines.append(row("overall", report["overall"]))
    lines += [
        "",
        f"{'slot (of pairs the gold fills)':<32}{'filled':>8}{'correct':>9}{'accuracy':>10}",
    ]
    key = list(report.get("key_slots", KEY_SLOTS))
    slots = report["slots"]
    for group, names in (("key", key), ("other", [s for s in slots if s not in key])):
        lines.append(f"[{group} slots]")
        for slot in names:
            cell = slots.get(slot, {"filled": 0, "correct": 0, "accuracy": None})
            acc = "-" if cell["accuracy"] is None else f"{cell['accuracy']:.3f}"
            lines.append(f"  {slot:<30}{cell['filled']:>8}{cell['correct']:>9}{acc:>10}")
    if report.get("extra_doc_ids"):
        lines += ["", f"ignored {len(report['extra_doc_ids'])} predicted document(s) not in gold"]
    return "\n".join(lines)
