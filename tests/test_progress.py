"""Progress reporting: the callback protocol, both displays, the pipeline steps calling it,
and `muster run` printing plain progress lines and the per-stage times when not on a terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from flows import progress

ROOT = Path(__file__).resolve().parent.parent


def test_log_progress_prints_plain_lines_with_rate_and_eta() -> None:
    lines: list[str] = []
    p = progress.LogProgress(write=lines.append, interval=0.0)
    p.total("fetch", 4)
    for _ in range(4):
        with p.timing("fetch"):
            p.advance("fetch")
    assert lines[0].startswith("progress: articles fetched 1/4 (") and "eta" in lines[0]
    assert lines[-1].startswith("progress: articles fetched 4/4 (") and "eta" not in lines[-1]
    assert all("\r" not in ln and "\x1b" not in ln for ln in lines)
    assert p.seconds["fetch"] >= 0 and p.done == {"fetch": 4}


def test_overlapping_stages_count_each_second_once() -> None:
    """Batches overlap (one loads, the next is fetched, another cleaned): each moment goes
    to one stage, so the stages add up to the time that passed, not more."""
    import threading
    import time

    p = progress.NullProgress()
    started = time.perf_counter()
    clean_started, load_done = threading.Event(), threading.Event()

    def workers_wait() -> None:  # batch k waits for the cleaning workers throughout
        with p.timing("clean"):
            clean_started.set()
            load_done.wait(5)
            time.sleep(0.1)

    waiter = threading.Thread(target=workers_wait)
    waiter.start()
    clean_started.wait(5)
    with p.timing("clean"):  # batch k+1 waits too: the same seconds, not twice
        with p.timing("load"):  # and batch k-1 loads meanwhile
            time.sleep(0.2)
    load_done.set()
    waiter.join()
    wall = time.perf_counter() - started
    assert set(p.seconds) == {"clean", "load"}
    assert p.seconds["load"] >= 0.2
    assert 0.1 <= p.seconds["clean"] < 0.2
    assert sum(p.seconds.values()) <= wall


def test_log_progress_is_throttled_but_always_reports_the_end() -> None:
    lines: list[str] = []
    p = progress.LogProgress(write=lines.append, interval=3600.0)
    p.total("clean", 1000)
    for _ in range(1000):
        p.advance("clean")
    assert len(lines) == 2 and lines[-1].startswith("progress: articles cleaned 1000/1000")


def test_rich_progress_draws_bars_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with progress.install(progress.RichProgress(console)) as p:
        assert progress.current() is p
        p.total("extract", 3)
        p.advance("extract", 3)
    assert isinstance(progress.current(), progress.NullProgress)
    assert not isinstance(progress.current(), progress.RichProgress)
    screen = buffer.getvalue()
    assert "articles extracted" in screen and "3/3" in screen


def test_for_stream_picks_plain_lines_when_not_a_terminal() -> None:
    assert type(progress.for_stream(io.StringIO())) is progress.LogProgress


def test_pipeline_steps_report_every_stage(tmp_path: Path) -> None:
    """The plain steps (no Prefect) call the installed reporter; no argument needed."""
    from extractors.loader import load_ruleset

    from flows import pipeline as steps
    from flows.settings import load_settings

    feeds = tmp_path / "feeds.yaml"
    demo = ROOT / "configs" / "demo"
    feeds.write_text(f"feeds:\n  - name: demo\n    url: {demo}\n    kind: folder\n")
    settings = load_settings(db_path=tmp_path / "m.duckdb", feeds_path=feeds)
    report = steps.RunReport(run_id="t", db_path=str(settings.db_path))
    lines: list[str] = []
    with progress.install(progress.LogProgress(write=lines.append, interval=0.0)) as p:
        configs = steps.resolve_feeds(settings)
        polls = steps.poll_feeds(settings, configs)
        items = steps.plan_items(settings, polls, None, report)
        batch = steps.process_batch(settings, items, load_ruleset(settings.configs_dir), "t", False)
    assert batch.events_written > 0
    assert p.done == {"poll": 1, "fetch": 1, "clean": 1, "extract": 1, "load": 1}
    assert p.expected == p.done
    assert set(p.seconds) == {"poll", "fetch", "clean", "extract", "load"}
    assert "progress: articles loaded 1/1" in " ".join(lines)


@pytest.mark.slow
def test_muster_run_prints_progress_lines_and_stage_times(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    proc = subprocess.run([sys.executable, "-m", "flows", "run", "--feed", "demo", "--db", str(db)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for stage in ("feeds polled 1/1", "articles fetched 1/1", "articles extracted 1/1"):
        assert f"progress: {stage}" in proc.stderr
    assert "\r" not in proc.stderr and "\x1b[" not in proc.stdout
    for row in ("time spent", "extract", "Prefect and other"):
        assert row in proc.stdout
    assert f"muster report --db {db}" in proc.stdout
    assert 'muster sql "SELECT type, count(*) AS n FROM events' in proc.stdout
