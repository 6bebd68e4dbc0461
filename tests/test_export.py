"""`muster export`: Parquet (hive-partitioned by event date), CSV and JSONL, read back with DuckDB."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from extractors.model import Event
from warehouse import ArticleRecord, Warehouse, WarehouseNotFoundError
from warehouse.export import export_warehouse

ROOT = Path(__file__).resolve().parent.parent


def ev(day: str | None, quantity: int, start: int = 0) -> Event:
    return Event.model_validate({
        "type": "military_deployment", "actor": "PRK", "target": "RUS", "quantity": quantity,
        "unit": "troops", "date": day, "date_precision": "day" if day else None,
        "sentence": "North Korea sent troops.", "char_start": start, "char_end": start + 10,
        "rule_id": "r"})


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "m.duckdb"
    with Warehouse(path) as wh:
        wh.load_articles([
            ArticleRecord(url="https://a.example/1", feed="a", title="One, \"quoted\"",
                          published=date(2024, 11, 2), text="one", extractor_version="v1",
                          fetched_at=datetime(2024, 11, 2, tzinfo=UTC),
                          events=[ev("2024-11-01", 12000), ev(None, 500, 5)]),
            ArticleRecord(url="https://a.example/2", feed="b", title="Two",
                          published=date(2025, 2, 1), text="two", extractor_version="v1",
                          fetched_at=datetime(2025, 2, 1, tzinfo=UTC),
                          events=[ev("2025-01-30", 3000)]),
        ])
        wh.publish_snapshot()
    return path


def test_parquet_round_trip_partitioned_by_event_date(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = export_warehouse(db, out, "parquet")
    assert report.rows == {"events": 3, "articles": 2, "event_clusters": 3}
    assert not report.from_snapshot
    dirs = sorted(p.name for p in (out / "events").iterdir())
    assert dirs == ["event_date=2024-11-01", "event_date=2024-11-02", "event_date=2025-01-30"]
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT event_date, quantity, url, title, published, cluster_id IS NOT NULL "
        f"FROM read_parquet('{out}/events/**/*.parquet', hive_partitioning = true) "
        "ORDER BY event_date").fetchall()
    assert rows == [(date(2024, 11, 1), 12000, "https://a.example/1", 'One, "quoted"',
                     date(2024, 11, 2), True),
                    (date(2024, 11, 2), 500, "https://a.example/1", 'One, "quoted"',
                     date(2024, 11, 2), True),
                    (date(2025, 1, 30), 3000, "https://a.example/2", "Two", date(2025, 2, 1), True)]
    src = duckdb.connect(str(db), read_only=True)
    try:
        assert (con.execute(f"SELECT * FROM '{out}/articles.parquet' ORDER BY article_id").fetchall()
                == src.execute("SELECT * FROM articles ORDER BY article_id").fetchall())
    finally:
        src.close()
    # exporting again replaces the previous export, no stray staging folders
    export_warehouse(db, out, "parquet", since=date(2025, 1, 1))
    assert sorted(p.name for p in (out / "events").iterdir()) == ["event_date=2025-01-30"]
    assert sorted(p.name for p in out.iterdir()) == ["articles.parquet", "event_clusters.parquet",
                                                     "events"]
    con.close()


@pytest.mark.parametrize("fmt, reader", [("csv", "read_csv"), ("jsonl", "read_json")])
def test_csv_and_jsonl(db: Path, tmp_path: Path, fmt: str, reader: str) -> None:
    out = tmp_path / fmt
    report = export_warehouse(db, out, fmt, since=date(2025, 1, 1))
    assert report.rows == {"events": 1, "articles": 1, "event_clusters": 1}
    con = duckdb.connect()
    assert con.execute(f"SELECT quantity, url, published, event_date FROM {reader}('{out}/events.{fmt}')"
                       ).fetchall() == [(3000, "https://a.example/2", date(2025, 2, 1), date(2025, 1, 30))]
    assert con.execute(f"SELECT count(*) FROM {reader}('{out}/articles.{fmt}')").fetchone() == (1,)
    con.close()


def test_errors_are_sentences(db: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export_warehouse(db, tmp_path, "xlsx")
    with pytest.raises(WarehouseNotFoundError, match="nowhere.duckdb"):
        export_warehouse(tmp_path / "nowhere.duckdb", tmp_path, "csv")


def test_export_while_another_process_holds_the_file_uses_the_snapshot(db: Path, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
                                "print('held', flush=True); time.sleep(60)"), str(db)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        report = export_warehouse(db, tmp_path / "out", "jsonl", lock_timeout=0.2)
        assert report.from_snapshot and report.source.name == "m.snapshot.duckdb"
        assert report.rows["events"] == 3
    finally:
        holder.kill()
        holder.wait()


def test_cli_export(db: Path, tmp_path: Path) -> None:
    from flows.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["export", "--db", str(db), "--format", "csv",
                                 "--out", str(tmp_path / "x"), "--since", "2024-01-01"])
    assert result.exit_code == 0, result.output
    assert "events: 3 rows" in result.output
    assert (tmp_path / "x" / "events.csv").read_text().count("\n") == 4  # header + 3
    bad = runner.invoke(app, ["export", "--db", str(db), "--format", "xml", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown export format" in bad.output
