"""``muster report`` and ``muster events``: the analyst's commands (on ``flows.cli.app``).

Both only read the warehouse (read-only, sandboxed), from the live file or,
while a run is writing it, from the snapshot the last run published.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.cli import DbOption, _fail, app, err, out

SinceOption = Annotated[
    Optional[str],
    typer.Option("--since", help="From this day on: YYYY-MM-DD, 'today' or -7d (7 days ago)."),
]


def _db(db: Path | None) -> Path:
    from flows.settings import load_settings

    return Path(db or load_settings().db_path)


@app.command()
def report(
    since: SinceOption = None,
    out_file: Annotated[
        Path, typer.Option("--out", "-o", help="The HTML file to write.")
    ] = Path("report.html"),
    db: DbOption = None,
    open_it: Annotated[bool, typer.Option("--open", help="Open it in the web browser.")] = False,
) -> None:
    """Write one self-contained HTML page: timeline, actors, deployments, weapons, evidence."""
    from flows.report import load_report_data, write_report
    from flows.user_errors import USER_ERRORS, check_writable, parse_date

    try:
        start = parse_date(since, "--since")
        path = _db(db)
        check_writable(out_file, "report")
        data = load_report_data(path, start, notify=err.print)
        written = write_report(data, out_file)
    except USER_ERRORS as exc:
        _fail(exc)
        return
    uri = written.resolve().as_uri()
    out.print(f"wrote {written} ({data.n_events:,} events, {data.n_articles:,} articles)",
              soft_wrap=True, markup=False)
    out.print(f"open it: {uri}", soft_wrap=True, markup=False)
    if open_it:
        import webbrowser

        webbrowser.open(uri)


@app.command()
def events(
    event_type: Annotated[
        Optional[list[str]],
        typer.Option("--type", "-t", help="Event type, e.g. military_deployment (repeatable)."),
    ] = None,
    actor: Annotated[
        Optional[list[str]],
        typer.Option("--actor", "-a", help="Actor state: ISO3 code (RUS) or name (repeatable)."),
    ] = None,
    place: Annotated[
        Optional[list[str]],
        typer.Option("--place", "-p", help="Place name (substring) or country (repeatable)."),
    ] = None,
    since: SinceOption = None,
    until: Annotated[
        Optional[str], typer.Option("--until", help="Up to this day (inclusive), YYYY-MM-DD.")
    ] = None,
    status: Annotated[
        Optional[list[str]],
        typer.Option("--status", "-s", help="asserted, reported, claimed, denied or planned."),
    ] = None,
    limit: Annotated[
        Optional[int], typer.Option("--limit", "-n", min=1, help="At most N rows.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, csv, json, jsonl, parquet (with --out).")
    ] = "table",
    out_file: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Events filtered by type, actor, place, day and status, newest first, without SQL.

    Days are article publication days (fetch day if unknown). The table shows a few
    columns; csv, json, jsonl and parquet carry every column of the events table.
    """
    from flows.events_query import (
        EventFilter,
        build_query,
        check_statuses,
        check_types,
        country_code,
    )
    from flows.output import Format, emit, parse_format
    from flows.user_errors import USER_ERRORS, parse_date

    try:
        form = parse_format(fmt)
        filt = EventFilter(
            types=check_types(event_type or []),
            actors=[country_code(a) for a in actor or []],
            places=list(place or []),
            since=parse_date(since, "--since"),
            until=parse_date(until, "--until"),
            statuses=check_statuses(status or []),
            limit=limit,
        )
        sql, params = build_query(filt, full=form is not Format.table or out_file is not None)
        n = emit(_db(db), sql, params, form, out_file, out, err.print)
    except USER_ERRORS as exc:
        _fail(exc)
        return
    if out_file is not None:
        err.print(f"wrote {n} event(s) to {out_file}", soft_wrap=True, markup=False)
