"""Migrations (old files are upgraded on open) and schema documentation that cannot drift."""

from __future__ import annotations

import typing
from pathlib import Path

import duckdb
import pytest

from extractors.model import Event
from warehouse import SchemaVersionError, Warehouse, run_readonly
from warehouse.migrations import LATEST_VERSION, MIGRATIONS
from warehouse.schema import SCHEMA_MD, current_version, describe_columns, migrate
from warehouse.schema_doc import SCHEMA
from warehouse.store import EVENT_FIELD_TYPES

VIEWS = {"events_with_articles", "deployments", "weapons_events", "daily_counts",
         "clusters_with_sources", "events_with_clusters"}
TABLES = {"schema_version", "feeds", "articles", "events", "fetch_log", "runs",
          "event_clusters", "event_cluster_members", "reextract_log",
          "url_state", "feed_config"}


def make_v1(path: Path) -> None:
    """A file as Muster with only migration 1 left it, with one article and event in it."""
    con = duckdb.connect(str(path))
    assert migrate(con, target=1) == [1]
    con.execute("INSERT INTO articles VALUES ('a1', 'https://u', 'https://u', 'f', 't', NULL, "
                "DATE '2024-05-01', TIMESTAMP '2024-05-01 10:00', 'en', 'text', 'h', 'v1', "
                "TIMESTAMP '2024-05-01 10:00')")
    con.execute("INSERT INTO events (event_id, article_id, type, actor, status, sentence, "
                "char_start, char_end, rule_id, confidence, rule_version, extractor_version, "
                "extracted_at, quantity, unit) VALUES ('e1', 'a1', 'military_deployment', 'PRK', "
                "'asserted', 's', 0, 1, 'r', 0.5, 1, 'v1', now()::TIMESTAMP, 100, 'troops')")
    con.close()


def test_v1_file_is_upgraded_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    make_v1(path)
    con = duckdb.connect(str(path), read_only=True)
    assert current_version(con) == 1
    assert not {v for (v,) in con.execute("SELECT view_name FROM duckdb_views() "
                                          "WHERE NOT internal").fetchall()} & VIEWS
    con.close()
    with Warehouse(path) as wh:
        assert wh.counts()["articles"] == 1 and wh.counts()["events"] == 1
    _, rows = run_readonly(path, "SELECT version FROM schema_version ORDER BY version")
    assert rows == [(m.version,) for m in MIGRATIONS]
    assert run_readonly(path, "SELECT troops, title FROM deployments")[1] == [(100, "t")]
    with Warehouse(path):  # a second open applies nothing
        pass
    assert run_readonly(path, "SELECT count(*) FROM schema_version")[1] == [(LATEST_VERSION,)]


def test_fresh_file_has_every_table_and_view(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with Warehouse(path):
        pass
    con = duckdb.connect(str(path))
    try:
        assert current_version(con) == LATEST_VERSION
        assert set(describe_columns(con)) == TABLES | VIEWS
        kinds = dict(con.execute("SELECT table_name, 'table' FROM duckdb_tables() UNION ALL "
                                 "SELECT view_name, 'view' FROM duckdb_views() WHERE NOT internal"
                                 ).fetchall())
        assert {k for k, v in kinds.items() if v == "view"} == VIEWS
        comments = con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'events' "
                               "AND column_name = 'quantity_qualifier'").fetchone()
        assert comments and "approx" in comments[0]
    finally:
        con.close()


def test_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    with Warehouse(path):
        pass
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (?, 'from the future', now()::TIMESTAMP)",
                [LATEST_VERSION + 1])
    con.close()
    with pytest.raises(SchemaVersionError, match=str(path)), Warehouse(path):
        pass


