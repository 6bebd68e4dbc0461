"""Dev-set parts made of short labelled passages kept in one YAML file (weapons, headlines).

Each document in the labels file has ``doc_id``, ``text``, ``published``, ``source`` and
``events``; events are located in the text as ``build_pages.py`` does (``gold_event``).
The two parts differ only in their files and in where the input's ``title`` comes from.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_pages import gold_event  # noqa: E402  (sibling script, not a package)
from devset_io import check_flag, dump, write_or_check  # noqa: E402

TitleOf = Callable[[str], str | None]


def build(labels: Path, title_of: TitleOf) -> tuple[list[dict], list[dict]]:
    """(input records, gold records) of the passages in ``labels``."""
    docs = yaml.safe_load(labels.read_text(encoding="utf-8"))
    ids = [d["doc_id"] for d in docs]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate doc_id in {labels.name}")
    inputs, golds = [], []
    for doc in docs:
        text = doc["text"]
        inputs.append({"doc_id": doc["doc_id"], "text": text, "published": doc["published"],
                       "title": title_of(text)})
        events = [gold_event(label, text, doc["doc_id"]) for label in doc["events"]]
        events.sort(key=lambda e: e["char_start"])  # first evidence first, as the spec orders them
        golds.append({"doc_id": doc["doc_id"], "events": events, "source": dict(doc["source"])})
    return inputs, golds


def main(doc: str | None, script: str, labels: Path, out_in: Path, out_gold: Path,
         title_of: TitleOf) -> int:
    """Write ``out_in`` / ``out_gold`` from ``labels``, or check them (``--check``)."""
    check = check_flag(doc)
    inputs, golds = build(labels, title_of)
    summary = f"{len(inputs)} documents, {sum(len(g['events']) for g in golds)} gold events"
    return write_or_check({out_in: dump(inputs), out_gold: dump(golds)}, check, script, summary)
