"""Warehouse loading speed and file size (issue 5): `Warehouse.load_articles` alone.

    uv run python benchmarks/bench_load.py                 # 100,000 events over 20,000 articles
    uv run python benchmarks/bench_load.py --events 20000  # smaller, for a quick look

Records are synthetic but shaped like real ones: each article's text is one of the
14 real dev pages (`tests/devset/pages.in.jsonl`, ~4.4 KB each) with a unique first line
(so every article has its own content hash), its events quote real sentences of that
text with their true offsets, and their slots are drawn with skewed (Zipf-like) weights
from pools of actors, places and dates, so event clusters form as in real data: many small
blocks and a few big ones.  Records are built before the clock starts: what is timed is
`load_articles` (validation of already-built records, ids, Arrow tables, the inserts,
cluster maintenance, COMMIT), nothing upstream of it.

Runs (each prints a row, all go to `benchmarks/results/bench-load-<time>.json`): one
batch of everything, then batches of the pipeline's size (50) with the connection held:
fresh, the same records again (must write nothing), 10 % of the articles changed.  Last,
a fresh load in batches that opens and closes the file per batch, as
`flows/pipeline.process_batch` does (closing checkpoints the batch into the file).
Then the file size per 10,000 articles after CHECKPOINT, and of its published snapshot.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors.model import EVENT_TYPES, Event  # noqa: E402
from warehouse import ArticleRecord, Warehouse  # noqa: E402

ACTORS = ["RUS", "UKR", "USA", "CHN", "ISR", "IRN", "PRK", "KOR", "TUR", "IND", "PAK", "GBR",
          "FRA", "DEU", "POL", "SYR", "LBN", "YEM", "SAU", "TWN", "JPN", "BLR", "SDN", "ETH"]
PLACES = ["Kyiv", "Kharkiv", "Donetsk", "Gaza", "Beirut", "Tehran", "Taipei", "Seoul",
          "Pyongyang", "Khartoum", "Aleppo", "Sanaa", "Odesa", "Zaporizhzhia", "Kursk",
          "Belgorod", "Rafah", "Idlib", "Mosul", "Tigray", "Crimea", "Baltic Sea",
          "South China Sea", "Red Sea", "Black Sea"] + [f"Town {i}" for i in range(400)]
UNITS = {"military_deployment": "troops", "casualties": "killed", "arms_transfer": "units"}


def _zipf(rng: random.Random, pool: list[str], s: float = 1.1) -> str:
    """A skewed draw: the first items of the pool are much more common (as in real news)."""
    weights = _zipf.cache.get((len(pool), s))  # type: ignore[attr-defined]
    if weights is None:
        weights = [1 / (i + 1) ** s for i in range(len(pool))]
        _zipf.cache[(len(pool), s)] = weights  # type: ignore[attr-defined]
    return rng.choices(pool, weights)[0]


_zipf.cache = {}  # type: ignore[attr-defined]


def load_texts() -> list[str]:
    """The 14 real dev pages' cleaned texts."""
    path = ROOT / "tests" / "devset" / "pages.in.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]


def make_event(rng: random.Random, sentences: list[tuple[int, int, str]], offset: int,
               recent: list[Event]) -> Event:
    """One event with realistic slots, quoting a real sentence at its real offset.

    40 % re-report a recent happening (same slots, date within a few days, the
    quantity perhaps rounded), as other outlets do: these form multi-article clusters.
    """
    start, end, sentence = rng.choice(sentences)
    if recent and rng.random() < 0.4:
        old = rng.choice(recent)
        day = date.fromisoformat(old.date) + timedelta(days=rng.randrange(-3, 4)) if old.date else None
        q = old.quantity
        return old.model_copy(update={
            "date": day.isoformat() if day else None, "sentence": sentence,
            "char_start": start + offset, "char_end": end + offset,
            "quantity": round(q * rng.choice([1, 1, 1.05, 0.9])) if q else q,
            "status": rng.choice(["asserted", "reported", "claimed"])})
    etype = rng.choice(EVENT_TYPES)
    actor = _zipf(rng, ACTORS)
    target = _zipf(rng, ACTORS) if rng.random() < 0.5 else None
    day = date(2025, 1, 1) + timedelta(days=rng.randrange(700))
    unit = UNITS.get(etype)
    quantity = rng.choice([100, 500, 1000, 2000, 5000, 10000]) if unit and rng.random() < .7 else None
    return Event(
        type=etype, actor=actor, actor_name=actor.title(), target=target,
        location=_zipf(rng, PLACES) if rng.random() < 0.8 else None, location_country=actor,
        quantity=quantity, unit=unit if quantity else None,
        quantity_qualifier=rng.choice(["exact", "approx", "lower"]) if quantity else None,
        weapon_class="missile" if etype in ("weapons_test", "attack") else None,
        weapon_name=None, direction="deploy" if etype == "military_deployment" else None,
        date=day.isoformat() if rng.random() < 0.8 else None,
        date_precision="day", status=rng.choice(["asserted", "reported", "claimed"]),
        attributed_to=None, sentence=sentence, char_start=start + offset,
        char_end=end + offset, rule_id=f"{etype}.r{rng.randrange(5)}",
        confidence=round(rng.uniform(0.4, 0.95), 2), rule_version=1,
    )


