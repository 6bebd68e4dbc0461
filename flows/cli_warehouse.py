"""Warehouse commands of the ``muster`` CLI: ``reextract`` and ``export``.

Registered on the shared `app` by one import line at the end of flows/cli.py.
Imports are deferred into the commands so the CLI starts fast.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli import DbOption, _fail, app, err, out


def _day(value: str | None) -> date | None:
    """A YYYY-MM-DD option value as a date (typer's datetime type would accept times too)."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2025-04-28") from None


SinceOption = Annotated[
    str | None,
    typer.Option("--since", metavar="DATE",
                 help="Only articles published (else fetched) on or after this day, YYYY-MM-DD."),
]


@app.command()
def reextract(
    db: DbOption = None,
    since: SinceOption = None,
    type_: Annotated[
        list[str] | None,
        typer.Option("--type", metavar="T", help="Only replace events of this type (repeatable)."),
    ] = None,
    configs: Annotated[
        Path | None, typer.Option("--configs", help="Configs folder with rules/ and lexicons/.")
    ] = None,
) -> None:
    """Re-run the current rules over the stored article text (no refetching)."""
    from flows import progress
    from flows.reextract import reextract as run_reextract
    from flows.settings import load_settings
    from warehouse import WarehouseError

    day = _day(since)
    try:
        settings = load_settings(db_path=db, configs_dir=configs)
        with progress.install(progress.for_stream(sys.stdout, out)):
            report = run_reextract(settings, since=day, types=type_ or None)
    except (ValueError, OSError, WarehouseError) as exc:
        _fail(exc)
        return
    table = Table(title=f"Muster reextract (rules {report.extractor_version})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, n in (
        ("articles already current (skipped)", report.articles_skipped_current),
        ("articles re-extracted", report.articles_considered),
        ("  events changed (replaced)", report.articles_replaced),
        ("  same events, new version stamp", report.articles_restamped),
        ("  unchanged", report.articles_unchanged),
        ("  changed meanwhile by a run (left alone)", report.articles_stale),
        ("events added", report.events_added),
        ("events removed", report.events_removed),
    ):
        table.add_row(label, str(n))
    out.print(table)
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")
    out.print(f"database: [bold]{report.db_path}[/bold]  run id: {report.run_id}")


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv or jsonl.")] = "parquet",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write into.")] = Path("export"),
    since: SinceOption = None,
    db: DbOption = None,
) -> None:
    """Export events (with their article's url, title, published), articles and clusters."""
    from flows.settings import load_settings
    from warehouse import WarehouseError
    from warehouse.export import export_warehouse

    day = _day(since)
    try:
        path = Path(db or load_settings().db_path)
        report = export_warehouse(path, out_dir, fmt, day)
    except (ValueError, OSError, WarehouseError) as exc:
        _fail(exc)
        return
    if report.from_snapshot:
        err.print(f"{path} is busy (a run is writing); exported from {report.source}")
    for name, n in report.rows.items():
        out.print(f"{name}: {n} rows -> {report.paths[name]}")
