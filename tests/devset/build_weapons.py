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

import argparse
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_pages import dump, gold_event  # noqa: E402  (sibling script, not a package)

HERE = Path(__file__).resolve().parent
LABELS = HERE / "weapons_labels.yaml"
OUT_IN = HERE / "weapons.in.jsonl"
OUT_GOLD = HERE / "weapons.gold.jsonl"


def build() -> tuple[list[dict], list[dict]]:
    """(input records, gold records) of the weapons dev set."""
    docs = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    ids = [d["doc_id"] for d in docs]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate doc_id in weapons_labels.yaml")
    inputs, golds = [], []
    for doc in docs:
        text = doc["text"]
        inputs.append({"doc_id": doc["doc_id"], "text": text, "published": doc["published"],
                       "title": None})
        events = [gold_event(label, text, doc["doc_id"]) for label in doc["events"]]
        events.sort(key=lambda e: e["char_start"])  # first evidence first, as the spec orders them
        golds.append({"doc_id": doc["doc_id"], "events": events, "source": dict(doc["source"])})
    return inputs, golds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the files are up to date")
    args = parser.parse_args()
    inputs, golds = build()
    wanted = {OUT_IN: dump(inputs), OUT_GOLD: dump(golds)}
    if args.check:
        stale = [p.name for p, text in wanted.items() if not p.exists() or p.read_text() != text]
        if stale:
            print(f"stale: {stale}; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    for path, text in wanted.items():
        path.write_text(text, encoding="utf-8")
    print(f"{len(inputs)} documents, {sum(len(g['events']) for g in golds)} gold events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
