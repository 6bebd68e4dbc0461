"""Muster's end-to-end benchmark (issue 7): A, B, C, D, extraction, loading, peak RSS.

One command, on one machine, against N real pages served from 127.0.0.1:

    uv run python benchmarks/run.py                    # N = 500 and 2000, plus peak RSS(2000) / RSS(500)
    uv run python benchmarks/run.py --n 500            # everything, N = 500 only
    uv run python benchmarks/run.py --n 2000 --only B  # just B (and its peak RSS) at N = 2000
    uv run python benchmarks/run.py --n 2000 --only A,B,D --repeat 3  # medians of 3 rounds

- A: one process, a plain loop of ``trafilatura.extract`` over the exact bytes served;
- B0: ``muster run`` against an empty feed (interpreter, imports, Prefect client start-up);
- E: B0 in Prefect's ephemeral mode (no ``PREFECT_API_URL``): ephemeral start-up cost;
- B: ``muster run`` end to end (subprocess, fresh database), against a long-lived local
  Prefect server this harness starts (``--prefect ephemeral`` for ephemeral mode);
- C: B again against the unchanged server (conditional GETs, seen-article skipping);
- D: the same pipeline steps without Prefect (``benchmarks/plain_pipeline.py``, subprocess);
- X: ``extractors.extract`` alone over A's clean text (MB/s, one core);
- L: ``Warehouse.load_articles`` alone (events/s, batches of ``batch_size``).

The page server is its own process (``benchmarks/page_server.py``) so its Python never
shares a GIL with what is measured.  Peak RSS is the peak of the *sum* over the measured
process and its descendants (Prefect's ephemeral server is a subprocess), polled from
/proc every 50 ms.  Writes ``benchmarks/results/bench-N<n>-<time>.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import page_server  # noqa: E402
from procs import run_measured, start_prefect_server, stop_group  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
MUSTER = [sys.executable, "-m", "flows"]
TARGETS = {
    "B/A": 0.65,   # B <= 0.65 x A
    "C/B": 0.05,   # C <= 0.05 x B
    "B/D": 1.10,   # Prefect adds at most 10 %
    "RSS2000/RSS500": 1.3,
}


def db_counts(db: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "articles": con.execute("SELECT count(*) FROM articles").fetchone()[0],
            "events": con.execute("SELECT count(*) FROM events").fetchone()[0],
        }
    finally:
        con.close()


# -- the in-process measurements -------------------------------------------------------------
def measure_a(bodies: list[bytes]) -> tuple[dict, list[str]]:
    """A: trafilatura.extract (defaults) over every served body, one process, one core."""
    import trafilatura

    texts: list[str] = []
    t, c = time.perf_counter(), time.process_time()
    for body in bodies:
        text = trafilatura.extract(body)
        if text:
            texts.append(text)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    mb_in = sum(map(len, bodies)) / 1e6
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 2), "pages": len(bodies),
            "with_text": len(texts), "html_mb": round(mb_in, 2),
            "pages_per_s": round(len(bodies) / wall, 1)}, texts


def measure_extract(texts: list[str]) -> tuple[dict, list]:
    """X: extractors.extract alone over clean text (MB/s of text, one core)."""
    from extractors import extract
    from extractors.loader import load_ruleset

    ruleset = load_ruleset(ROOT / "configs")
    t, c = time.perf_counter(), time.process_time()
    events = [extract(text, None, ruleset) for text in texts]
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    mb = sum(len(x.encode("utf-8")) for x in texts) / 1e6
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 2), "text_mb": round(mb, 2),
            "mb_per_s": round(mb / wall, 2), "events": sum(map(len, events))}, [ruleset, events]


def measure_load(texts: list[str], ruleset_events: list, batch_size: int, tmp: Path) -> dict:
    """L: Warehouse.load_articles alone into a fresh file, in batches like the pipeline."""
    from warehouse import ArticleRecord, Warehouse

    ruleset, events = ruleset_events
    records = [
        ArticleRecord(url=f"http://bench.invalid/a/{j}", feed="bench", text=text,
                      extractor_version=ruleset.version, events=evs)
        for j, (text, evs) in enumerate(zip(texts, events, strict=True))
    ]
    db = tmp / "load.duckdb"
    with Warehouse(db):
        pass  # schema creation is not loading
    t = time.perf_counter()
    written = 0
    for i in range(0, len(records), batch_size):
        with Warehouse(db) as wh:  # open per batch, as process_batch does
            written += wh.load_articles(records[i : i + batch_size]).events_written
    wall = time.perf_counter() - t
    return {"wall_s": round(wall, 3), "articles": len(records), "events": written,
            "events_per_s": round(written / wall, 1),
            "articles_per_s": round(len(records) / wall, 1)}


# -- orchestration ---------------------------------------------------------------------------
def start_server(n: int) -> tuple[subprocess.Popen, str]:
    return page_server.spawn(n)


def stage_seconds(log: Path) -> dict[str, float]:
    """The 'time spent' rows of muster run's summary table (clean, fetch, Prefect and other...)."""
    import re

    rows = re.findall(r"│\s+([A-Za-z][A-Za-z ]*?)\s+│\s+([\d.]+)s\s+│",
                      log.read_text(errors="replace"))
    return {name: float(sec) for name, sec in rows}


