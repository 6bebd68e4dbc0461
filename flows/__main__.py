"""``python -m flows`` runs the ``muster`` CLI (same as the console script)."""

from flows.cli import app

app(prog_name="muster")
