"""Warehouse loads against real DuckDB files: idempotence, replacement, rollback, state tables."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

import warehouse.store as store_mod
from extractors.model import Event
from warehouse import ArticleRecord, FetchLogRow, LoadCounts, Warehouse, WarehouseWriteError
from warehouse.ids import article_id, event_id

ROOT = Path(__file__).resolve().parent.parent


def ev(type_: str = "military_deployment", start: int = 0, **kw: object) -> Event:
    """A valid event with sensible defaults."""
    base: dict[str, object] = {"type": type_, "actor": "PRK", "target": "RUS", "quantity": 12000,
                               "unit": "troops", "sentence": "North Korea sent 12,000 troops.",
                               "char_start": start, "char_end": start + 30, "rule_id": "deploy.1",
                               "date": "2024-10-01", "date_precision": "season"}
    base.update(kw)
    return Event.model_validate(base)


def rec(n: int, text: str | None = None, events: list[Event] | None = None,
        version: str = "rules-v1") -> ArticleRecord:
    """Article number n, with two events unless given."""
    return ArticleRecord(
        url=f"https://news.example/a/{n}?utm_source=x", canonical_url=f"https://news.example/a/{n}",
        feed="example", title=f"Title {n}", author="A. Writer", published=date(2024, 11, n % 28 + 1),
        fetched_at=datetime(2024, 11, 2, 12, 0, tzinfo=UTC), language="en",
        text=text if text is not None else f"Article {n} text. North Korea sent 12,000 troops.",
        extractor_version=version,
        events=events if events is not None else [
            ev(start=0), ev("condemnation", start=40, actor="KOR", target="PRK", quantity=None,
                            unit=None, date=None, date_precision=None)],
    )


def table(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "muster.duckdb"


def test_open_creates_parent_dirs_and_empty_tables(db: Path) -> None:
    with Warehouse(db) as wh:
        assert wh.counts() == {"feeds": 0, "articles": 0, "events": 0, "fetch_log": 0, "runs": 0, "event_clusters": 0, "event_cluster_members": 0, "reextract_log": 0}
    assert db.is_file()


def test_same_batch_twice_changes_nothing(db: Path) -> None:
    batch = [rec(i) for i in range(5)]
    with Warehouse(db) as wh:
        first = wh.load_articles(batch)
        assert (first.articles_new, first.articles_updated, first.articles_unchanged,
                first.events_written) == (5, 0, 0, 10)
        before = wh.counts()
        loaded_at = table(db, "SELECT article_id, loaded_at FROM articles ORDER BY 1")
        second = wh.load_articles(batch)
        assert second == LoadCounts(articles_unchanged=5)
        # five articles report one deployment and one condemnation: two clusters, ten mentions
        assert wh.counts() == before == {"feeds": 0, "articles": 5, "events": 10,
                                         "fetch_log": 0, "runs": 0, "event_clusters": 2,
                                         "event_cluster_members": 10, "reextract_log": 0}
    assert table(db, "SELECT article_id, loaded_at FROM articles ORDER BY 1") == loaded_at


def test_ids_stored_are_the_deterministic_ones(db: Path) -> None:
    r = rec(1)
    with Warehouse(db) as wh:
        wh.load_articles([r])
    aid = article_id("https://news.example/a/1")
    assert table(db, "SELECT article_id, url FROM articles") == [(aid, r.url)]
    assert sorted(x[0] for x in table(db, "SELECT event_id FROM events")) == sorted(
        event_id(aid, e) for e in r.events)


def test_every_event_field_round_trips(db: Path) -> None:
    e = ev(actor_name="North Korea", target_name="Russia", location="Kursk",
           location_country="RUS", quantity_qualifier="upper", weapon_class="artillery",
           weapon_name="Koksan", direction="withdraw", status="reported",
           attributed_to="officials", confidence=0.75, rule_version=3)
    with Warehouse(db) as wh:
        wh.load_articles([rec(1, events=[e])])
    cols = list(Event.model_fields)
    row = table(db, f"SELECT {', '.join(cols)} FROM events")[0]
    expected = e.model_dump()
    expected["date"] = date(2024, 10, 1)
    assert dict(zip(cols, row)) == expected


def test_changed_text_replaces_events_as_a_unit(db: Path) -> None:
    with Warehouse(db) as wh:
        wh.load_articles([rec(1), rec(2)])
        new_events = [ev(start=5, quantity=3000), ev("casualties", start=50, quantity=4000,
                                                     unit="killed_or_injured")]
        counts = wh.load_articles([rec(1, text="Rewritten text.", events=new_events), rec(2)])
        assert (counts.articles_new, counts.articles_updated, counts.articles_unchanged,
                counts.events_written, counts.events_deleted) == (0, 1, 1, 2, 2)
        assert wh.counts()["articles"] == 2 and wh.counts()["events"] == 4
    aid = article_id("https://news.example/a/1")
    assert table(db, f"SELECT text FROM articles WHERE article_id = '{aid}'") == [("Rewritten text.",)]
    assert table(db, f"SELECT type, quantity FROM events WHERE article_id = '{aid}' ORDER BY 1") == [
        ("casualties", 4000), ("military_deployment", 3000)]


def test_new_extractor_version_reextracts(db: Path) -> None:
    with Warehouse(db) as wh:
        wh.load_articles([rec(1)])
        counts = wh.load_articles([rec(1, version="rules-v2", events=[ev(start=0)])])
        assert (counts.articles_updated, counts.events_written, counts.events_deleted) == (1, 1, 2)
    assert table(db, "SELECT DISTINCT extractor_version FROM events") == [("rules-v2",)]


def test_failure_mid_batch_leaves_nothing(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Warehouse(db) as wh:
        wh.load_articles([rec(1)])
        snapshot = table(db, "SELECT * FROM articles ORDER BY 1"), table(
            db, "SELECT * FROM events ORDER BY 1")

        def boom(con: duckdb.DuckDBPyConnection, rows: list) -> None:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(store_mod, "_insert_events", boom)
        changed = rec(1, text="changed", events=[ev(start=9)])
        with pytest.raises(RuntimeError, match="disk on fire"):
            wh.load_articles([changed, rec(2), rec(3)])
        monkeypatch.undo()
        assert wh.counts()["articles"] == 1 and wh.counts()["events"] == 2
    assert (table(db, "SELECT * FROM articles ORDER BY 1"),
            table(db, "SELECT * FROM events ORDER BY 1")) == snapshot


def test_duckdb_error_mid_batch_rolls_back_and_names_file(db: Path) -> None:
    with Warehouse(db) as wh:
        wh.load_articles([rec(1)])
        con = duckdb.connect(str(db))
        con.execute("INSERT INTO events SELECT * REPLACE ('e-clash' AS event_id, "
                    "'other' AS article_id) FROM events LIMIT 1")
        con.close()
        bad = rec(2)
        clash_id = event_id(bad.article_id, bad.events[0])
        con = duckdb.connect(str(db))
        con.execute("UPDATE events SET event_id = ? WHERE event_id = 'e-clash'", [clash_id])
        con.close()
        with pytest.raises(WarehouseWriteError, match=str(db).replace("\\", "\\\\")):
            wh.load_articles([rec(3), bad])
        assert wh.counts()["articles"] == 1 and wh.counts()["events"] == 3


def test_bad_records_are_reported_not_raised(db: Path) -> None:
    good = rec(1)
    bad = {"url": "https://x.example/b", "extractor_version": "v"}  # no text
    with Warehouse(db) as wh:
        counts = wh.load_articles([good, bad])  # type: ignore[list-item]
    assert (counts.articles_new, counts.articles_rejected) == (1, 1)
    assert "record 1 (https://x.example/b)" in counts.errors[0]


def test_duplicate_events_and_articles_in_one_batch(db: Path) -> None:
    twice = rec(1, events=[ev(start=0), ev(start=0, confidence=0.9)])
    with Warehouse(db) as wh:
        counts = wh.load_articles([rec(1, text="older"), twice])
        assert (counts.articles_new, counts.events_written, counts.events_duplicate) == (1, 1, 1)
        assert wh.counts()["articles"] == 1
    assert table(db, "SELECT text FROM articles") == [(twice.text,)]


def test_partial_and_bad_event_dates(db: Path) -> None:
    events = [ev(start=0, date="2024-06", date_precision="month"),
              ev(start=1, date="2025", date_precision="year"), ev(start=2, date="last fall")]
    with Warehouse(db) as wh:
        counts = wh.load_articles([rec(1, events=events)])
    assert counts.events_written == 3 and len(counts.warnings) == 1
    assert table(db, "SELECT date FROM events ORDER BY char_start") == [
        (date(2024, 6, 1),), (date(2025, 1, 1),), (None,)]


def test_seen_urls_and_known_hashes(db: Path) -> None:
    r = rec(1)
    with Warehouse(db) as wh:
        assert wh.seen_urls([r.url]) == set()
        wh.load_articles([r])
        assert wh.seen_urls([r.url, "https://news.example/a/1", "https://other/"]) == {
            r.url, "https://news.example/a/1"}
        assert wh.seen_urls([]) == set()
        assert wh.known_hashes([r.content_hash or "", "nope"]) == {r.content_hash}


def test_feed_state_runs_and_fetch_log(db: Path) -> None:
    with Warehouse(db) as wh:
        assert wh.get_feed_state("bbc") is None
        wh.save_feed_state("bbc", "https://bbc/rss", etag='"abc"', last_modified="Mon", status=200)
        wh.save_feed_state("bbc", "https://bbc/rss", status="not_modified")
        state = wh.get_feed_state("bbc")
        assert state and (state.etag, state.last_modified, state.last_status) == (
            '"abc"', "Mon", "not_modified")
        wh.start_run("run-1", "flow-9", {"feeds": ["bbc"], "since": date(2024, 1, 1)})
        rows = [FetchLogRow(run_id="run-1", url=f"https://bbc/{i}", feed="bbc", stage="page",
                            status_code=200, outcome="ok", elapsed_ms=12.6) for i in range(3)]
        assert wh.log_fetches(rows) == 3
        assert wh.log_fetches([]) == 0
        assert wh.finish_run("run-1", "completed", LoadCounts(articles_new=2)) is True
        assert wh.finish_run("run-unknown", "completed") is False
        assert wh.counts() == {"feeds": 1, "articles": 0, "events": 0, "fetch_log": 3, "runs": 1, "event_clusters": 0, "event_cluster_members": 0, "reextract_log": 0}
    status, params, counts = table(db, "SELECT status, parameters, counts FROM runs")[0]
    assert status == "completed" and json.loads(params)["since"] == "2024-01-01"
    assert json.loads(counts)["articles_new"] == 2
    assert table(db, "SELECT DISTINCT elapsed_ms FROM fetch_log") == [(13,)]
    with pytest.raises(ValueError):
        FetchLogRow(stage="download", outcome="ok")  # type: ignore[arg-type]


def test_views(db: Path) -> None:
    weapons = ev("weapons_unveiling", start=60, weapon_class="destroyer", quantity=5000,
                 unit="tons", target=None)
    with Warehouse(db) as wh:
        wh.load_articles([rec(1, events=[ev(start=0), ev(start=5, unit=None, quantity=None),
                                         weapons])])
    assert table(db, "SELECT troops, direction, url FROM deployments ORDER BY troops") == [
        (12000, "deploy", "https://news.example/a/1?utm_source=x"),
        (None, "deploy", "https://news.example/a/1?utm_source=x")]
    assert table(db, "SELECT type, weapon_class, quantity FROM weapons_events") == [
        ("weapons_unveiling", "destroyer", 5000)]
    assert table(db, "SELECT day, type, actor, n FROM daily_counts ORDER BY type") == [
        (date(2024, 11, 2), "military_deployment", "PRK", 2),
        (date(2024, 11, 2), "weapons_unveiling", "PRK", 1)]
    assert table(db, "SELECT count(*), count(title) FROM events_with_articles") == [(3, 3)]


def test_file_is_free_between_batches(db: Path) -> None:
    """The writer holds the file only during a batch, so another process can read in between."""
    reader = ("import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); "
              "print(c.execute('SELECT count(*) FROM articles').fetchone()[0])")
    with Warehouse(db) as wh:
        wh.load_articles([rec(1), rec(2)])
        out = subprocess.run([sys.executable, "-c", reader, str(db)], capture_output=True,
                             text=True, timeout=60, cwd=ROOT, check=False)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "2"
        wh.load_articles([rec(3)])
        assert wh.counts()["articles"] == 3


def test_hold_connection_mode(db: Path) -> None:
    with Warehouse(db, hold_connection=True) as wh:
        assert wh.load_articles([rec(1)]).articles_new == 1
        assert wh.load_articles([rec(1)]).articles_unchanged == 1
    with Warehouse(db) as wh:
        assert wh.counts()["events"] == 2
