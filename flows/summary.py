"""Human-readable end-of-run summary (the dbt-style table users read first)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flows.crawl_steps import SKIP_REASONS
from flows.pipeline import RunReport
from flows.progress import STAGES


def render_summary(
    report: RunReport, console: Console, seconds: Mapping[str, float] | None = None
) -> None:
    """Print feeds, articles by outcome, failures by reason, events by type, time per stage,
    the DB path and the next commands to try (what a user wants to know after a run)."""
    table = Table(title="Muster run" + (" (dry run: nothing written)" if report.dry_run else ""))
    table.add_column("what")
    table.add_column("count", justify="right")
    feed_failures = report.feed_failures()
    table.add_row("feeds polled", str(report.feeds_polled))
    table.add_row("  unchanged (304)", str(report.feeds_not_modified))
    table.add_row("  failed", str(len(feed_failures)))
    if report.feeds_skipped:
        table.add_row("feeds not due (poll_interval)", str(report.feeds_skipped))
    if report.items_filtered:
        table.add_row("items filtered (include/exclude)", str(report.items_filtered))
    table.add_row("articles new", str(report.articles_new))
    table.add_row("articles updated", str(report.articles_updated))
    table.add_row("articles unchanged", str(report.articles_unchanged + report.articles_seen_before))
    if report.pages_not_modified:
        table.add_row("  pages unchanged (304)", str(report.pages_not_modified))
    failed = report.failed_by_reason()
    table.add_row("articles failed or skipped", str(sum(failed.values())))
    for reason, n in sorted(failed.items()):
        table.add_row(f"  {reason}" + (" (skipped)" if reason in SKIP_REASONS else ""), str(n))
    table.add_row("events written", str(report.events_written))
    for etype, n in sorted(report.events_by_type.items()):
        table.add_row(f"  {etype}", str(n))
    if seconds:
        table.add_section()
        table.add_row("time spent", f"{sum(seconds.values()):.1f}s")
        for stage in [s for s in STAGES if s in seconds] + sorted(set(seconds) - set(STAGES)):
            table.add_row(f"  {stage}", f"{seconds[stage]:.1f}s")
    console.print(table)
    for failure in feed_failures:
        console.print(
            f"[yellow]feed {failure.feed}[/yellow] ({failure.url}): {failure.reason}"
            + (f" - {failure.detail}" if failure.detail else "")
        )
    console.print(f"database: [bold]{report.db_path}[/bold]  run id: {report.run_id}")
    if report.dry_run:
        return
    db = shlex.quote(str(report.db_path))
    console.print("next:", style="bold")
    console.print(
        f"  muster report --db {escape(db)}   [dim]# HTML page: timeline, actors, evidence[/dim]",
        soft_wrap=True,
    )
    console.print(
        f"  muster events --type military_deployment --db {db}", markup=False, soft_wrap=True
    )
    console.print(
        '  muster sql "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC"'
        f" --db {db}",
        markup=False,
        soft_wrap=True,
    )
