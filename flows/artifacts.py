"""Run artifacts for the Prefect UI: a markdown summary and a table of the events produced.

Why artifacts and not just logs: an analyst opening a run in the UI should see at a
glance what it did (feeds, articles new / unchanged / failed by reason, events by type)
and which events it produced, each linked to its article, without reading logs or SQL.

The events table is read back from the warehouse (the source of truth), by the window
of time the run held the single-writer slot: every event whose ``extracted_at`` falls
in that window was written by this run, because no other run writes meanwhile
(``flows/run_guard.py``).  A dry run writes nothing, so its table is empty and the
summary says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from warehouse import WarehouseError
from warehouse.query import run_readonly

from flows.crawl_steps import SKIP_REASONS

SUMMARY_KEY_SUFFIX = "summary"
EVENTS_KEY_SUFFIX = "events"
MAX_TABLE_ROWS = 500
EVENT_COLUMNS = ("type", "actor", "target", "location", "quantity", "date", "status", "article")

_EVENTS_SQL = (
    "SELECT e.type, e.actor, e.target, e.location, e.quantity, e.unit, e.date, e.status, "
    "a.url, a.title FROM events e JOIN articles a USING (article_id) "
    "WHERE e.extracted_at >= ? AND e.extracted_at <= ? "
    "ORDER BY a.url, e.char_start, e.type"
)


def counts_of(report: Any) -> dict[str, Any]:
    """A plain dict of a run's counts, whatever kind of report the flow returned."""
    if report is None:
        return {}
    if hasattr(report, "as_counts"):
        return dict(report.as_counts())
    if hasattr(report, "model_dump"):
        return dict(report.model_dump(mode="json"))
    if isinstance(report, Mapping):
        return dict(report)
    if hasattr(report, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(report)
    return {"result": str(report)}


def summary_markdown(
    title: str, counts: Mapping[str, Any], *, dry_run: bool = False, feed_failures: Sequence[Any] = (),
    error: str | None = None, db_path: str | None = None, events_shown: int | None = None,
) -> str:
    """The run summary as markdown: the same numbers as the CLI's end-of-run table."""
    lines = [f"# {title}" + (" (dry run: nothing written)" if dry_run else ""), ""]
    if error:
        lines += [f"**Run failed:** `{error}`", ""]
    known = {"feeds_polled", "feeds_not_modified", "feeds_failed", "articles_new",
             "articles_updated", "articles_unchanged", "articles_failed", "events_written",
             "events_by_type"}
    rows: list[tuple[str, Any]] = []
    if "feeds_polled" in counts:
        rows += [("feeds polled", counts.get("feeds_polled", 0)),
                 ("↳ unchanged (304)", counts.get("feeds_not_modified", 0)),
                 ("↳ failed", counts.get("feeds_failed", 0))]
    if "articles_new" in counts:
        failed = counts.get("articles_failed") or {}
        rows += [("articles new", counts.get("articles_new", 0)),
                 ("articles updated", counts.get("articles_updated", 0)),
                 ("articles unchanged", counts.get("articles_unchanged", 0)),
                 ("articles failed or skipped",
                  sum(failed.values()) if isinstance(failed, Mapping) else failed)]
        if isinstance(failed, Mapping):
            rows += [(f"↳ {reason}" + (" (skipped)" if reason in SKIP_REASONS else ""), n)
                     for reason, n in sorted(failed.items())]
    if "events_written" in counts:
        rows.append(("events written", counts.get("events_written", 0)))
    by_type = counts.get("events_by_type") or {}
    rows += [(f"↳ {etype}", n) for etype, n in sorted(dict(by_type).items())]
    rows += [(key.replace("_", " "), _cell(value)) for key, value in counts.items()
             if key not in known]
    lines += ["| what | count |", "|---|---:|"] + [f"| {k} | {_cell(v)} |" for k, v in rows]
    if feed_failures:
        lines += ["", "## Feeds that failed", ""]
        lines += [f"- **{f.feed}** ({f.url}): `{f.reason}`" + (f" — {f.detail}" if f.detail else "")
                  for f in feed_failures]
    if events_shown is not None:
        lines += ["", f"{events_shown} event(s) in the table artifact"
                  + (f" (first {MAX_TABLE_ROWS} shown)" if events_shown >= MAX_TABLE_ROWS else "")
                  + "."]
    if db_path:
        lines += ["", f"Database: `{db_path}`"]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    text = str(value) if value is not None else ""
    return text.replace("|", "\\|").replace("\n", " ")


def events_in_window(
    db_path: Path | str, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Events written between ``start`` and ``end`` (naive UTC), as table-artifact rows."""
    if not Path(db_path).is_file():
        return []
    _cols, rows = run_readonly(db_path, _EVENTS_SQL, [start, end], max_rows=MAX_TABLE_ROWS)
    table = []
    for etype, actor, target, location, quantity, unit, date, status, url, title in rows:
        label = (title or url).replace("[", "(").replace("]", ")")
        table.append({
            "type": etype,
            "actor": actor or "",
            "target": target or "",
            "location": location or "",
            "quantity": "" if quantity is None else f"{quantity} {unit or ''}".strip(),
            "date": "" if date is None else str(date),
            "status": status,
            "article": f"[{label[:80]}]({url})",
        })
    return table


def report_path_for(db_path: Path | str) -> Path:
    """Where a run leaves its HTML report: beside the database, ``<name>.report.html``."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.report.html")


_WRITE_COUNTS = ("articles_new", "articles_updated", "events_written")


def _nothing_written(counts: Mapping[str, Any]) -> bool:
    """True when the counts say no article or event was written (unknown counts: False)."""
    return all(k in counts for k in _WRITE_COUNTS) and not any(counts[k] for k in _WRITE_COUNTS)


def _report_line(db_path: Path | str, refresh: bool = True) -> str:
    """Refresh the run's HTML report and say where it is; a failure only costs the line.

    Analysts open the report from the run page in the UI, so each run that wrote articles
    or events rewrites it (one file, a few aggregate queries); a run that wrote none keeps
    the existing one, which shows the same data.  A broken report must never fail a run
    whose data is already committed.
    """
    from flows.report import load_report_data, write_report

    out = report_path_for(db_path)
    if not refresh and out.is_file():
        return f"\nReport: `{out.resolve()}` (unchanged: this run wrote no article or event)\n"
    try:
        write_report(load_report_data(Path(db_path), notify=lambda _msg: None), out)
    except Exception as exc:  # noqa: BLE001 - reported in the artifact, never raised
        return f"\nReport not refreshed: `{type(exc).__name__}: {exc}`\n"
    return f"\nReport: `{out.resolve()}` (open it in a browser; `muster report` rebuilds it)\n"


def publish_run_artifacts(
    kind: str,
    report: Any,
    db_path: Path | str,
    start: dt.datetime,
    end: dt.datetime,
    error: str | None = None,
) -> dict[str, Any]:
    """Create the summary (markdown) and events (table) artifacts of the current run.

    ``kind`` is the flow's name (``muster-pipeline``, ...); it prefixes the artifact keys
    so the UI's Artifacts page keeps one history per deployment.  Returns what was
    published (used by tests and logs).
    """
    counts = counts_of(report)
    dry_run = bool(getattr(report, "dry_run", False))
    try:
        quiet = dry_run or _nothing_written(counts)  # no event can be in the window
        events = [] if quiet else events_in_window(db_path, start, end)
        events_error = None
    except WarehouseError as exc:  # the summary still goes out; the table says why
        events, events_error = [], str(exc)
    feed_failures = report.feed_failures() if hasattr(report, "feed_failures") else []
    markdown = summary_markdown(
        f"Muster run: {kind}", counts, dry_run=dry_run, feed_failures=feed_failures,
        error=error, db_path=str(db_path), events_shown=len(events),
    )
    if events_error:
        markdown += f"\nEvents table unavailable: `{events_error}`\n"
    if not dry_run and error is None:
        markdown += _report_line(db_path, refresh=not _nothing_written(counts))
    create_markdown_artifact(
        markdown=markdown, key=f"{kind}-{SUMMARY_KEY_SUFFIX}",
        description=f"{kind}: feeds, articles by outcome, failures by reason, events by type",
    )
    create_table_artifact(
        table=events if events else {c: [] for c in EVENT_COLUMNS},
        key=f"{kind}-{EVENTS_KEY_SUFFIX}",
        description=f"{kind}: the events this run wrote ({len(events)})",
    )
    return {"markdown": markdown, "events": events}
