"""``muster report``: what happened in the news, as one self-contained HTML page.

This module reads; ``flows/report_html.py`` draws.  Every query goes through
``warehouse.query.run_readonly_many`` (read-only, sandboxed, one connection), on the live file or,
while a run holds it, on the snapshot the last run published.

Events are dated by their article's publication day (the fetch day when
unknown), like the ``daily_counts`` view: event dates are often missing or only
a month or a season, while every article has a day.  ``--since`` filters on
that same day, so the charts and tables always agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.output import readable_source
from warehouse.query import run_readonly_many

DAY = "coalesce(a.published, CAST(a.fetched_at AS DATE))"
BASE = f"FROM events e JOIN articles a USING (article_id) WHERE {DAY} >= ?"
EPOCH = dt.date(1, 1, 1)


@dataclass
class ReportData:
    """Everything the page shows, already aggregated (small, so rendering is pure)."""

    db_path: Path
    source_path: Path
    generated_at: dt.datetime
    since: dt.date | None
    n_events: int = 0
    n_articles: int = 0
    n_actors: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    by_type: list[tuple[str, int]] = field(default_factory=list)
    timeline: list[tuple[dt.date, str, int]] = field(default_factory=list)
    actors: list[tuple[str, str | None, int]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    weapons: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    events_truncated: bool = False


def load_report_data(
    db: Path,
    since: dt.date | None = None,
    *,
    top_actors: int = 15,
    latest: int = 25,
    max_events: int = 5000,
    notify: Callable[[str], object] = print,
) -> ReportData:
    """Run the handful of aggregate queries the page needs, on one connection (each a few ms)."""
    source = readable_source(db, notify)
    p = [since or EPOCH]
    data = ReportData(db_path=db, source_path=source, since=since,
                      generated_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    columns = ("e.event_id, e.type, e.actor, e.actor_name, e.target, e.target_name, e.location, "
               "e.location_country, e.quantity, e.unit, e.quantity_qualifier, e.weapon_class, "
               "e.weapon_name, e.direction, e.date, e.date_precision, e.status, e.attributed_to, "
               f"e.sentence, a.url, a.title, {DAY} AS day")
    order = "ORDER BY day DESC, e.type, e.actor NULLS LAST, e.event_id"
    queries: dict[str, tuple[str, list[Any]]] = {
        "head": ((f"SELECT count(*) AS n, count(DISTINCT e.article_id) AS articles, "
                  f"count(DISTINCT e.actor) AS actors, min({DAY}) AS first, "
                  f"max({DAY}) AS last {BASE}"), p),
        "by_type": (f"SELECT e.type, count(*) AS n {BASE} GROUP BY e.type ORDER BY n DESC, e.type",
                    p),
        "timeline": ((f"SELECT {DAY} AS day, e.type, count(*) AS n {BASE} GROUP BY ALL "
                      "ORDER BY day, e.type"), p),
        "actors": ((f"SELECT e.actor, mode(e.actor_name) AS actor_name, count(*) AS n {BASE} "
                    "AND e.actor IS NOT NULL GROUP BY e.actor ORDER BY n DESC, e.actor LIMIT ?"),
                   [*p, top_actors]),
        "deployments": ((f"SELECT {columns} {BASE} AND e.type = 'military_deployment' {order} "
                         "LIMIT ?"), [*p, latest]),
        "weapons": ((f"SELECT {columns} {BASE} AND e.type IN ('weapons_unveiling', "
                     f"'weapons_test') {order} LIMIT ?"), [*p, latest]),
        "events": (f"SELECT {columns} {BASE} {order} LIMIT ?", [*p, max_events]),
    }
    answers = run_readonly_many(source, list(queries.values()))
    rows = {name: [dict(zip(cols, row, strict=True)) for row in found]
            for name, (cols, found) in zip(queries, answers, strict=True)}
    head = rows["head"][0]
    data.n_events, data.n_articles, data.n_actors = head["n"], head["articles"], head["actors"]
    data.first_day, data.last_day = head["first"], head["last"]
    data.by_type = [(r["type"], r["n"]) for r in rows["by_type"]]
    data.timeline = [(r["day"], r["type"], r["n"]) for r in rows["timeline"]]
    data.actors = [(r["actor"], r["actor_name"], r["n"]) for r in rows["actors"]]
    data.deployments, data.weapons, data.events = (
        rows["deployments"], rows["weapons"], rows["events"])
    data.events_truncated = data.n_events > len(data.events)
    return data


def write_report(data: ReportData, out: Path) -> Path:
    """Render and write atomically (a reader never sees half a page); return the path."""
    import os

    from flows.report_html import render_html

    out = out.expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(render_html(data), encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
