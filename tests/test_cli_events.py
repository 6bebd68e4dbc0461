"""``muster events`` filters and formats, and ``muster sql --format``, as a user runs them.

Every command runs in a subprocess (``python -m flows``) on a warehouse built
from known events (tests/analyst_fixture.py); expected rows are written out by hand.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.analyst_fixture import build_db


def muster(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("events") / "m.duckdb")


def events_json(db: Path, *args: str) -> list[dict]:
    proc = muster("events", "--db", str(db), "--format", "json", *args, cwd=db.parent)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_table_is_the_default_and_shows_every_event(db: Path) -> None:
    proc = muster("events", "--db", str(db), cwd=db.parent)
    assert proc.returncode == 0, proc.stderr
    assert "(8 rows)" in proc.stdout
    # Piped output is not wrapped: one line per event, evidence sentence whole.
    line = next(ln for ln in proc.stdout.splitlines() if "Minsk" in ln)
    assert "Russia sent about 12,000 troops to Belarus near Minsk, officials reported." in line
    assert "2025-04-01" in line and "12000" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--type", "military_deployment"], {"RUS:BLR", "USA:POL", "RUS:SYR"}),
        (["--actor", "Russia"], {"RUS:BLR", "RUS:UKR", "RUS:SYR"}),
        (["--actor", "usa", "--type", "condemnation"], {"USA:RUS"}),
        (["--place", "Poland"], {"USA:POL"}),
        (["--place", "khark"], {"RUS:UKR"}),
        (["--since", "2025-04-03", "--until", "2025-04-03"], {"USA:POL", "RUS:UKR", "PRK:None"}),
        (["--status", "denied", "--status", "planned"], {"RUS:SYR", "USA:POL"}),
        (["--type", "weapons_test", "--type", "weapons_unveiling", "--since", "2025-04-03"],
         {"PRK:None"}),
    ],
)
def test_filters(db: Path, args: list[str], expected: set[str]) -> None:
    rows = events_json(db, *args)
    assert {f"{r['actor']}:{r['target']}" for r in rows} == expected


def test_json_carries_every_column_newest_first(db: Path) -> None:
    rows = events_json(db, "--limit", "2")
    assert [r["day"] for r in rows] == ["2025-04-05", "2025-04-03"]
    first = rows[0]
    assert first["sentence"] == "Moscow denied sending 500 troops to Syria."
    assert first["url"] == "https://news.example.test/world/4" and first["quantity"] == 500
    assert {"event_id", "char_start", "rule_id", "confidence", "title", "feed"} <= set(first)


def test_csv_and_jsonl(db: Path, tmp_path: Path) -> None:
    proc = muster("events", "--db", str(db), "-t", "weapons_unveiling", "-f", "csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(rows) == 1
    assert rows[0]["weapon_name"] == "Choe Hyon" and rows[0]["quantity"] == "5000"
    assert rows[0]["target"] == ""  # NULL is an empty CSV field

    out = tmp_path / "sub" / "ev.jsonl"
    proc = muster("events", "--db", str(db), "-f", "jsonl", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 8 event(s)" in proc.stderr and proc.stdout == ""
    lines = out.read_text().splitlines()
    assert len(lines) == 8 and json.loads(lines[-1])["quantity"] == 12000


def test_parquet(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "deployments.parquet"
    proc = muster("events", "--db", str(db), "--type", "military_deployment", "--format", "parquet",
                  "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    con = duckdb.connect()
    rows = con.execute("SELECT actor, quantity, unit, day FROM read_parquet(?) ORDER BY quantity",
                       [str(out)]).fetchall()
    assert [(a, q, u) for a, q, u, _ in rows] == [("RUS", 500, "troops"), ("USA", 3000, "troops"),
                                                  ("RUS", 12000, "troops")]
    assert str(rows[0][3]) == "2025-04-05"  # a real DATE column, not text


def test_sql_formats(db: Path, tmp_path: Path) -> None:
    query = "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC, type; -- done"
    as_csv = muster("sql", query, "--db", str(db), "--format", "csv", cwd=tmp_path)
    assert as_csv.returncode == 0, as_csv.stderr
    assert as_csv.stdout.splitlines()[:3] == ["type,n", "military_deployment,3", "weapons_test,2"]
    as_json = muster("sql", query, "--db", str(db), "-f", "json", cwd=tmp_path)
    assert json.loads(as_json.stdout)[-1] == {"type": "weapons_unveiling", "n": 1}
    out = tmp_path / "q.parquet"
    as_parquet = muster("sql", query, "--db", str(db), "-f", "parquet", "-o", str(out),
                        cwd=tmp_path)
    assert as_parquet.returncode == 0, as_parquet.stderr
    total = duckdb.connect().execute("SELECT sum(n) FROM read_parquet(?)", [str(out)]).fetchone()
    assert total == (8,)
    table = muster("sql", query, "--db", str(db), cwd=tmp_path)
    assert "military_deployment" in table.stdout and "(5 rows)" in table.stdout


def test_parquet_output_cannot_be_used_to_write_elsewhere(db: Path, tmp_path: Path) -> None:
    """The sandbox stays: the query itself may not read or write other files."""
    other = tmp_path / "other.csv"
    other.write_text("a\n1\n")
    proc = muster("sql", f"SELECT * FROM read_csv('{other}')", "--db", str(db), "-f", "parquet",
                  "-o", str(tmp_path / "x.parquet"), cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.parquet").exists()
