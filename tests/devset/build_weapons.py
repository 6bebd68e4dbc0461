"""Build the hand-labelled weapons part of the development set, reproducibly.

The pages and PLOVER parts hold no real weapons test or unveiling, so this part is
made of short passages of public news reports (condensed paraphrases, each with its
source URL) written out in ``weapons_labels.yaml`` together with their labels, and
look-alikes (products, plans, space rockets, drug trials, deployed devices) that must
yield nothing.  This script writes ``weapons.in.jsonl`` (``muster extract`` input)
and ``weapons.gold.jsonl``, locating each event's evidence in its text exactly as
``build_pages.py`` does.

    .venv/bin/python tests/devset/build_weapons.py            # (re)write the files
    .venv/bin/python tests/devset/build_weapons.py --check    # fail if they are stale
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import passages  # noqa: E402  (sibling script, not a package)

HERE = Path(__file__).resolve().parent
LABELS = HERE / "weapons_labels.yaml"
OUT_IN = HERE / "weapons.in.jsonl"
OUT_GOLD = HERE / "weapons.gold.jsonl"


def build() -> tuple[list[dict], list[dict]]:
    """(input records, gold records) of the weapons dev set."""
    return passages.build(LABELS, lambda text: None)


def main() -> int:
    return passages.main(__doc__, __file__, LABELS, OUT_IN, OUT_GOLD, lambda text: None)


if __name__ == "__main__":
    sys.exit(main())
