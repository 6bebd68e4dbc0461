"""Build the hand-labelled full-page part of the development set, reproducibly.

Takes each page listed in ``pages_labels.yaml`` from the shared fixtures
(``../shared/data/pages/fundus/<folder>/<Publisher>.json``: the expected body
of one parser version; ``../shared/data/pages/zyte/ground-truth.json``: the
hand-corrected ``articleBody``), writes ``pages.in.jsonl`` (``muster extract``
input) and turns the labels into ``pages.gold.jsonl``, locating each event's
evidence sentence in the text to fill ``sentence``, ``char_start`` and
``char_end``.

    .venv/bin/python tests/devset/build_pages.py            # (re)write the files
    .venv/bin/python tests/devset/build_pages.py --check    # fail if they are stale
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path

import yaml
from extractors.model import Event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from devset_io import check_flag, dump, write_or_check  # noqa: E402  (sibling module)

HERE = Path(__file__).resolve().parent
PAGES = HERE.parents[1] / ".." / "shared" / "data" / "pages"
LABELS = HERE / "pages_labels.yaml"
OUT_IN = HERE / "pages.in.jsonl"
OUT_GOLD = HERE / "pages.gold.jsonl"

# Gold carries every contract field of the event model except the extractor's own
# provenance; derived, so a field added to the model cannot be silently left out here.
GOLD_FIELDS = tuple(
    f for f in Event.model_fields if f not in {"rule_id", "confidence", "rule_version"}
)
LABEL_ONLY = {"evidence", "note"}
_QUOTE_CLASSES = {
    "'": "['\u2018\u2019]",
    "\u2019": "['\u2018\u2019]",
    "\u2018": "['\u2018\u2019]",
    '"': '["\u201c\u201d]',
    "\u201c": '["\u201c\u201d]',
    "\u201d": '["\u201c\u201d]',
}


@cache
def _zyte() -> dict:
    return json.loads((PAGES / "zyte" / "ground-truth.json").read_text(encoding="utf-8"))


def page_text(source: dict) -> tuple[str, str | None]:
    """(clean body text, title) of one page, as the shared fixtures give it."""
    if source["dataset"] == "zyte":
        return _zyte()[source["id"]]["articleBody"], None
    folder = PAGES / "fundus" / source["folder"]
    publisher_file = source["file"].rsplit("_", 3)[0] + ".json"
    article = json.loads((folder / publisher_file).read_text(encoding="utf-8"))[
        source["parser_version"]
    ]
    body = article["body"]
    lines = list(body.get("summary", []))
    for section in body.get("sections", []):
        lines += section.get("headline", []) + section.get("paragraphs", [])
    return "\n".join(lines), article.get("title")


def locate(evidence: str, text: str) -> tuple[int, int]:
    """First span of ``evidence`` in ``text``; quote styles and whitespace runs are interchangeable."""
    pattern = "".join(
        _QUOTE_CLASSES.get(ch, r"\s+" if ch.isspace() else re.escape(ch)) for ch in evidence
    )
    match = re.search(pattern, text)
    if not match:
        raise ValueError(f"evidence not found in text: {evidence[:80]!r}")
    return match.start(), match.end()


def gold_event(label: dict, text: str, doc_id: str) -> dict:
    """A full gold event from one label: every contract field, defaults filled, evidence located."""
    unknown = set(label) - set(GOLD_FIELDS) - LABEL_ONLY
    if unknown:
        raise ValueError(f"{doc_id}: unknown label fields {sorted(unknown)}")
    start, end = locate(label["evidence"], text)
    event = {field: label.get(field) for field in GOLD_FIELDS}
    event["status"] = event["status"] or "asserted"
    if event["type"] == "military_deployment" and event["direction"] is None:
        event["direction"] = "deploy"
    event.update(sentence=text[start:end], char_start=start, char_end=end)
    return event


def build() -> tuple[list[dict], list[dict]]:
    """(input records, gold records) of the pages dev set."""
    docs = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    inputs, golds = [], []
    for doc in docs:
        text, title = page_text(doc["source"])
        inputs.append(
            {"doc_id": doc["doc_id"], "text": text, "published": doc["published"], "title": title}
        )
        events = [gold_event(label, text, doc["doc_id"]) for label in doc["events"]]
        # spec: one happening one event, "with the first evidence" -> keep text order
        events.sort(key=lambda e: e["char_start"])
        golds.append(
            {
                "doc_id": doc["doc_id"],
                "events": events,
                "source": {k: v for k, v in doc["source"].items()},
            }
        )
    return inputs, golds


def main() -> int:
    check = check_flag(__doc__)
    inputs, golds = build()
    summary = f"{len(inputs)} pages, {sum(len(g['events']) for g in golds)} gold events"
    return write_or_check({OUT_IN: dump(inputs), OUT_GOLD: dump(golds)}, check, __file__, summary)


if __name__ == "__main__":
    sys.exit(main())
