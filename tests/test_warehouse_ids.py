"""Ids are content-derived and identical in every process (no salted hash())."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from extractors.model import Event
from warehouse.ids import ID_LENGTH, article_id, event_id

ROOT = Path(__file__).resolve().parent.parent
EVENT = {"type": "military_deployment", "actor": "PRK", "target": "RUS", "location": "Kursk",
         "quantity": 12000, "unit": "troops", "sentence": "s", "char_start": 0, "char_end": 10,
         "rule_id": "r"}
URL = "https://www.nytimes.com/2025/04/26/world/asia/north-korea-russia-troops.html"


def test_article_id_is_sha256_prefix() -> None:
    import hashlib

    assert article_id(URL) == hashlib.sha256(URL.encode()).hexdigest()[:16]
    assert len(article_id(URL)) == ID_LENGTH == 16
    assert article_id(URL) != article_id(URL + "?x=1")


def test_event_id_depends_on_key_slots_only() -> None:
    base = Event.model_validate(EVENT)
    aid = article_id(URL)
    same = Event.model_validate({**EVENT, "confidence": 0.9, "rule_id": "other", "sentence": "t"})
    assert event_id(aid, base) == event_id(aid, same)
    for change in ({"actor": "KOR"}, {"target": None}, {"location": "Kyiv"}, {"quantity": 3000},
                   {"unit": "units"}, {"char_start": 1}, {"type": "attack"}):
        assert event_id(aid, Event.model_validate({**EVENT, **change})) != event_id(aid, base), change
    assert event_id(article_id(URL + "/2"), base) != event_id(aid, base)


def test_ids_identical_across_processes() -> None:
    code = ("import json,sys; from extractors.model import Event; from warehouse.ids import *; "
            "e=Event.model_validate(json.loads(sys.argv[1])); a=article_id(sys.argv[2]); "
            "print(a, event_id(a, e))")
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code, json.dumps(EVENT), URL], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=60, check=True)
        outputs.add(out.stdout.strip())
    here = f"{article_id(URL)} {event_id(article_id(URL), Event.model_validate(EVENT))}"
    assert outputs == {here}


def test_ids_are_pinned() -> None:
    """Changing the id recipe orphans every stored id; this must be a deliberate migration."""
    aid = article_id(URL)
    assert (aid, event_id(aid, Event.model_validate(EVENT))) == PINNED


PINNED = ("7bdfac75bb352b9e", "b419019fe50ba1da")


def test_fast_ids_equal_the_reference_recipe() -> None:
    """The loader's hand-built JSON (rows.fast_event_id, clusters.cluster_id) is byte-identical."""
    import hashlib

    from warehouse.clusters import cluster_id
    from warehouse.rows import fast_event_id

    awkward = ['Kharkiv "city"', "back\\slash", "tab\tnew\nline\x01", "Zaporizhzhia – Запоріжжя",
               "Tōkyō 東京 \u2028", "emoji 🚀", "", "/slash/"]
    for n, text in enumerate(awkward):
        event = Event.model_validate({**EVENT, "actor": text, "location": text or None,
                                      "quantity": [None, 0, 10**15][n % 3], "char_start": n})
        aid = article_id(URL + text)
        assert fast_event_id(aid, event.__dict__) == event_id(aid, event), text
        block = (event.type, text, "", text.lower())
        reference = json.dumps(["cluster", *block, "e1"], separators=(",", ":"))
        assert cluster_id(block, "e1") == hashlib.sha256(reference.encode()).hexdigest()[:16]


def test_arrow_event_table_equals_the_row_path() -> None:
    """The bulk load's Arrow columns (`event_table`) hold the same values as `event_columns`
    (used row-wise by re-extraction): ids, kept-once duplicates, NULLed non-ISO dates."""
    from datetime import date, datetime

    from warehouse.arrow_rows import EVENT_COLUMNS, event_table, table_from_columns
    from warehouse.records import LoadCounts
    from warehouse.rows import event_columns

    base = Event.model_validate(EVENT)
    events = [base, base.model_copy(update={"sentence": "dup"}),  # same id: kept once
              base.model_copy(update={"char_start": 5, "date": "2025-04",
                                      "date_precision": "month"}),
              base.model_copy(update={"char_start": 6, "date": "spring 2025"}),  # not ISO
              base.model_copy(update={"char_start": 7, "actor": None, "quantity": None})]
    stamp = datetime(2025, 5, 1, 12, 30)
    items = [(article_id(URL), "u1", events, "v1", stamp), (article_id(URL + "2"), "u2", events[:2],
                                                            "v2", stamp)]
    a_counts, l_counts = LoadCounts(), LoadCounts()
    arrow = event_table(items, a_counts)
    lists = table_from_columns(EVENT_COLUMNS, event_columns(items, l_counts))
    assert arrow.num_rows == 5 and arrow.equals(lists)
    assert a_counts == l_counts and a_counts.events_duplicate == 2 and len(a_counts.warnings) == 1
    assert arrow.column("date").to_pylist()[1:3] == [date(2025, 4, 1), None]


def test_bulk_ids_equal_the_reference_recipe_on_many_events(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The bulk load hashes ids in DuckDB (`sql_ids`, Python only for strings JSON escapes);
    over thousands of random events with awkward slots they equal `ids.event_id`."""
    import random
    from datetime import datetime

    from warehouse import sql_ids
    from warehouse.arrow_rows import event_table
    from warehouse.records import LoadCounts
    from warehouse.sql_ids import event_ids

    monkeypatch.setattr(sql_ids, "SQL_MIN_ROWS", 0)  # DuckDB for every batch, however small

    rng = random.Random(11)
    pieces = ["Kyiv", "Kharkiv \"city\"", "back\\slash", "tab\there", "new\nline", "\x00nul",
              "\x1f", "\x7f del", "Запоріжжя", "東京", "🚀", "\u2028", "'quoted'", "", "a/b"]
    base = Event.model_validate(EVENT)
    items = []
    for n in range(400):
        aid = article_id(f"{URL}/{n}" + rng.choice(["", "é", "\"x\""]))
        events = []
        for k in range(rng.randrange(1, 12)):
            def slot() -> str | None:
                return rng.choice([None, *pieces, "".join(rng.sample(pieces, 2))])
            q = rng.choice([None, 0, 1, -5, 12000, 10**15])
            events.append(base.model_copy(update={
                "actor": slot(), "target": slot(), "location": slot(), "quantity": q,
                "unit": slot() if q is not None else None, "char_start": rng.randrange(10**6),
                "type": rng.choice(["attack", "casualties", "agreement"])}))
        items.append((aid, f"u{n}", events, "v1", datetime(2025, 1, 1)))
    table = event_table(items, LoadCounts())
    expected = {event_id(aid, e) for aid, _, evs, _, _ in items for e in evs}
    assert table.num_rows > 2000 and set(table.column("event_id").to_pylist()) == expected
    plain = [(aid, e) for aid, _, evs, _, _ in items for e in evs
             if not any(c in (getattr(e, f) or "") for f in ("actor", "target", "location", "unit")
                        for c in '"\\\x00\x1f\t\n')]
    assert len(plain) > 200  # DuckDB, not the Python fallback, hashed these
    import pyarrow as pa
    keys = pa.table({"article_id": [a for a, _ in plain],
                     **{f: [getattr(e, f) for _, e in plain] for f in
                        ("type", "actor", "target", "location", "quantity", "unit", "char_start")}})
    assert event_ids(keys).to_pylist() == [event_id(a, e) for a, e in plain]
