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

import argparse
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_pages import dump, gold_event  # noqa: E402  (sibling script, not a package)

HERE = Path(__file__).resolve().parent
LABELS = HERE / "headlines_labels.yaml"
OUT_IN = HERE / "headlines.in.jsonl"
OUT_GOLD = HERE / "headlines.gold.jsonl"


def build() -> tuple[list[dict], list[dict]]:
    """(input records, gold records) of the headlines dev set."""
    docs = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    ids = [d["doc_id"] for d in docs]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate doc_id in headlines_labels.yaml")
    inputs, golds = [], []
    for doc in docs:
        text = doc["text"]
        inputs.append({"doc_id": doc["doc_id"], "text": text, "published": doc["published"],
                       "title": text.split("\n", 1)[0]})
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
