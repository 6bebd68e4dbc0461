"""Turning extractor events into `events` rows (shared by loads and re-extraction).

One definition, so a loaded event and a re-extracted one are built the same
way and compare equal when nothing changed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel

from extractors.model import Event
from warehouse.ids import event_id
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


def event_rows(aid: str, label: str, events: Sequence[Event], version: str, extracted_at: Any,
               counts: LoadCounts) -> list[tuple[Any, ...]]:
    """`events` rows for one article: duplicates (same id) kept once, non-ISO dates nulled."""
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for n, event in enumerate(events):
        eid = event_id(aid, event)
        if eid in seen:
            counts.events_duplicate += 1
            continue
        seen.add(eid)
        values = event.model_dump()
        try:
            values["date"] = _event_date(event.date)
        except ValueError:
            counts.warnings.append(
                f"{label}: event {n} ({event.type}) has date {event.date!r}, not ISO; stored NULL")
            values["date"] = None
        rows.append((eid, aid, *(values.get(f) for f in EVENT_FIELD_TYPES), version, extracted_at))
    return rows
