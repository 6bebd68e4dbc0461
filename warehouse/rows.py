"""Turning extractor events into `events` rows (shared by loads and re-extraction).

One definition, so a loaded event and a re-extracted one are built the same
way and compare equal when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel

from extractors.model import Event
from warehouse.ids import EVENT_KEY_FIELDS, ID_LENGTH
from warehouse.records import LoadCounts

# Event fields as stored (migration 1).  A test checks this equals Event's fields.
EVENT_FIELD_TYPES: dict[str, str] = {
    "type": "VARCHAR", "actor": "VARCHAR", "actor_name": "VARCHAR", "target": "VARCHAR",
    "target_name": "VARCHAR", "location": "VARCHAR", "location_country": "VARCHAR",
    "quantity": "BIGINT", "unit": "VARCHAR", "quantity_qualifier": "VARCHAR",
    "weapon_class": "VARCHAR", "weapon_name": "VARCHAR", "direction": "VARCHAR",
    "date": "DATE", "date_precision": "VARCHAR", "status": "VARCHAR",
    "attributed_to": "VARCHAR", "sentence": "VARCHAR", "char_start": "INTEGER",
    "char_end": "INTEGER", "rule_id": "VARCHAR", "confidence": "DOUBLE",
    "rule_version": "INTEGER",
}


def _event_date(value: str | None) -> date | None:
    """Event.date as a DATE: 'YYYY' / 'YYYY-MM' become the first day (precision is kept apart)."""
    if not value:
        return None
    parts = value.strip().split("-")
    padded = parts + ["01"] * (3 - len(parts))
    return date.fromisoformat("-".join(p.zfill(2) for p in padded[:3]))


def _to_json(value: Any) -> str | None:
    """JSON text for a JSON column; pydantic models and dates serialise too."""
    if value is None:
        return None

    def default(obj: Any) -> Any:
        if isinstance(obj, BaseModel):
            return obj.model_dump(mode="json")
        return str(obj)

    return json.dumps(value, default=default, sort_keys=True)


_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses


def _json_item(value: Any) -> str:
    """One list item exactly as ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)``."""
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False)


def fast_event_id(aid: str, values: dict[str, Any]) -> str:
    """`warehouse.ids.event_id` without json.dumps' per-call set-up (~4x faster).

    Builds the identical JSON text ([article_id, *EVENT_KEY_FIELDS]); a test
    checks it against `event_id`, so the two cannot drift apart.
    """
    text = "[" + ",".join([_encode_str(aid), *(_json_item(values[f]) for f in EVENT_KEY_FIELDS)]) + "]"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_LENGTH]


def event_columns(items: Iterable[tuple[str, str, Sequence[Event], str, Any]],
                  counts: LoadCounts) -> dict[str, list[Any]]:
    """`events` columns (EVENT_COLUMNS order) for (article_id, label, events, version, extracted_at).

    Per article: duplicates (same id) kept once, non-ISO dates nulled with a warning.
    Column-wise because the caller hands the lists to Arrow in one go.
    """
    fields = list(EVENT_FIELD_TYPES)
    cols: dict[str, list[Any]] = {name: [] for name in ("event_id", "article_id", *fields,
                                                        "extractor_version", "extracted_at")}
    ids, aids, versions, stamps = (cols["event_id"], cols["article_id"],
                                   cols["extractor_version"], cols["extracted_at"])
    values_of: list[dict[str, Any]] = []
    dates: dict[str | None, date | None] = {None: None, "": None}
    for aid, label, events, version, extracted_at in items:
        seen: set[str] = set()
        for n, event in enumerate(events):
            values = event.__dict__  # pydantic keeps field values here; all are plain scalars
            eid = fast_event_id(aid, values)
            if eid in seen:
                counts.events_duplicate += 1
                continue
            seen.add(eid)
            raw = values["date"]
            if raw not in dates:
                try:
                    dates[raw] = _event_date(raw)
                except ValueError:
                    counts.warnings.append(f"{label}: event {n} ({event.type}) has date "
                                           f"{raw!r}, not ISO; stored NULL")
                    values = {**values, "date": None}
            ids.append(eid)
            aids.append(aid)
            versions.append(version)
            stamps.append(extracted_at)
            values_of.append(values)
    for name in fields:
        if name == "date":
            cols[name] = [dates.get(v["date"]) for v in values_of]
        else:
            cols[name] = [v[name] for v in values_of] if name in Event.model_fields else [None] * len(values_of)
    return cols


def event_rows(aid: str, label: str, events: Sequence[Event], version: str, extracted_at: Any,
               counts: LoadCounts) -> list[tuple[Any, ...]]:
    """`events` rows for one article (the same values as `event_columns`, row-wise)."""
    cols = event_columns([(aid, label, events, version, extracted_at)], counts)
    return list(zip(*cols.values(), strict=True))
