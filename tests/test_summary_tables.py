"""The end-of-run summary (CLI table and Prefect artifact) tells failures from skips.

An article skipped on purpose (``not_english`` is stored without events; ``duplicate_content``
and ``robots_disallowed`` are not fetched or not stored) is not an error to chase, so both
summaries mark those reasons "(skipped)" and leave real failures unmarked.
"""

from __future__ import annotations

import io

from rich.console import Console

from flows.artifacts import summary_markdown
from flows.pipeline import Failure, RunReport
from flows.summary import render_summary


def test_cli_summary_marks_skip_reasons() -> None:
    report = RunReport(run_id="r", db_path="m.duckdb", articles_new=1)
    report.failures += [Failure("page", "http://a/1", "f", "http_404"),
                        Failure("extract", "http://a/2", "f", "not_english"),
                        Failure("extract", "http://a/3", "f", "not_english")]
    out = io.StringIO()
    render_summary(report, Console(file=out, width=120, color_system=None))
    text = out.getvalue()
    assert "articles failed or skipped" in text
    row = next(line for line in text.splitlines() if "not_english (skipped)" in line)
    assert row.split("│")[-2].strip() == "2"
    assert "http_404 (skipped)" not in text and "http_404" in text


def test_artifact_summary_marks_skip_reasons() -> None:
    md = summary_markdown("run", {"articles_new": 1,
                                  "articles_failed": {"not_english": 2, "http_404": 1}})
    assert "| articles failed or skipped | 3 |" in md
    assert "| ↳ not_english (skipped) | 2 |" in md
    assert "| ↳ http_404 | 1 |" in md