def build_records(n_articles: int, n_events: int, seed: int = 5,
                  version: str = "bench-v1") -> list[ArticleRecord]:
    """`n_articles` records carrying `n_events` events in total (1-9 per article)."""
    rng = random.Random(seed)
    texts = load_texts()
    splits = [[(m.start(), m.end(), m.group()) for m in re.finditer(r"[^.\n]{40,}[.]", t)]
              for t in texts]
    per = [1] * n_articles
    for _ in range(n_events - n_articles):
        per[rng.randrange(n_articles)] += 1
    records = []
    recent: list[Event] = []
    base = datetime(2025, 1, 1)
    for i in range(n_articles):
        k = i % len(texts)
        head = f"Report {i} from the bench wire.\n"
        fetched = base + timedelta(minutes=50 * i)
        events = [make_event(rng, splits[k], len(head), recent) for _ in range(per[i])]
        recent = (recent + events)[-2000:]
        records.append(ArticleRecord(
            url=f"https://news{i % 40}.example/2025/{i}.html", feed=f"feed{i % 40}",
            title=f"Bench article {i}", author="Bench Desk", published=fetched.date(),
            fetched_at=fetched, language="en", text=head + texts[k],
            extractor_version=version,
            events=events,
        ))
    return records


def changed(records: list[ArticleRecord], share: float, seed: int = 7) -> list[ArticleRecord]:
    """The same records with `share` of them given new text and one event dropped and added."""
    rng = random.Random(seed)
    out = list(records)
    for i in rng.sample(range(len(records)), int(len(records) * share)):
        r = records[i]
        evs = list(r.events[1:]) + [r.events[0].model_copy(update={"char_start": 1,
                                                                   "char_end": 2})]
        out[i] = r.model_copy(update={"text": r.text + "\nUpdated.", "content_hash": None,
                                      "events": evs})
        out[i] = ArticleRecord.model_validate(out[i].model_dump())  # re-derive content_hash
    return out


def timed_load(db: Path, records: list[ArticleRecord], batch: int, *,
               per_batch_open: bool) -> dict:
    """Load `records` in slices of `batch`: wall and CPU time (opening and closing the file
    included, and closing checkpoints), the part spent inside `load_articles`, and counts."""
    totals: dict[str, int] = {}
    inside = 0.0

    def load(wh: Warehouse, part: list[ArticleRecord]) -> None:
        nonlocal inside
        t = time.perf_counter()
        counts = wh.load_articles(part)
        inside += time.perf_counter() - t
        _add(totals, counts)

    wall, cpu = time.perf_counter(), time.process_time()
    if per_batch_open:
        for i in range(0, len(records), batch):
            with Warehouse(db) as wh:
                load(wh, records[i:i + batch])
    else:
        with Warehouse(db, hold_connection=True) as wh:
            for i in range(0, len(records), batch):
                load(wh, records[i:i + batch])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "in_load_s": round(inside, 3),
            **totals}


def duckdb_floor(db: Path, records: list[ArticleRecord]) -> dict:
    """What DuckDB alone needs: insert ready-made Arrow tables, COMMIT, close (no clusters)."""
    import duckdb

    from warehouse.arrow_rows import insert_table, records_to_tables

    articles, events, _ = records_to_tables([(r.article_id, r) for r in records])
    wall, cpu = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(db))
    con.execute("BEGIN")
    insert_table(con, "articles", articles)
    insert_table(con, "events", events)
    con.execute("COMMIT")
    con.close()
    return {"wall_s": round(time.perf_counter() - wall, 3),
            "cpu_s": round(time.process_time() - cpu, 3), "events": events.num_rows}


