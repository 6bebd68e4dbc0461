"""Sizing: storage and core-time per article for the DuckDB file and the Parquet layout.

Loads N real-sized articles with their events into a fresh DuckDB warehouse and into a
fresh Parquet directory (`warehouse/parquet_sink.py`), the way the pipeline does (batches
of ``--batch-size``, one open per batch), measures bytes per article and load core-seconds
per article, and extrapolates a table for 1k / 10k / 100k / 1M articles per day.

Why articles are replicated, not invented: size and compressibility come from real text.
Real pages (``../shared/data/pages/``, as ``benchmarks/page_server.py`` serves them) are
cleaned and extracted once; replica k of page i gets "Copy k of page i." at the start of
each paragraph (so text and ids differ, as in the end-to-end harness) and keeps page i's
events. Publication days are spread evenly over ``--days`` days, like a steady feed.

Cleaning and extraction are not re-measured here: their per-article CPU cost comes from
the end-to-end harness (``benchmarks/README.md``, run B at N = 2000) and can be given with
``--clean-ms`` / ``--extract-ms``.

    .venv/bin/python benchmarks/bench_sizing.py               # 10,000 articles
    .venv/bin/python benchmarks/bench_sizing.py --n 2000 --sources 100
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from page_server import load_sources, variant

from extractors import extract
from extractors.loader import load_ruleset
from ingest.clean import clean_html
from warehouse import ArticleRecord, Warehouse
from warehouse.parquet_read import run_readonly_parquet
from warehouse.parquet_sink import ParquetSink
from warehouse.query import run_readonly

# benchmarks/README.md, run B at N = 2000: clean 62.2 s for 2000 pages, extract 11.9 s for
# 1882 articles (one core each).
CLEAN_MS = 62.2 / 2000 * 1000
EXTRACT_MS = 11.9 / 1882 * 1000
RATES = (1_000, 10_000, 100_000, 1_000_000)
QUERY = "SELECT type, count(*) AS n, count(DISTINCT article_id) FROM events GROUP BY type"


def base_articles(n_sources: int | None) -> list[ArticleRecord]:
    """Each real page cleaned (as the pipeline does) and extracted once."""
    ruleset = load_ruleset(ROOT / "configs")
    out: list[ArticleRecord] = []
    for i, html in enumerate(load_sources()[:n_sources or None]):
        url = f"http://127.0.0.1/p/{i}.html"
        art = clean_html(variant(html, 0, i), url).article
        if art is None:
            continue
        out.append(ArticleRecord(
            url=url, feed="bench", title=art.title, author=art.author, published=art.published,
            language=art.language, text=art.text, extractor_version=ruleset.version,
            events=extract(art.text, art.published, ruleset, title=art.title)))
    return out


def replicas(bases: list[ArticleRecord], n: int, days: int) -> list[ArticleRecord]:
    """N distinct articles: base j % len, marked as copy k, published evenly over `days`."""
    start = dt.date(2025, 1, 1)
    per_day = max(1, -(-n // days))
    out = []
    for j in range(n):
        i, k = j % len(bases), j // len(bases)
        b = bases[i]
        text = b.text if k == 0 else "\n".join(
            f"Copy {k} of page {i}. {p}" if len(p) >= 60 else p for p in b.text.split("\n"))
        out.append(b.model_copy(update={
            "url": f"http://127.0.0.1/p/{j}.html", "canonical_url": f"http://127.0.0.1/p/{j}.html",
            "text": text, "content_hash": None,
            "published": start + dt.timedelta(days=j // per_day),
        }))
    return [ArticleRecord.model_validate(r.model_dump()) for r in out]  # fresh content hashes


def _timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(records: list[ArticleRecord], batch: int, work: Path) -> dict[str, dict[str, float]]:
    """Load the same batches into both stores; sizes, core-seconds, and one query each."""
    db, root = work / "muster.duckdb", work / "parquet"
    chunks = [records[i:i + batch] for i in range(0, len(records), batch)]

    def load_duck() -> None:
        for chunk in chunks:
            with Warehouse(db) as wh:
                wh.load_articles(chunk)

    per_batch: list[tuple[int, float]] = []  # (files already in the batch's day, CPU s)

    def load_parquet() -> None:
        sink = ParquetSink(root)
        for chunk in chunks:
            days = {r.published for r in chunk}
            before = sum(len(list((root / "articles" / f"published_date={d}").glob("*.parquet")))
                         for d in days)
            cpu = time.process_time()
            sink.load_articles(chunk)
            per_batch.append((before, time.process_time() - cpu))

    out: dict[str, dict[str, float]] = {}
    for name, load, path, run in (
        ("duckdb", load_duck, db, lambda: run_readonly(db, QUERY)),
        ("parquet", load_parquet, root, lambda: run_readonly_parquet(root, QUERY)),
    ):
        wall, cpu = _timed(load)
        q_wall, _ = _timed(run)
        out[name] = {"load_wall_s": round(wall, 2), "load_cpu_s": round(cpu, 2),
                     "bytes": _du(path), "query_s": round(q_wall, 3),
                     "files": sum(1 for _ in path.rglob("*.parquet")) if path.is_dir() else 1}
    # the text alone, uncompressed, for scale
    out["raw_text_bytes"] = {"bytes": sum(len(r.text.encode()) for r in records)}
    out["parquet_batch_fit"] = fit(per_batch[1:])  # the first batch pays the warm-up
    return out


def fit(points: list[tuple[int, float]]) -> dict[str, float]:
    """Least squares CPU s per batch = a + b * (article files already in its day partition).

    b is the unchanged-lookup's cost per file it has to read; it is what stops the Parquet
    sink from scaling when a day holds very many small files.
    """
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    return {"a_s": round(my - b * mx, 5), "b_s_per_file": round(b, 6), "batches": n,
            "max_files": max(x for x, _ in points)}


def table(n: int, events: int, result: dict[str, dict[str, float]], clean_ms: float,
          extract_ms: float, batch: int) -> str:
    """Markdown: articles/day -> storage per day and year, core-seconds per day by stage.

    DuckDB's load cost is the measured average (it grows with the file; one writer only).
    The Parquet sink's includes the unchanged-lookup's growth with files per day (`parquet_ms`),
    at the measured batch size and at 1,000 articles per batch.
    """
    header = ("| articles/day | events/day | DuckDB file /day, /year | Parquet /day, /year | "
              "clean + extract core-s/day | load core-s/day: DuckDB | Parquet, batches of "
              f"{batch} | Parquet, batches of 1000 |")
    lines = [header, "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    per = {k: result[k]["bytes"] / n for k in ("duckdb", "parquet")}
    duck_ms = result["duckdb"]["load_cpu_s"] / n * 1000
    fit_ = result["parquet_batch_fit"]
    for rate in RATES:
        lines.append(
            f"| {rate:,} | {rate * events / n:,.0f} | {_h(rate * per['duckdb'])}, "
            f"{_h(rate * per['duckdb'] * 365)} | {_h(rate * per['parquet'])}, "
            f"{_h(rate * per['parquet'] * 365)} | {rate * (clean_ms + extract_ms) / 1000:,.0f} | "
            f"{rate * duck_ms / 1000:,.0f} | "
            f"{rate * parquet_ms(fit_, batch, batch, rate) / 1000:,.0f} | "
            f"{rate * parquet_ms(fit_, batch, 1000, rate) / 1000:,.0f} |")
    return "\n".join(lines)


def parquet_ms(f: dict[str, float], measured_batch: int, batch: int, rate: int) -> float:
    """Parquet load core-ms per article at ``rate`` per day in batches of ``batch``.

    The measured fixed part ``a / measured_batch``, plus the unchanged-lookup, which in a
    batch reads on average half a day's article files (``rate / batch / 2``).
    """
    return (f["a_s"] / measured_batch + f["b_s_per_file"] * rate / batch / 2 / batch) * 1000


def _h(b: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if b < 1000:
            return f"{b:.3g} {unit}"
        b /= 1000
    return f"{b:.3g} PB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="articles to load (default 10,000)")
    ap.add_argument("--sources", type=int, default=None,
                    help="real pages to replicate (default: all; keep it above --batch-size so "
                         "no file holds two copies of a page, which would flatter compression)")
    ap.add_argument("--days", type=int, default=10, help="publication days to spread over")
    ap.add_argument("--batch-size", type=int, default=50,
                    help="articles per load (as the pipeline)")
    ap.add_argument("--clean-ms", type=float, default=CLEAN_MS, help="clean CPU ms per article")
    ap.add_argument("--extract-ms", type=float, default=EXTRACT_MS,
                    help="extract CPU ms per article")
    ap.add_argument("--keep", action="store_true", help="keep the files (printed)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    bases = base_articles(args.sources)
    prep_s = time.perf_counter() - t0
    records = replicas(bases, args.n, args.days)
    events = sum(len(r.events) for r in records)
    work = Path(tempfile.mkdtemp(prefix="muster-sizing-"))
    try:
        result = measure(records, args.batch_size, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    n = len(records)
    summary = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "load_avg": os.getloadavg()},
        "n": n, "events": events, "sources": len(bases), "days": args.days,
        "batch_size": args.batch_size, "prep_clean_extract_s": round(prep_s, 1),
        "clean_ms": args.clean_ms, "extract_ms": args.extract_ms, "result": result,
    }
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"sizing-N{n}-{summary['when'].replace(':', '').replace('-', '')}.json"
    path.write_text(json.dumps(summary, indent=1))
    print(f"{n} articles ({len(bases)} real pages replicated), {events} events, "
          f"batches of {args.batch_size}, {args.days} publication days; load avg {os.getloadavg()}")
    for k in ("duckdb", "parquet"):
        r = result[k]
        print(f"{k:8} {_h(r['bytes']):>9} = {r['bytes'] / n:,.0f} B/article, "
              f"load {r['load_wall_s']} s wall / {r['load_cpu_s']} s CPU "
              f"({r['load_cpu_s'] / n * 1000:.2f} core-ms/article), {int(r['files'])} files, "
              f"query {r['query_s']} s")
    print(f"raw text {_h(result['raw_text_bytes']['bytes'])}")
    f = result["parquet_batch_fit"]
    print(f"parquet CPU per batch = {f['a_s'] * 1000:.1f} ms + {f['b_s_per_file'] * 1000:.2f} ms "
          f"per article file already in the batch's day (up to {f['max_files']} here)")
    print(table(n, events, result, args.clean_ms, args.extract_ms, args.batch_size))
    print(f"wrote {path}" + (f"; files in {work}" if args.keep else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
