"""Second-run benchmark (issue 4): an unchanged server costs 304s and skips, not downloads.

Target: "A second run against an unchanged server answers at least 95 % of feed and page
requests with 304 or skips them, and takes at most 10 % of the first run's wall time."

Three runs of the pipeline against ``benchmarks/page_server.py`` (N real pages behind one
RSS feed, all with ETags), one database:

1. **first**: fresh database, everything is downloaded.
2. **second**: same server, same feeds file. The feed answers 304, so nothing else is asked.
3. **refetch**: ``MUSTER_REFETCH_AFTER=0`` makes every stored article due for a conditional
   refetch, and the feed URL gets a query string (``?run=3``; the server ignores it), so its
   stored validators no longer apply and the feed is read in full: the situation of a feed
   that gained a new item while its old pages did not change. Every page is then requested
   with ``If-None-Match`` (the stored articles and the pages dropped last time alike) and
   should answer 304.

The share is counted per URL from ``fetch_log``: every feed and page URL that the first run
requested is, in a later run, either *skipped* (not requested: feed not due, feed 304 so its
items are not even listed, article already stored; or a rule said no: robots, SSRF, duplicate,
not_english), *304*, or *downloaded* again (200, or a failure). The target is on
(304 + skipped) / URLs of the first run. robots.txt requests are not logged in fetch_log (the
page server answers them 404, and they are one per host and run) and are not counted.

Each run is ``benchmarks/plain_pipeline.py`` in its own process (the pipeline's steps without
Prefect; ``--cli`` runs ``muster run`` instead, which adds Prefect's fixed cost per run:
Prefect's ephemeral mode unless ``PREFECT_API_URL`` is set). Wall time is the subprocess's,
imports included; ``pipeline_s`` (plain mode) is the steps alone.

    .venv/bin/python benchmarks/bench_second_run.py [--n 500] [--cli] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))

import page_server  # noqa: E402  (sibling script)

TARGET_SHARE = 0.95
TARGET_TIME = 0.10


def start_server(n: int) -> tuple[subprocess.Popen, str]:
    """The page server in its own process (its Python must not share our GIL); feed URL."""
    return page_server.spawn(n)


def bench_env(refetch: bool) -> dict[str, str]:
    """As in benchmarks/run.py: no politeness delay against our own server, nothing else set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSTER_")}
    env.update({
        "MUSTER_FETCH__MIN_HOST_DELAY": "0",
        "MUSTER_FETCH__MAX_PER_HOST": "8",
        "MUSTER_FETCH__MAX_CONCURRENCY": "8",
        "MUSTER_FETCH__ALLOW_HOSTS": '["127.0.0.1"]',
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
    })
    if refetch:
        env["MUSTER_REFETCH_AFTER"] = "0"
    return env


def run_once(db: Path, feeds: Path, cli: bool, refetch: bool, log: Path) -> dict:
    """One pipeline run in a subprocess: wall seconds (and pipeline_s in plain mode)."""
    if cli:
        cmd = [sys.executable, "-m", "flows", "run", "--db", str(db), "--feeds", str(feeds)]
    else:
        cmd = [sys.executable, str(ROOT / "benchmarks" / "plain_pipeline.py"),
               "--db", str(db), "--feeds", str(feeds)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=db.parent, env=bench_env(refetch), capture_output=True,
                          text=True, timeout=3600)
    wall = time.perf_counter() - t
    log.write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}); see {log}")
    out: dict = {"wall_s": round(wall, 3)}
    if not cli:
        last = json.loads(proc.stdout.strip().splitlines()[-1])
        out["pipeline_s"] = round(last["pipeline_s"], 3)
    return out


