"""Aligned terminal tables for query results, like the DuckDB CLI's."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

SHORT = 24  # columns whose values all fit in this many characters never wrap


def print_table(columns: Sequence[str], rows: Sequence[Sequence[object]], console: Console) -> None:
    """Print rows under their column names; NULL shown as such; a row count at the end.

    Short columns (dates, codes, numbers) never wrap, so only long text such as an
    evidence sentence folds on a narrow terminal.  When the output is not a terminal
    (a pipe, a file), rows are not wrapped at all, so ``grep`` and ``less -S`` see
    one line per row.
    """
    cells = [["NULL" if v is None else str(v) for v in row] for row in rows]
    table = Table(show_lines=False)
    for i, name in enumerate(columns):
        widest = max((len(r[i]) for r in cells), default=0)
        numeric = bool(rows) and all(isinstance(r[i], int | float) or r[i] is None for r in rows)
        table.add_column(
            str(name),
            justify="right" if numeric else "left",
            no_wrap=widest <= SHORT,
            overflow="ellipsis" if widest <= SHORT else "fold",
            min_width=min(max(widest, len(str(name))), SHORT) if widest <= SHORT else 16,
        )
    for row in cells:
        table.add_row(*row)
    if not console.is_terminal:
        console = Console(file=console.file, width=100_000, color_system=None, highlight=False)
    console.print(table)
    console.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", highlight=False)