def _add(totals: dict[str, int], counts: object) -> None:
    for name in ("articles_new", "articles_updated", "articles_unchanged", "events_written",
                 "events_deleted"):
        totals[name] = totals.get(name, 0) + getattr(counts, name)


def table_counts(db: Path) -> dict[str, int]:
    with Warehouse(db) as wh:
        return wh.counts()


def fresh(tmp: Path, name: str) -> Path:
    """A new file with the schema already created (schema creation is not loading)."""
    db = tmp / f"{name}.duckdb"
    with Warehouse(db):
        pass
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--articles", type=int, default=None, help="default: events / 5")
    ap.add_argument("--batch-size", type=int, default=50, help="the pipeline's default: 50")
    ap.add_argument("--size-articles", type=int, default=10_000)
    ap.add_argument("--keep", action="store_true", help="keep the database files")
    args = ap.parse_args()
    n_articles = args.articles or args.events // 5
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    t = time.perf_counter()
    records = build_records(n_articles, args.events)
    text_mb = sum(len(r.text.encode()) for r in records) / 1e6
    print(f"built {len(records)} records, {args.events} events, {text_mb:.1f} MB text "
          f"in {time.perf_counter() - t:.1f} s (not timed below)")
    rows: list[tuple[str, dict]] = []

    def run(label: str, db: Path, recs: list[ArticleRecord], batch: int, per_open: bool) -> dict:
        res = timed_load(db, recs, batch, per_batch_open=per_open)
        rows.append((label, res))
        print(f"{label:<46} {res['wall_s']:>7.2f} s {res['cpu_s']:>7.2f} CPU s "
              f"{res['in_load_s']:>7.2f} s in load  "
              f"new {res['articles_new']:>6} upd {res['articles_updated']:>5} "
              f"same {res['articles_unchanged']:>6} ev+ {res['events_written']:>6} "
              f"ev- {res['events_deleted']:>5}", flush=True)
        return res

    floor = duckdb_floor(fresh(tmp, "floor"), records)
    print(f"{'DuckDB alone: Arrow tables -> INSERT, COMMIT':<46} {floor['wall_s']:>7.2f} s "
          f"{floor['cpu_s']:>7.2f} CPU s", flush=True)
    one = fresh(tmp, "one")
    run("fresh, one batch", one, records, len(records), False)
    before = table_counts(one)
    run("same records again, one batch (no-op)", one, records, len(records), False)
    assert table_counts(one) == before, "a re-load changed row counts"
    ten = changed(records, 0.10)
    run("10% of articles changed, one batch", one, ten, len(records), False)
    b = args.batch_size
    held = fresh(tmp, "held")
    run(f"fresh, batches of {b}, connection held", held, records, b, False)
    run(f"same records again, batches of {b}, held", held, records, b, False)
    run(f"10% changed, batches of {b}, held", held, ten, b, False)
    assert table_counts(one) == table_counts(held), "batched and one-batch loads differ"
    opened = fresh(tmp, "opened")
    run(f"fresh, batches of {b}, open+close per batch", opened, records, b, True)

    # size per 10,000 articles: realistic ~5 events each, file after CHECKPOINT + snapshot
    n = args.size_articles
    sized = fresh(tmp, "size")
    size_recs = build_records(n, n * 5, seed=11)
    with Warehouse(sized, hold_connection=True) as wh:
        for i in range(0, n, 1000):
            wh.load_articles(size_recs[i:i + 1000])
        snap = wh.publish_snapshot()  # CHECKPOINTs the live file first
        counts = wh.counts()
    size = {"articles": n, "events": counts["events"], "clusters": counts["event_clusters"],
            "text_mb": round(sum(len(r.text.encode()) for r in size_recs) / 1e6, 1),
            "file_mb": round(sized.stat().st_size / 1e6, 1),
            "snapshot_mb": round(snap.stat().st_size / 1e6, 1)}
    print(f"size: {size}")

    import duckdb
    out = {"when": datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "events": args.events,
           "articles": n_articles, "text_mb": round(text_mb, 1), "batch_size": b,
           "duckdb": duckdb.__version__, "loadavg": os.getloadavg(), "cpus": os.cpu_count(),
           "runs": dict(rows), "duckdb_floor": floor, "size_per_10k": size}
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"bench-load-{out['when'].replace('-', '').replace(':', '')}.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path}")
    if args.keep:
        print(f"databases kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