def fetch_logs(db: Path) -> list[dict[str, tuple[str, str | None]]]:
    """Per run (oldest first): URL -> (outcome, reason) from fetch_log."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY started_at").fetchall()]
        rows = con.execute("SELECT run_id, url, outcome, reason FROM fetch_log").fetchall()
    finally:
        con.close()
    by_run: dict[str, dict[str, tuple[str, str | None]]] = {r: {} for r in runs}
    for run_id, url, outcome, reason in rows:
        by_run.setdefault(run_id, {})[url.split("?run=")[0]] = (outcome, reason)
    return [by_run[r] for r in runs]


Log = dict[str, tuple[str, str | None]]


def shares(first: Log, later: Log) -> dict:
    """How the first run's URLs were answered in a later run."""
    counts = {"urls": len(first), "not_requested": 0, "not_modified": 0, "skipped_by_rule": 0,
              "downloaded": 0}
    for url in first:
        outcome = later.get(url, ("absent", None))[0]
        if outcome == "absent":
            counts["not_requested"] += 1
        elif outcome == "not_modified":
            counts["not_modified"] += 1
        elif outcome == "skipped":
            counts["skipped_by_rule"] += 1
        else:
            counts["downloaded"] += 1
    counts["requests"] = sum(1 for u in first if u in later)
    cheap = counts["urls"] - counts["downloaded"]
    counts["share_304_or_skipped"] = round(cheap / counts["urls"], 4) if counts["urls"] else None
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="pages to serve (real pages, replicated)")
    ap.add_argument("--cli", action="store_true", help="run `muster run` (Prefect) instead of "
                                                        "benchmarks/plain_pipeline.py")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="muster-second-run-"))
    server, feed_url = start_server(args.n)
    try:
        db = tmp / "muster.duckdb"
        plain_feeds = tmp / "feeds.yaml"
        plain_feeds.write_text(f"feeds:\n  - name: bench\n    url: {feed_url}\n    kind: rss\n")
        changed_feeds = tmp / "feeds-changed.yaml"
        changed_feeds.write_text(f"feeds:\n  - name: bench\n    url: {feed_url}?run=3\n"
                                 "    kind: rss\n")
        runs = {
            "first": run_once(db, plain_feeds, args.cli, False, tmp / "first.log"),
            "second": run_once(db, plain_feeds, args.cli, False, tmp / "second.log"),
            "refetch": run_once(db, changed_feeds, args.cli, True, tmp / "refetch.log"),
        }
    finally:
        server.terminate()
        server.wait(timeout=10)
    logs = fetch_logs(db)
    first = logs[0]
    runs["first"]["requests"] = len(first)
    runs["first"]["outcomes"] = _outcomes(first)
    for name, log in zip(("second", "refetch"), logs[1:], strict=True):
        runs[name].update(shares(first, log))
        runs[name]["outcomes"] = _outcomes(log)
        runs[name]["time_ratio"] = round(runs[name]["wall_s"] / runs["first"]["wall_s"], 4)
        if "pipeline_s" in runs[name]:  # the steps alone, without interpreter start and imports
            runs[name]["steps_ratio"] = round(
                runs[name]["pipeline_s"] / max(runs["first"]["pipeline_s"], 1e-9), 4)
    result = {
        "benchmark": "second_run", "n": args.n, "mode": "cli" if args.cli else "plain",
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "load_avg": os.getloadavg(), "cpus": os.cpu_count(), "runs": runs,
        "targets": {"share_304_or_skipped": TARGET_SHARE, "time_ratio": TARGET_TIME},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"second-run-N{args.n}-{result['mode']}-{stamp}.json"
    out.write_text(json.dumps(result, indent=1))
    print_table(result)
    print(f"\nJSON: {out}")
    if args.keep:
        print(f"kept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _outcomes(log: dict[str, tuple[str, str | None]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome, reason in log.values():
        key = outcome + (f":{reason}" if reason else "")
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def print_table(result: dict) -> None:
    runs = result["runs"]
    print(f"\nSecond-run benchmark, N = {result['n']} pages, mode {result['mode']} "
          f"(load {result['load_avg'][0]:.2f} on {result['cpus']} CPUs)")
    print(f"{'run':<8} {'wall s':>8} {'vs first':>9} {'steps s':>8} {'vs first':>9} {'URLs':>6} "
          f"{'asked':>6} {'304':>6} {'skipped':>8} {'downloaded':>10} {'304|skip':>9}")
    f = runs["first"]
    print(f"{'first':<8} {f['wall_s']:>8.2f} {'':>9} {f.get('pipeline_s', 0):>8.2f} {'':>9} "
          f"{f['requests']:>6} {f['requests']:>6}")
    for name in ("second", "refetch"):
        r = runs[name]
        skipped = r["not_requested"] + r["skipped_by_rule"]
        print(f"{name:<8} {r['wall_s']:>8.2f} {r['time_ratio']:>9.3f} "
              f"{r.get('pipeline_s', 0):>8.2f} {r.get('steps_ratio', 0):>9.3f} {r['urls']:>6} "
              f"{r['requests']:>6} {r['not_modified']:>6} {skipped:>8} {r['downloaded']:>10} "
              f"{r['share_304_or_skipped']:>9.3f}")
    second = runs["second"]
    for label, value, target, ok in (
        ("second run: share answered 304 or skipped", second["share_304_or_skipped"],
         f">= {TARGET_SHARE}", second["share_304_or_skipped"] >= TARGET_SHARE),
        ("second run: wall time / first run's", second["time_ratio"], f"<= {TARGET_TIME}",
         second["time_ratio"] <= TARGET_TIME),
        ("second run: pipeline steps' time / first run's (no start-up, no imports)",
         second.get("steps_ratio"), f"<= {TARGET_TIME}",
         second.get("steps_ratio") is not None and second["steps_ratio"] <= TARGET_TIME),
        ("refetch run: share answered 304 or skipped", runs["refetch"]["share_304_or_skipped"],
         f">= {TARGET_SHARE}", runs["refetch"]["share_304_or_skipped"] >= TARGET_SHARE),
    ):
        print(f"  {label}: {value} (target {target}) {'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    raise SystemExit(main())
