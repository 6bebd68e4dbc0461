"""What every dev-set build script shares: JSON Lines output and "write, or only check".

The generated ``*.jsonl`` files change only through their build scripts (never by hand),
and ``tests/test_devset.py`` runs each script with ``--check``; so the writing and the
checking must be one piece of code, not four copies that could drift apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path


def dump(records: list[dict]) -> str:
    """JSON Lines text, one record a line."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def check_flag(doc: str | None) -> bool:
    """Parse the scripts' one option: ``--check`` (only check the files are up to date)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    parser.add_argument("--check", action="store_true", help="only check the files are up to date")
    return parser.parse_args().check


def write_or_check(wanted: Mapping[Path, str], check: bool, script: str, summary: str) -> int:
    """Write each file's text, or with ``check`` return 1 if any differs from it (0 if not)."""
    if check:
        stale = [p.name for p, text in wanted.items() if not p.exists() or p.read_text() != text]
        if stale:
            print(f"stale: {stale}; run {Path(script).name}", file=sys.stderr)
            return 1
        return 0
    for path, text in wanted.items():
        path.write_text(text, encoding="utf-8")
    print(summary)
    return 0
