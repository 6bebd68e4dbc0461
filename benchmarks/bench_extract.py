"""Extraction throughput in MB/s of clean text over real pages.

Cleans ../shared/data/pages/zyte/html/*.html.gz (and the English fundus pages)
with trafilatura once, then times ``extractors.extract`` alone over that text
for a few rounds on one core.  Target: >= 1 MB/s per core.

    .venv/bin/python benchmarks/bench_extract.py [--rounds 3] [--pages DIR ...]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors import extract  # noqa: E402
from extractors.loader import load_ruleset  # noqa: E402

DEFAULT_PAGES = [ROOT.parent / "shared" / "data" / "pages" / "zyte" / "html"]


def clean_texts(dirs: list[Path], limit: int | None) -> list[str]:
    """Article text of every page (trafilatura), skipping pages with none."""
    import trafilatura

    texts: list[str] = []
    for d in dirs:
        for path in sorted(d.rglob("*.html.gz"))[:limit]:
            try:
                html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
            except OSError:
                continue
            text = trafilatura.extract(html, include_comments=False, include_tables=False)
            if text and len(text) > 200:
                texts.append(text)
    return texts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=int, default=None, help="max pages per folder")
    ap.add_argument("--pages", type=Path, nargs="*", default=DEFAULT_PAGES)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    ruleset = load_ruleset(ROOT / "configs")
    t_compile = time.perf_counter() - t0
    texts = clean_texts(args.pages, args.limit)
    size_mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    if not texts:
        print("no pages found", file=sys.stderr)
        return 1
    best = best_cpu = float("inf")
    n_events = 0
    for _ in range(args.rounds):
        t, c = time.perf_counter(), time.process_time()
        n_events = sum(len(extract(text, None, ruleset)) for text in texts)
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    print(f"ruleset {ruleset.version}: compiled in {t_compile:.2f}s")
    print(f"{len(texts)} pages, {size_mb:.2f} MB clean text, {n_events} events")
    print(f"best of {args.rounds}: wall {best:.2f}s -> {size_mb / best:.2f} MB/s; "
          f"CPU {best_cpu:.2f}s -> {size_mb / best_cpu:.2f} MB/s per core")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
