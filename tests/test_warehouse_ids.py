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