def write_feeds(path: Path, url: str) -> Path:
    path.write_text(f"feeds:\n  - name: bench\n    url: {url}\n    kind: rss\n")
    return path


def bench_env(args: argparse.Namespace, prefect_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MUSTER_") and k != "PREFECT_API_URL"}
    env.update({
        "MUSTER_FETCH__MIN_HOST_DELAY": "0",
        "MUSTER_FETCH__MAX_PER_HOST": str(args.max_per_host),
        "MUSTER_FETCH__MAX_CONCURRENCY": str(max(args.max_per_host, 8)),
        "MUSTER_FETCH__ALLOW_HOSTS": '["127.0.0.1"]',
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
    })
    if args.batch_size:
        env["MUSTER_BATCH_SIZE"] = str(args.batch_size)
    if args.bytecode == "cached":  # as an installation that compiled its bytecode runs
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(RESULTS / "pycache")
    return env


def warm_bytecode(env: dict[str, str]) -> None:
    """Compile every module the measured processes import into ``PYTHONPYCACHEPREFIX``.

    uv installs packages without ``.pyc`` files and this environment sets
    ``PYTHONDONTWRITEBYTECODE=1``, so every process would compile Prefect, trafilatura,
    ... from source at each start (~1.2 s of a 2.4 s import of the flow module): a cost a
    pip-installed or ``uv sync --compile-bytecode`` deployment does not pay.
    """
    if "PYTHONPYCACHEPREFIX" not in env:
        return
    site = Path(sysconfig.get_paths()["purelib"])
    dirs = [site] + [ROOT / d for d in ("flows", "ingest", "extractors", "warehouse", "benchmarks")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", *map(str, dirs)],
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[500, 2000],
                    help="pages to serve (real pages, replicated); several: one full run each "
                         "(default 500 and 2000: the peak-RSS ratio needs both)")
    ap.add_argument("--only", default="A,X,L,B0,E,B,C,D",
                    help="comma-separated subset of A,X,L,B0,E,B,C,D (X and L need A)")
    ap.add_argument("--max-per-host", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=None, help="MUSTER_BATCH_SIZE (default: settings)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--bytecode", choices=["cached", "none"], default="cached",
                    help="subprocesses use compiled bytecode from results/pycache (default, as "
                         "a compiled installation) or compile every module at each start")
    ap.add_argument("--prefect", choices=["server", "ephemeral"], default="server",
                    help="B0/B/C against a long-lived local Prefect server started here "
                         "(default, as scheduled runs do) or in Prefect's ephemeral mode")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of every selected run per N (each round writes its JSON); "
                         "with more than one, also the median of each run and of each ratio")
    args = ap.parse_args(argv)
    only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    results = []
    for n in args.n:
        rounds = [run_one(n, args, only) for _ in range(max(args.repeat, 1))]
        results.append(rounds[0] if len(rounds) == 1 else summarise(n, rounds))
    if len(results) > 1:
        lo, hi = min(results, key=lambda r: r["n"]), max(results, key=lambda r: r["n"])
        b_lo, b_hi = lo["runs"].get("B", {}), hi["runs"].get("B", {})
        if b_lo.get("peak_rss_mb") and b_hi.get("peak_rss_mb"):
            ratio = round(b_hi["peak_rss_mb"] / b_lo["peak_rss_mb"], 3)
            verdict = "MET" if ratio <= TARGETS["RSS2000/RSS500"] else "NOT MET"
            print(f"\npeak RSS of B: N={hi['n']} {b_hi['peak_rss_mb']} MB / N={lo['n']} "
                  f"{b_lo['peak_rss_mb']} MB = {ratio}  (target <= 1.3 for 2000/500) {verdict}")
        # The time targets are about throughput: at a small N a run's fixed ~2.5 s start-up
        # (B0) weighs on B/A and B/D, and C's ~1 s on C/B (benchmarks/README.md).
        print(f"time targets at the largest N ({hi['n']}): " + ", ".join(
            f"{k} {x} {'MET' if x <= TARGETS[k] else 'NOT MET'}"
            for k, x in hi["ratios"].items() if k in TARGETS))
    return 0


