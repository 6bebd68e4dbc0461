"""Read-only queries, and the clear errors for a missing or locked file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from extractors.model import Event
from warehouse import (
    ArticleRecord,
    QueryError,
    ReadOnlySQLError,
    Warehouse,
    WarehouseLockedError,
    WarehouseNotFoundError,
    run_readonly,
)

ROOT = Path(__file__).resolve().parent.parent
HOLD_UNTIL_STDIN_CLOSES = ("import duckdb,sys; c=duckdb.connect(sys.argv[1]); "
                           "print('ready', flush=True); sys.stdin.read()")
HOLD_ONE_SECOND = ("import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); "
                   "print('ready', flush=True); time.sleep(1.0); c.close(); time.sleep(30)")


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    event = Event(type="weapons_test", actor="PRK", weapon_class="ballistic_missile",
                  sentence="North Korea test-fired a ballistic missile.", char_start=0,
                  char_end=43, rule_id="test.1")
    with Warehouse(path) as wh:
        wh.load_articles([ArticleRecord(url=f"https://n.example/{i}", text=f"t{i}",
                                        extractor_version="v", events=[event]) for i in range(3)])
    return path


def test_select_answers(db: Path) -> None:
    cols, rows = run_readonly(db, "SELECT type, count(*) AS n FROM events GROUP BY type")
    assert (cols, rows) == (["type", "n"], [("weapons_test", 3)])


def test_select_variants_and_params(db: Path) -> None:
    assert run_readonly(db, "SELECT url FROM articles WHERE url = ?", ["https://n.example/1"])[1] \
        == [("https://n.example/1",)]
    assert run_readonly(db, "SELECT $u AS u", {"u": 5}) == (["u"], [(5,)])
    assert run_readonly(db, "-- comment\nWITH x AS (SELECT 1 AS a) SELECT a FROM x;")[1] == [(1,)]
    assert len(run_readonly(db, "SELECT * FROM events_with_articles", max_rows=2)[1]) == 2
    assert run_readonly(db, "DESCRIBE articles")[1][0][0] == "article_id"
    assert ("articles",) in run_readonly(db, "SHOW TABLES")[1]
    assert run_readonly(db, "PRAGMA table_info('runs')")[1][0][1] == "run_id"
    assert run_readonly(db, "EXPLAIN SELECT * FROM events")[0] == ["explain_key", "explain_value"]


@pytest.mark.parametrize("sql", [
    "INSERT INTO runs VALUES ('x', NULL, NULL, now(), NULL, 'r', NULL)",
    "DELETE FROM articles",
    "UPDATE articles SET title = 'x'",
    "CREATE TABLE t (a INT)",
    "CREATE TEMP TABLE t AS SELECT 1",
    "DROP TABLE events",
    "ALTER TABLE events ADD COLUMN x INT",
    "ATTACH '/tmp/other.duckdb' AS o",
    "COPY articles TO '/tmp/leak.csv'",
    "EXPORT DATABASE '/tmp/dump'",
    "SET threads = 1",
    "INSTALL httpfs",
    "LOAD httpfs",
    "CHECKPOINT",
    "SELECT 1; DELETE FROM articles",
    "EXPLAIN ANALYZE DELETE FROM articles",
    "/* sneaky */ insert into runs select * from runs",
])
def test_writes_are_refused(db: Path, sql: str) -> None:
    with pytest.raises(ReadOnlySQLError, match="Refused"):
        run_readonly(db, sql)
    assert run_readonly(db, "SELECT count(*) FROM articles")[1] == [(3,)]


def test_many_statements_share_one_connection(db: Path) -> None:
    """run_readonly_many answers in order, and checks every statement before running any."""
    from warehouse.query import run_readonly_many

    answers = run_readonly_many(db, [("SELECT count(*) AS n FROM articles", None),
                                     ("SELECT $t AS t", {"t": "x"}),
                                     ("SELECT url FROM articles ORDER BY url LIMIT ?", [1])])
    assert answers == [(["n"], [(3,)]), (["t"], [("x",)]), (["url"], [("https://n.example/0",)])]
    with pytest.raises(ReadOnlySQLError, match="Refused"):
        run_readonly_many(db, [("SELECT 1", None), ("DELETE FROM articles", None)])
    assert run_readonly(db, "SELECT count(*) FROM articles")[1] == [(3,)]


def test_reading_other_files_is_blocked(db: Path) -> None:
    with pytest.raises(QueryError, match="disabled"):
        run_readonly(db, "SELECT * FROM read_csv('/etc/hostname')")


def test_bad_sql_is_a_query_error(db: Path) -> None:
    with pytest.raises(QueryError):
        run_readonly(db, "SELEC 1")
    with pytest.raises(QueryError, match="no_such_table"):
        run_readonly(db, "SELECT * FROM no_such_table")
    with pytest.raises(ReadOnlySQLError):
        run_readonly(db, "   ")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "muster.duckdb"
    with pytest.raises(WarehouseNotFoundError, match=str(missing)):
        run_readonly(missing, "SELECT 1")
    assert not missing.exists()


@pytest.fixture()
def held(db: Path) -> Iterator[Path]:
    """Another process holding the file read-write until the test ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_UNTIL_STDIN_CLOSES, str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield db
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_locked_file_error_names_the_file(held: Path) -> None:
    with pytest.raises(WarehouseLockedError) as info, Warehouse(held, lock_timeout=0.2):
        pass
    message = str(info.value)
    assert str(held) in message and "another process" in message and "Hint" in message
    assert info.value.path == held
    with pytest.raises(WarehouseLockedError, match=str(held)):
        run_readonly(held, "SELECT 1", lock_timeout=0)


def test_lock_released_later_is_waited_for(db: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_ONE_SECOND, str(db)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        assert run_readonly(db, "SELECT count(*) FROM events", lock_timeout=20)[1] == [(3,)]
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_file_unchanged_by_refused_statements(db: Path) -> None:
    before = duckdb.connect(str(db), read_only=True)
    n = before.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
    before.close()
    for sql in ("CREATE TABLE z (a INT)", "DROP VIEW deployments"):
        with pytest.raises(ReadOnlySQLError):
            run_readonly(db, sql)
    assert run_readonly(db, "SELECT count(*) FROM duckdb_tables()")[1] == [n]


def test_snapshot_is_readable_while_the_writer_holds_the_file(db: Path) -> None:
    with Warehouse(db, hold_connection=True) as wh:
        snap = wh.publish_snapshot()
        assert snap == db.with_name("w.snapshot.duckdb")
        wh.load_articles([ArticleRecord(url="https://n.example/new", text="new",
                                        extractor_version="v")])
        code = ("import sys; from warehouse import run_readonly; "
                "print(run_readonly(sys.argv[1], 'SELECT count(*) FROM articles')[1][0][0])")
        out = subprocess.run([sys.executable, "-c", code, str(snap)], cwd=ROOT, timeout=60,
                             capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "3"  # the snapshot predates the 4th article
        assert wh.publish_snapshot() == snap
    assert run_readonly(snap, "SELECT count(*) FROM articles")[1] == [(4,)]
    assert not list(db.parent.glob(".*.tmp"))
