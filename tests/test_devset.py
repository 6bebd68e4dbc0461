"""Validation of the development set in tests/devset/ (data checks only, no extraction scores).

Every gold line must carry Event-contract fields with valid values (a gold slot may be a list of
acceptable values), every gold document must match an input document, and evidence offsets must
lie inside the text.  The build scripts must reproduce the committed files from ../shared.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from typing import Any

import pycountry
import pytest
from pydantic import TypeAdapter, ValidationError

from extractors.model import EVENT_TYPES, Document, Event

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "tests" / "devset"
SHARED = ROOT / ".." / "shared"
PARTS = ("plover", "pages", "weapons", "headlines")
# Fields a gold event may carry: the contract minus the extractor's own provenance.
GOLD_FIELDS = set(Event.model_fields) - {"rule_id", "confidence", "rule_version"}
LISTABLE = GOLD_FIELDS - {"type", "sentence", "char_start", "char_end"}
COUNTRY_FIELDS = ("actor", "target", "location_country")
EXTRA_STATES = {"PSE", "SUN"}  # spec: Palestine, the Soviet Union


def read_jsonl(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _is_state(code: Any) -> bool:
    return isinstance(code, str) and (
        code in EXTRA_STATES or pycountry.countries.get(alpha_3=code) is not None
    )


def event_problems(event: dict, text: str) -> list[str]:
    """Everything wrong with one gold event (empty list = valid)."""
    problems = []
    unknown = set(event) - GOLD_FIELDS
    if unknown:
        problems.append(f"unknown fields {sorted(unknown)}")
    if event.get("type") not in EVENT_TYPES:
        problems.append(f"bad type {event.get('type')!r}")
    for field in sorted(set(event) & GOLD_FIELDS - {"type"}):
        value = event[field]
        alternatives = value if isinstance(value, list) else [value]
        if isinstance(value, list) and (field not in LISTABLE or not value):
            problems.append(f"{field}: a list is not allowed here or is empty")
            continue
        adapter = TypeAdapter(Event.model_fields[field].annotation)
        for alt in alternatives:
            if isinstance(alt, list):
                problems.append(f"{field}: nested list")
                continue
            try:
                adapter.validate_python(alt, strict=field in ("quantity", "char_start", "char_end"))
            except ValidationError as err:
                problems.append(f"{field}={alt!r}: {err.errors()[0]['msg']}")
            if field in COUNTRY_FIELDS and alt is not None and not _is_state(alt):
                problems.append(f"{field}={alt!r} is not an ISO 3166-1 alpha-3 state code")
            if field == "date" and alt is not None:
                try:
                    dt.date.fromisoformat(alt)
                except (TypeError, ValueError):
                    problems.append(f"date={alt!r} is not YYYY-MM-DD")
    if "status" not in event:
        problems.append("status missing")
    if bool(event.get("date")) != bool(event.get("date_precision")):
        problems.append("date and date_precision must be given together")
    if event.get("quantity") is not None and not event.get("unit"):
        problems.append("quantity without unit")
    if event.get("direction") is not None and event.get("type") != "military_deployment":
        problems.append("direction is for deployments only")
    start, end = event.get("char_start"), event.get("char_end")
    if (start is None) != (end is None):
        problems.append("char_start and char_end must be given together")
    elif start is not None:
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            problems.append(f"offsets {start}..{end} outside the text (length {len(text)})")
        elif event.get("sentence") is not None and text[start:end] != event["sentence"]:
            problems.append("sentence is not the text at char_start..char_end")
    return problems


def record_problems(inputs: list[dict], golds: list[dict]) -> list[str]:
    """Everything wrong with one input/gold pair of files."""
    problems = []
    texts: dict[str, str] = {}
    for n, record in enumerate(inputs, 1):
        try:
            doc = Document.model_validate(record)
        except ValidationError as err:
            problems.append(f"input line {n}: {err.errors()[0]['msg']}")
            continue
        if doc.doc_id in texts:
            problems.append(f"input line {n}: duplicate doc_id {doc.doc_id}")
        if doc.published is not None:
            try:
                dt.date.fromisoformat(doc.published)
            except ValueError:
                problems.append(f"input line {n}: published {doc.published!r} is not YYYY-MM-DD")
        texts[doc.doc_id] = doc.text
    gold_ids = [g.get("doc_id") for g in golds]
    if gold_ids != list(texts):
        problems.append("gold doc_ids differ from the input doc_ids (or their order)")
    for n, gold in enumerate(golds, 1):
        if not isinstance(gold.get("events"), list):
            problems.append(f"gold line {n}: events is not a list")
            continue
        text = texts.get(gold.get("doc_id"), "")
        for i, event in enumerate(gold["events"]):
            problems += [
                f"gold line {n} ({gold.get('doc_id')}) event {i}: {p}"
                for p in event_problems(event, text)
            ]
    return problems


@pytest.mark.parametrize("part", PARTS)
def test_devset_part_is_valid(part: str):
    inputs = read_jsonl(DEVSET / f"{part}.in.jsonl")
    golds = read_jsonl(DEVSET / f"{part}.gold.jsonl")
    assert inputs and golds
    assert record_problems(inputs, golds) == []


def test_doc_ids_unique_across_devset():
    ids = [r["doc_id"] for part in PARTS for r in read_jsonl(DEVSET / f"{part}.in.jsonl")]
    assert len(ids) == len(set(ids))


def test_devset_covers_negatives_and_most_types():
    golds = [g for part in PARTS for g in read_jsonl(DEVSET / f"{part}.gold.jsonl")]
    assert sum(1 for g in golds if not g["events"]) >= 50  # documents with nothing to find
    types = {e["type"] for g in golds for e in g["events"]}
    assert {"attack", "casualties", "military_deployment", "agreement", "condemnation"} <= types


def test_pages_keep_source_attribution():
    for gold in read_jsonl(DEVSET / "pages.gold.jsonl"):
        assert gold["source"]["url"].startswith("http") and gold["source"]["publisher"]


def test_weapons_part_holds_real_tests_unveilings_and_look_alikes():
    """The part exists because no other source has a real weapons test or unveiling."""
    golds = read_jsonl(DEVSET / "weapons.gold.jsonl")
    types = [e["type"] for g in golds for e in g["events"]]
    assert types.count("weapons_test") >= 15 and types.count("weapons_unveiling") >= 10
    assert sum(1 for g in golds if not g["events"]) >= 10  # look-alikes that must yield nothing
    assert all(g["source"]["url"].startswith("http") for g in golds)


@pytest.mark.skipif(
    not (SHARED / "spec" / "seed-article.gold.jsonl").exists(), reason="no ../shared"
)
def test_seed_gold_passes_the_same_validation():
    inputs = read_jsonl(SHARED / "spec" / "seed-article.in.jsonl")
    golds = read_jsonl(SHARED / "spec" / "seed-article.gold.jsonl")
    assert record_problems(inputs, golds) == []


def test_headlines_part_holds_wire_items_and_look_alikes():
    """Headline + one lead sentence; every item names its source (a report or a shared page)."""
    inputs = read_jsonl(DEVSET / "headlines.in.jsonl")
    golds = read_jsonl(DEVSET / "headlines.gold.jsonl")
    assert len(inputs) >= 40 and sum(len(g["events"]) for g in golds) >= 40
    assert sum(1 for g in golds if not g["events"]) >= 12  # look-alikes that must yield nothing
    for rec, gold in zip(inputs, golds):
        assert rec["title"] == rec["text"].split("\n", 1)[0] and rec["text"].count("\n") == 1
        src = gold["source"]
        assert src.get("url", "").startswith("http") or src.get("page") or src.get("constructed")


def _check_script(script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location(script[:-3], DEVSET / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr("sys.argv", [script, "--check"])
    assert module.main() == 0, f"run tests/devset/{script} to refresh the generated files"


@pytest.mark.parametrize("script", ["build_weapons.py", "build_headlines.py"])
def test_self_contained_files_match_their_build_scripts(script: str, monkeypatch):
    """These build scripts need no ../shared: their passages live in their *_labels.yaml."""
    _check_script(script, monkeypatch)


@pytest.mark.skipif(not (SHARED / "data" / "pages").exists(), reason="no ../shared")
@pytest.mark.parametrize("script", ["build_plover.py", "build_pages.py"])
def test_committed_files_match_build_scripts(script: str, monkeypatch):
    _check_script(script, monkeypatch)


# ------------------------------------------------------------ the validator itself can fail
GOOD = {
    "type": "attack",
    "actor": "RUS",
    "status": "asserted",
    "location": ["Kyiv", "Kiev"],
    "sentence": "Russia hit Kyiv.",
    "char_start": 0,
    "char_end": 16,
}
TEXT = "Russia hit Kyiv. More text."


def test_validator_accepts_a_good_event():
    assert event_problems(GOOD, TEXT) == []


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"type": "bombing"}, "bad type"),
        ({"actor": "Russia"}, "alpha-3"),
        ({"target": "XXX"}, "alpha-3"),
        ({"unit": "people"}, "unit="),
        ({"status": "rumoured"}, "status="),
        ({"quantity": "12000", "unit": "troops"}, "quantity="),
        ({"quantity": 5}, "quantity without unit"),
        ({"date": "2024-13-01", "date_precision": "day"}, "not YYYY-MM-DD"),
        ({"date": "2024-06-01"}, "together"),
        ({"direction": "withdraw"}, "deployments only"),
        ({"char_end": 99}, "outside the text"),
        ({"char_start": 1}, "sentence is not the text"),
        ({"type": ["attack"]}, "bad type"),
        ({"location": []}, "empty"),
        ({"rule": "x"}, "unknown fields"),
    ],
)
def test_validator_rejects_bad_events(change: dict, fragment: str):
    problems = event_problems({**GOOD, **change}, TEXT)
    assert any(fragment in p for p in problems), problems


def test_record_validator_rejects_mismatched_doc_ids():
    inputs = [{"doc_id": "a", "text": TEXT, "published": None}]
    assert record_problems(inputs, [{"doc_id": "b", "events": []}])
    assert record_problems(inputs, [{"doc_id": "a", "events": [dict(GOOD, char_end=500)]}])
    assert not record_problems(inputs, [{"doc_id": "a", "events": [GOOD]}])
    assert record_problems(inputs + inputs, [{"doc_id": "a", "events": []}] * 2)