def run_one(n: int, args: argparse.Namespace, only: set[str]) -> dict:
    """Every selected measurement at one N; writes its JSON and prints its table."""

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    tmp = Path(tempfile.mkdtemp(prefix=f"muster-bench-{n}-"))
    logs = RESULTS / f"logs-N{n}-{stamp}"
    logs.mkdir()
    env = bench_env(args, RESULTS / "prefect-home")  # persistent: B pays no migrations
    warm_bytecode(env)
    from flows.settings import load_settings

    batch_size = args.batch_size or load_settings().batch_size
    result: dict = {
        "n": n, "started": stamp,
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "cpu": _cpu_model()},
        "settings": {"batch_size": batch_size, "max_per_host": args.max_per_host,
                     "min_host_delay": 0, "bytecode": args.bytecode},
        "runs": {},
    }
    server, feed = start_server(n)
    prefect_proc = None
    runs = result["runs"]
    result["settings"]["prefect"] = args.prefect
    try:
        if args.prefect == "server" and only & {"B0", "B", "C"}:
            t = time.perf_counter()
            prefect_proc, env["PREFECT_API_URL"] = start_prefect_server(RESULTS / "prefect-server-home")
            result["prefect_server_start_s"] = round(time.perf_counter() - t, 2)
        base = feed.rsplit("/", 1)[0]
        if "A" in only or "X" in only or "L" in only:
            bodies = list(page_server.page_bodies(page_server.load_sources(), n))
            runs["A"], texts = measure_a(bodies)
            del bodies
            _say("A", runs["A"])
            if "X" in only or "L" in only:
                runs["X"], rs_ev = measure_extract(texts)
                _say("X", runs["X"])
                if "L" in only:
                    runs["L"] = measure_load(texts, rs_ev, batch_size, tmp)
                    _say("L", runs["L"])
                del rs_ev
            del texts
        if "B0" in only:
            empty = write_feeds(tmp / "empty.yaml", f"{base}/empty.xml")
            for i in range(2):  # the first may pay Prefect's database migrations
                r = run_measured([*MUSTER, "run", "--db", str(tmp / f"b0-{i}.duckdb"),
                                  "--feeds", str(empty)], env, tmp, logs / f"B0-{i}.log")
                r["stages_s"] = stage_seconds(logs / f"B0-{i}.log")
            runs["B0"] = r
            _say("B0", r)
        if "E" in only:  # Prefect's ephemeral mode (no PREFECT_API_URL): start-up alone
            empty = write_feeds(tmp / "empty.yaml", f"{base}/empty.xml")
            eph = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
            runs["E"] = run_measured([*MUSTER, "run", "--db", str(tmp / "e.duckdb"),
                                      "--feeds", str(empty)], eph, tmp, logs / "E.log")
            runs["E"]["stages_s"] = stage_seconds(logs / "E.log")
            _say("E", runs["E"])
        feeds = write_feeds(tmp / "feeds.yaml", feed)
        if "B" in only or "C" in only:
            db = tmp / "b.duckdb"
            runs["B"] = run_measured([*MUSTER, "run", "--db", str(db), "--feeds", str(feeds)],
                                     env, tmp, logs / "B.log")
            runs["B"].update(db_counts(db))
            runs["B"]["stages_s"] = stage_seconds(logs / "B.log")
            _say("B", runs["B"])
            if "C" in only:
                runs["C"] = run_measured([*MUSTER, "run", "--db", str(db), "--feeds", str(feeds)],
                                         env, tmp, logs / "C.log")
                runs["C"].update(db_counts(db))
                runs["C"]["stages_s"] = stage_seconds(logs / "C.log")
                _say("C", runs["C"])
        if "D" in only:
            db = tmp / "d.duckdb"
            runs["D"] = run_measured(
                [sys.executable, str(ROOT / "benchmarks" / "plain_pipeline.py"),
                 "--db", str(db), "--feeds", str(feeds)], env, tmp, logs / "D.log")
            runs["D"].update(db_counts(db))
            try:
                inner = json.loads((logs / "D.log").read_text().strip().splitlines()[-1])
                runs["D"]["imports_s"] = round(inner["imports_s"], 2)
                runs["D"]["pipeline_s"] = round(inner["pipeline_s"], 2)
            except (ValueError, IndexError, KeyError):
                pass
            _say("D", runs["D"])
    finally:
        if prefect_proc is not None:
            stop_group(prefect_proc)
        server.terminate()
        server.wait(10)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    result["ratios"] = ratios(runs)
    out = RESULTS / f"bench-N{n}-{stamp}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print_table(result)
    print(f"\nwrote {out}")
    return result


