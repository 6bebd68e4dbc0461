"""Aligned terminal tables for query results, like the DuckDB CLI's."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table


def print_table(columns: Sequence[str], rows: Sequence[Sequence[object]], console: Console) -> None:
    """Print rows under their column names; NULL shown as such; a row count at the end."""
    table = Table(show_lines=False)
    for name in columns:
        table.add_column(str(name), overflow="fold")
    for row in rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    console.print(table)
    console.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
