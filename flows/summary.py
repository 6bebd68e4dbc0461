"""Human-readable end-of-run summary (the dbt-style table users read first)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from flows.pipeline import RunReport


def render_summary(report: RunReport, console: Console) -> None:
    """Print feeds, articles by outcome, failures by reason, events by type and the DB path."""
    table = Table(title="Muster run" + (" (dry run: nothing written)" if report.dry_run else ""))
    table.add_column("what")
    table.add_column("count", justify="right")
    feed_failures = report.feed_failures()
    table.add_row("feeds polled", str(report.feeds_polled))
    table.add_row("  unchanged (304)", str(report.feeds_not_modified))
    table.add_row("  failed", str(len(feed_failures)))
    table.add_row("articles new", str(report.articles_new))
    table.add_row("articles updated", str(report.articles_updated))
    table.add_row("articles unchanged", str(report.articles_unchanged + report.articles_seen_before))
    failed = report.failed_by_reason()
    table.add_row("articles failed", str(sum(failed.values())))
    for reason, n in sorted(failed.items()):
        table.add_row(f"  {reason}", str(n))
    table.add_row("events written", str(report.events_written))
    for etype, n in sorted(report.events_by_type.items()):
        table.add_row(f"  {etype}", str(n))
    console.print(table)
    for failure in feed_failures:
        console.print(
            f"[yellow]feed {failure.feed}[/yellow] ({failure.url}): {failure.reason}"
            + (f" - {failure.detail}" if failure.detail else "")
        )
    console.print(f"database: [bold]{report.db_path}[/bold]  run id: {report.run_id}")
    console.print(f'next: muster sql "SELECT type, count(*) FROM events GROUP BY type" --db {report.db_path}')
