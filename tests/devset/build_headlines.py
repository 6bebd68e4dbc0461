"""Build the hand-labelled "headline + lead" part of the development set, reproducibly.

Wire items are a headline and one lead sentence, and headlines have their own grammar
(present tense, no articles, "to" + verb, "N. Korea", "slams", "kill 9") that full
articles rarely show.  The items (real page titles from ../shared/data/pages and
condensed paraphrases of public reports, each with its source) and look-alikes
(sport, exams, products, software) are written out in ``headlines_labels.yaml`` with
their labels.  The input's ``title`` is the headline, also the text's first line.
This script writes ``headlines.in.jsonl`` (``muster extract`` input) and
``headlines.gold.jsonl``, locating each event's evidence as ``build_pages.py`` does.

    .venv/bin/python tests/devset/build_headlines.py            # (re)write the files
    .venv/bin/python tests/devset/build_headlines.py --check    # fail if they are stale
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import passages  # noqa: E402  (sibling script, not a package)

HERE = Path(__file__).resolve().parent
LABELS = HERE / "headlines_labels.yaml"
OUT_IN = HERE / "headlines.in.jsonl"
OUT_GOLD = HERE / "headlines.gold.jsonl"


def build() -> tuple[list[dict], list[dict]]:
    """(input records, gold records) of the headlines dev set."""
    return passages.build(LABELS, lambda text: text.split("\n", 1)[0])


def main() -> int:
    return passages.main(__doc__, __file__, LABELS, OUT_IN, OUT_GOLD, lambda text: text.split("\n", 1)[0])


if __name__ == "__main__":
    sys.exit(main())
