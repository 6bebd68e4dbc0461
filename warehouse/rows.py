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
from operator import itemgetter
from typing import Any, NamedTuple

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


# json.dumps(..., separators=(",", ":"), ensure_ascii=False) builds a JSONEncoder and then a C
# encoder on every call; for a flat list the C encoder alone gives the same text.  Built once
# here (markers=None: a flat list of scalars cannot be circular).  Pure-Python builds of
# CPython have no C encoder: then the hand-built path below is used.
_C_ENCODER = (json.encoder.c_make_encoder(None, None, _encode_str, None, ":", ",", True, False,
                                          True) if json.encoder.c_make_encoder else None)
_event_key = itemgetter(*EVENT_KEY_FIELDS)


def _id_of_key(aid: str, key: tuple[Any, ...]) -> str:
    """sha256 prefix of the JSON text of [article_id, *key]: exactly `ids.event_id`'s."""
    if _C_ENCODER is not None:
        text = "".join(_C_ENCODER([aid, *key], 0))
    else:
        text = "[" + ",".join([_encode_str(aid), *map(_json_item, key)]) + "]"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_LENGTH]


def fast_event_id(aid: str, values: dict[str, Any]) -> str:
    """`warehouse.ids.event_id` without json.dumps' per-call set-up (~2x faster).

    Builds the identical JSON text ([article_id, *EVENT_KEY_FIELDS]); a test
    checks it against `event_id`, so the two cannot drift apart.
    """
    return _id_of_key(aid, _event_key(values))


class ScannedEvents(NamedTuple):
    """The events of a batch after ids, de-duplication and date checks (see `scan_events`)."""

    ids: list[str]
    article_ids: list[str]
    versions: list[str]
    stamps: list[Any]
    values: list[dict[str, Any]]  # each event's field values (its pydantic __dict__), not copied
    dates: dict[str | None, date | None]  # raw Event.date -> DATE; a non-ISO one is absent


def scan_events(items: Iterable[tuple[str, str, Sequence[Event], str, Any]],
                counts: LoadCounts) -> ScannedEvents:
    """Ids and checks for (article_id, label, events, version, extracted_at) per article.

    Per article: duplicates (same id) kept once (the first), non-ISO dates
    counted as a warning (stored NULL: `dates.get(raw)` is None for them).
    The one loop in Python per event; building columns is left to the callers.
    """
    out = ScannedEvents([], [], [], [], [], {None: None, "": None})
    ids, values_of, dates = out.ids, out.values, out.dates
    key_of, id_of = _event_key, _id_of_key
    for aid, label, events, version, extracted_at in items:
        seen: set[str] = set()
        for n, event in enumerate(events):
            values = event.__dict__  # pydantic keeps field values here; all are plain scalars
            eid = id_of(aid, key_of(values))
            if eid in seen:
                counts.events_duplicate += 1
                continue
            seen.add(eid)
            raw = values["date"]
            if raw not in dates:
                try:
                    dates[raw] = _event_date(raw)
                except ValueError:  # not cached: stays unknown, so dates.get gives None
                    counts.warnings.append(f"{label}: event {n} ({event.type}) has date "
                                           f"{raw!r}, not ISO; stored NULL")
            ids.append(eid)
            values_of.append(values)
        grown = len(ids) - len(out.article_ids)
        out.article_ids.extend([aid] * grown)
        out.versions.extend([version] * grown)
        out.stamps.extend([extracted_at] * grown)
    return out


def event_columns(items: Iterable[tuple[str, str, Sequence[Event], str, Any]],
                  counts: LoadCounts) -> dict[str, list[Any]]:
    """`events` columns (EVENT_COLUMNS order) as Python lists (`scan_events`' rules).

    Used for the small row-wise paths (re-extraction compares rows); the bulk
    load builds Arrow columns by the same rules without a per-event loop
    (`arrow_rows.event_table`; a test compares the two).
    """
    scan = scan_events(items, counts)
    present = [name for name in EVENT_FIELD_TYPES if name in Event.model_fields]
    rows = list(map(itemgetter(*present), scan.values))
    by_name = dict(zip(present, map(list, zip(*rows, strict=True)), strict=True)) if rows else \
        {name: [] for name in present}
    by_name["date"] = [scan.dates.get(v) for v in by_name["date"]]
    cols: dict[str, list[Any]] = {"event_id": scan.ids, "article_id": scan.article_ids}
    for name in EVENT_FIELD_TYPES:
        cols[name] = by_name[name] if name in by_name else [None] * len(scan.ids)
    cols["extractor_version"] = scan.versions
    cols["extracted_at"] = scan.stamps
    return cols


def event_rows(aid: str, label: str, events: Sequence[Event], version: str, extracted_at: Any,
               counts: LoadCounts) -> list[tuple[Any, ...]]:
    """`events` rows for one article (the same values as `event_columns`, row-wise)."""
    cols = event_columns([(aid, label, events, version, extracted_at)], counts)
    return list(zip(*cols.values(), strict=True))
