"""The warehouse may import only `extractors.model` among Muster's packages."""

from __future__ import annotations

import ast
from pathlib import Path

WAREHOUSE = Path(__file__).resolve().parent.parent / "warehouse"
MUSTER = {"extractors", "ingest", "flows"}


def test_warehouse_imports_only_the_event_model() -> None:
    offenders = []
    for file in sorted(WAREHOUSE.glob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.split(".")[0] in MUSTER and name != "extractors.model":
                    offenders.append(f"{file.name}: {name}")
    assert offenders == []
