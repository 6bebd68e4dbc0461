"""Run D: the pipeline's plain steps (flows/pipeline.py) without Prefect.

Mirrors ``flows.prefect_flows.pipeline`` step for step (start_run, poll, record_polls,
plan_items, process_batches (load_batch per batch, one fetched ahead), save_feed_states, finish_run, publish_snapshot_if_changed), so
that B / D isolates what Prefect (ephemeral server, task runs, artifacts, the writer
slot) adds.  Run as its own process, like ``muster run``, so both pay interpreter
start-up and imports.

    .venv/bin/python benchmarks/plain_pipeline.py --db X.duckdb --feeds feeds.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

T0 = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warehouse.store import Warehouse  # noqa: E402

from flows import pipeline as steps  # noqa: E402
from flows.overlap import process_batches  # noqa: E402
from flows.rules_cache import cached_ruleset  # noqa: E402
from flows.settings import load_settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--feeds", required=True)
    args = ap.parse_args(argv)
    t_imports = time.perf_counter() - T0
    settings = load_settings(db_path=args.db, feeds_path=args.feeds)
    run_id = str(uuid.uuid4())
    report = steps.RunReport(run_id=run_id, db_path=str(settings.db_path))
    feeds = steps.resolve_feeds(settings, None)
    from flows import parallel  # as `muster run` does when it hands over to the flow

    parallel.prestart(cached_ruleset(settings.configs_dir), settings.workers)
    with Warehouse(settings.db_path) as wh:
        wh.start_run(run_id, None, {"benchmark": "plain"})
    status = "failed"
    t = time.perf_counter()
    try:
        polls = steps.poll_feeds(settings, feeds)
        steps.record_polls(settings, feeds, polls, report)
        items = steps.plan_items(settings, polls, settings.max_articles_per_feed, report)
        batches = steps.batches(items, settings.batch_size)
        ruleset = cached_ruleset(settings.configs_dir) if batches else None  # as the flow
        if ruleset is not None:  # as the flow: one batch fetched ahead of each load
            process_batches(settings, batches, ruleset, lambda batch, fetched: report.merge(
                steps.load_batch(settings, batch, fetched, ruleset.version, run_id, False)))
        steps.save_feed_states(settings, feeds, polls, report)
        status = "completed"
    finally:
        with Warehouse(settings.db_path) as wh:
            wh.finish_run(run_id, status, report.as_counts())
            steps.publish_snapshot_if_changed(wh, report)
    print(json.dumps({"imports_s": t_imports, "pipeline_s": time.perf_counter() - t,
                      "counts": report.as_counts()}, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
