"""``muster events``: the common questions as options, turned into one parameterised SELECT.

Values always travel as SQL parameters, never pasted into the text, and each
option is checked first so a typo is a sentence listing the valid choices
rather than an empty result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from extractors.model import EVENT_TYPES, Status

STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
# The article's publication day (fetch day if unknown), as in `muster report` and the
# daily_counts view: event dates are often missing or coarse ("last spring").
DAY = "coalesce(a.published, CAST(a.fetched_at AS DATE))"

# The compact view for a terminal; files get every column.
TABLE_COLUMNS = (f"{DAY} AS day, e.type, e.actor, e.target, e.location, e.quantity, e.unit, "
                 "e.status, e.sentence")
ALL_COLUMNS = (f"{DAY} AS day, e.*, a.url, a.title, a.published, a.feed")


@dataclass
class EventFilter:
    """The options of ``muster events``, validated and normalised."""

    types: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    since: dt.date | None = None
    until: dt.date | None = None
    statuses: list[str] = field(default_factory=list)
    limit: int | None = None


def check_types(values: Sequence[str]) -> list[str]:
    """Event types, exact names (``deployment`` suggests ``military_deployment``)."""
    out = []
    for value in values:
        v = value.strip().lower()
        if v not in EVENT_TYPES:
            close = [t for t in EVENT_TYPES if v and v in t]
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise ValueError(f"Unknown event type {value!r}{hint}; choose from "
                             f"{', '.join(EVENT_TYPES)}.")
        out.append(v)
    return out


def check_statuses(values: Sequence[str]) -> list[str]:
    out = []
    for value in values:
        v = value.strip().lower()
        if v not in STATUSES:
            raise ValueError(f"Unknown status {value!r}; choose from {', '.join(STATUSES)}.")
        out.append(v)
    return out


def country_code(value: str) -> str:
    """``RUS``, ``rus``, ``Russia`` or ``RU`` -> ``RUS`` (ISO 3166-1 alpha-3)."""
    code = _maybe_country(value)
    if code is None:
        raise ValueError(
            f"--actor {value!r} is not a country, or names several; give an ISO 3166-1 alpha-3 "
            "code such as RUS or PRK, or a country name such as Russia."
        )
    return code


def build_query(f: EventFilter, *, full: bool) -> tuple[str, list[Any]]:
    """SQL and parameters for the filter; ``full`` selects every column (files), else a few."""
    if f.since and f.until and f.since > f.until:
        raise ValueError(f"--since {f.since} is after --until {f.until}; swap them.")
    where: list[str] = []
    params: list[Any] = []
    if f.types:
        where.append(f"e.type IN ({', '.join('?' for _ in f.types)})")
        params += f.types
    if f.actors:
        where.append(f"e.actor IN ({', '.join('?' for _ in f.actors)})")
        params += f.actors
    for place in f.places:
        # A place matches the location's name, or its country when it names one.
        where.append("(e.location ILIKE ? OR e.location_country = ?)")
        params += [f"%{place.strip()}%", _maybe_country(place)]
    if f.since:
        where.append(f"{DAY} >= ?")
        params.append(f.since)
    if f.until:
        where.append(f"{DAY} <= ?")
        params.append(f.until)
    if f.statuses:
        where.append(f"e.status IN ({', '.join('?' for _ in f.statuses)})")
        params += f.statuses
    sql = (f"SELECT {ALL_COLUMNS if full else TABLE_COLUMNS} "
           "FROM events e JOIN articles a USING (article_id)")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY day DESC NULLS LAST, e.type, e.actor NULLS LAST, e.event_id"
    if f.limit is not None:
        sql += " LIMIT ?"
        params.append(f.limit)
    return sql, params


_ALIASES = {"uk": "GBR", "u.k.": "GBR", "us": "USA", "u.s.": "USA", "turkey": "TUR"}


def _maybe_country(text: str) -> str | None:
    """The one country ``text`` names (code, exact name, or a part of one name), else None."""
    import pycountry

    query = text.strip()
    if query.lower() in _ALIASES:
        return _ALIASES[query.lower()]
    try:
        return str(pycountry.countries.lookup(query).alpha_3)
    except LookupError:
        pass
    if len(query) < 4:  # "uk" is inside "ukraine": short strings must be codes
        return None
    try:
        candidates = pycountry.countries.search_fuzzy(query)
    except LookupError:
        return None
    q = query.lower()

    def names(c: object) -> str:
        return " ".join(str(getattr(c, k, "") or "") for k in ("name", "common_name",
                                                                 "official_name")).lower()

    containing = [c for c in candidates if q in names(c)]
    return str(containing[0].alpha_3) if len(containing) == 1 else None