def summarise(n: int, rounds: list[dict]) -> dict:
    """The median of each run's measurements and of each ratio over ``rounds``.

    Why: on a shared VM one run's speed moves by ~5-10 % between half hours, and a one-core
    loop (A) and a two-core run (B) do not move together. Each round measures A, B, D one
    after the other, so its ratios pair measurements minutes apart; their median is the
    verdict, and every round's value is printed and kept.
    """
    from statistics import median

    names = [k for k in rounds[0]["runs"] if all(k in r["runs"] for r in rounds)]
    runs = {}
    for name in names:
        samples = [r["runs"][name] for r in rounds]
        runs[name] = {k: round(median(s[k] for s in samples), 3) for k in samples[0]
                      if isinstance(samples[0][k], (int, float))
                      and all(isinstance(s.get(k), (int, float)) for s in samples)}
    keys = [k for k in rounds[0]["ratios"] if all(k in r["ratios"] for r in rounds)]
    each = {k: [r["ratios"][k] for r in rounds] for k in keys}
    result = {"n": n, "rounds": [r["started"] for r in rounds], "runs": runs,
              "machine": rounds[0]["machine"], "settings": rounds[0]["settings"],
              "ratios": {k: round(median(v), 3) for k, v in each.items()}, "ratios_each": each}
    out = RESULTS / f"bench-N{n}-{rounds[0]['started']}-median{len(rounds)}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nMedians of {len(rounds)} rounds (each round: " + ", ".join(
        f"{k} {' '.join(str(x) for x in v)}" for k, v in each.items()) + ")")
    print_table(result)
    print(f"\nwrote {out}")
    return result


def ratios(runs: dict) -> dict:
    r: dict = {}
    w = {k: v["wall_s"] for k, v in runs.items() if "wall_s" in v}
    if "A" in w and "B" in w:
        r["B/A"] = round(w["B"] / w["A"], 3)
    if "B" in w and "C" in w:
        r["C/B"] = round(w["C"] / w["B"], 3)
    if "B" in w and "D" in w:
        r["B/D"] = round(w["B"] / w["D"], 3)
    if "B" in w and "B0" in w and "D" in w:  # Prefect's per-run work beyond start-up
        r["(B-B0)/D"] = round((w["B"] - w["B0"]) / w["D"], 3)
    return r


def print_table(result: dict) -> None:
    print(f"\nMuster benchmark, N = {result['n']} pages, {result['machine']['nproc']} cores, "
          f"Python {result['machine']['python']}")
    print(f"{'run':<4} {'wall s':>8} {'cpu s':>7} {'peak RSS MB':>12}  notes")
    for name, v in result["runs"].items():
        notes = {k: v[k] for k in ("cpu_tree_s", "articles", "events", "pages_per_s", "mb_per_s",
                                   "events_per_s", "articles_per_s", "with_text") if k in v}
        rss = v.get("peak_rss_mb", "")
        print(f"{name:<4} {v.get('wall_s', ''):>8} {v.get('cpu_s', ''):>7} {rss:>12}  "
              + ", ".join(f"{k}={x}" for k, x in notes.items()))
    for k, x in result["ratios"].items():
        target = TARGETS.get(k)
        verdict = "" if target is None else ("  MET" if x <= target else "  NOT MET")
        print(f"{k:<9} = {x}" + (f"  (target <= {target}){verdict}" if target else ""))


def _say(name: str, v: dict) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {name}: " + json.dumps(v, default=str), flush=True)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    raise SystemExit(main())
