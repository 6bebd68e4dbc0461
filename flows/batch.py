"""Batch extraction over JSONL (``muster extract`` / ``muster eval``), no DB, no network.

A bad input line is reported on stderr with its line number and still gets an
output line (``events: []`` plus an ``error`` field), so the output stays
aligned one-to-one with the input as the event contract requires.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from extractors import RuleSet, extract
from extractors.model import Document
from pydantic import ValidationError


def parse_published(value: str | None) -> dt.date | None:
    """The publication date of a document, tolerant of full timestamps."""
    if not value:
        return None
    return dt.date.fromisoformat(str(value)[:10])


def extract_document(doc: Document, ruleset: RuleSet) -> list[dict[str, Any]]:
    """Events of one document as JSON-ready dicts."""
    events = extract(doc.text, parse_published(doc.published), ruleset, title=doc.title)
    return [e.model_dump(mode="json") for e in events]


def _parse_line(line: str) -> Document:
    if any("\udc80" <= ch <= "\udcff" for ch in line):  # undecodable bytes (surrogateescape)
        raise ValueError("the line is not valid UTF-8")
    try:
        data = json.loads(line)
    except RecursionError as exc:  # "[[[[..." deeper than Python's recursion limit
        raise ValueError("JSON nested too deeply") from exc
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    doc = Document.model_validate(data)
    parse_published(doc.published)
    return doc


def extract_jsonl(
    lines: Iterable[str], ruleset: RuleSet, sink: IO[str], err_write: Callable[[str], Any]
) -> int:
    """Write one output line per input line; return how many lines were bad."""
    bad = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = _parse_line(line)
        except (ValueError, ValidationError) as exc:
            bad += 1
            reason = str(exc).splitlines()[0]
            err_write(f"line {number}: {reason}\n")
            sink.write(json.dumps({"doc_id": _doc_id_of(line), "events": [], "error": reason}) + "\n")
            continue
        sink.write(json.dumps({"doc_id": doc.doc_id, "events": extract_document(doc, ruleset)}) + "\n")
    return bad


def _doc_id_of(line: str) -> str | None:
    try:
        value = json.loads(line)
        return str(value["doc_id"]) if isinstance(value, dict) and "doc_id" in value else None
    except (ValueError, RecursionError):
        return None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every JSON object of a file; a bad line is an error naming the file and line."""
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError as exc:
                    raise ValueError(f"{path}, line {number}: {exc}") from exc
    return records


def extract_records(docs: Iterable[dict[str, Any]], ruleset: RuleSet) -> list[dict[str, Any]]:
    """Predictions for a list of input records (used by ``muster eval``)."""
    return [
        {"doc_id": d["doc_id"], "events": extract_document(Document.model_validate(d), ruleset)}
        for d in docs
    ]