def test_failed_migration_leaves_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import warehouse.schema as schema_mod
    from warehouse.migrations import Migration

    broken = (*MIGRATIONS, Migration(LATEST_VERSION + 1, "broken",
                                     ("CREATE TABLE extra (a INT)", "SELECT * FROM nowhere")))
    monkeypatch.setattr(schema_mod, "MIGRATIONS", broken)
    monkeypatch.setattr(schema_mod, "LATEST_VERSION", LATEST_VERSION + 1)
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    with pytest.raises(duckdb.Error):
        migrate(con)
    assert current_version(con) == LATEST_VERSION
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'extra'"
                       ).fetchone() == (0,)
    con.close()


def test_migration_versions_are_consecutive() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def test_every_column_documented_and_every_doc_a_column() -> None:
    con = duckdb.connect(":memory:")
    migrate(con)
    actual = {t: [c for c, _ in cols] for t, cols in describe_columns(con).items()}
    con.close()
    assert set(actual) == set(SCHEMA)
    for name, spec in SCHEMA.items():
        assert set(spec["columns"]) == set(actual[name]), name  # type: ignore[arg-type]


def test_schema_md_is_current() -> None:
    from warehouse.schema import render_schema_markdown

    assert SCHEMA_MD.read_text(encoding="utf-8") == render_schema_markdown(), (
        "warehouse/SCHEMA.md is stale: run write_schema_doc() from warehouse.schema")


_PY_TO_DUCK = {str: "VARCHAR", int: {"BIGINT", "INTEGER"}, float: "DOUBLE"}


def test_every_event_field_is_a_column_of_matching_type() -> None:
    con = duckdb.connect(":memory:")
    migrate(con)
    columns = dict(describe_columns(con)["events"])
    con.close()
    assert set(Event.model_fields) == set(EVENT_FIELD_TYPES)
    for name, field in Event.model_fields.items():
        assert columns[name] == EVENT_FIELD_TYPES[name], name
        if name == "date":
            assert columns[name] == "DATE"
            continue
        base = [a for a in typing.get_args(field.annotation) if a is not type(None)] or [field.annotation]
        py = base[0]
        if typing.get_origin(py) is typing.Literal:
            py = str
        expected = _PY_TO_DUCK.get(py, "VARCHAR")
        assert columns[name] in (expected if isinstance(expected, set) else {expected}), name


def test_v4_articles_are_kept_when_text_moves_to_zstd(tmp_path: Path) -> None:
    """Migration 5 rebuilds `articles` (ZSTD text): rows, key and views survive the upgrade."""
    from datetime import datetime

    from warehouse import ArticleRecord

    assert LATEST_VERSION >= 5
    path = tmp_path / "v4.duckdb"
    text = "Pyongyang sent troops. " * 200
    con = duckdb.connect(str(path))
    migrate(con, target=4)
    con.execute("INSERT INTO articles VALUES ('a1', 'https://x.example/1', 'https://x.example/1', "
                "'f', 't', NULL, DATE '2025-01-02', TIMESTAMP '2025-01-02 03:04:05', 'en', ?, "
                "'h', 'v1', TIMESTAMP '2025-01-02 03:04:05')", [text])
    con.close()
    with Warehouse(path) as wh:
        counts = wh.load_articles([ArticleRecord(url="https://x.example/2", text=text,
                                                 extractor_version="v1",
                                                 fetched_at=datetime(2025, 1, 3))])
    assert counts.articles_new == 1
    _, rows = run_readonly(path, "SELECT article_id, text = ? FROM articles ORDER BY url", [text])
    assert rows[0] == ("a1", True) and rows[1][1] is True
    con = duckdb.connect(str(path))
    try:
        assert current_version(con) == LATEST_VERSION
        compression = {r[0] for r in con.execute(
            "SELECT compression FROM pragma_storage_info('articles') WHERE column_name = 'text' "
            "AND segment_type = 'VARCHAR'").fetchall()}
        assert compression == {"ZSTD"}
        assert con.execute("SELECT count(*) FROM events_with_articles").fetchone() == (0,)
        with pytest.raises(duckdb.ConstraintException):
            con.execute("BEGIN")
            con.execute("INSERT INTO articles SELECT * FROM articles")  # primary key kept
    finally:
        con.execute("ROLLBACK")
        con.close()
