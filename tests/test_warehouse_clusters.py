"""Event clusters on real DuckDB files: one happening reported by several articles is one cluster."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from extractors.model import Event
from warehouse import ArticleRecord, Warehouse, run_readonly
from warehouse.clusters import date_span, quantity_range
from warehouse.migrations import LATEST_VERSION
from warehouse.schema import current_version, migrate


def dep(quantity: int | None = 12000, *, day: str | None = "2024-11-01", precision: str = "day",
        qualifier: str | None = "exact", start: int = 0, **kw: object) -> Event:
    base: dict[str, object] = {
        "type": "military_deployment", "actor": "PRK", "target": "RUS", "location": "Kursk",
        "quantity": quantity, "unit": "troops" if quantity else None,
        "quantity_qualifier": qualifier if quantity else None, "date": day,
        "date_precision": precision if day else None, "sentence": "North Korea sent troops.",
        "char_start": start, "char_end": start + 20, "rule_id": "deployment.send_verb"}
    base.update(kw)
    return Event.model_validate(base)


def art(n: int, events: list[Event], published: date = date(2024, 11, 2),
        feed: str | None = None, text: str | None = None) -> ArticleRecord:
    return ArticleRecord(url=f"https://news{n}.example/story", feed=feed or f"feed{n}",
                         title=f"Story {n}", published=published,
                         fetched_at=datetime(2024, 11, 3, tzinfo=UTC),
                         text=text or f"Story {n}. North Korea sent troops.", extractor_version="v1",
                         events=events)


def clusters(db: Path) -> list[tuple]:
    return run_readonly(db, "SELECT quantity, mention_count, article_count, source_count, "
                            "first_seen, last_seen, feeds FROM event_clusters "
                            "ORDER BY quantity NULLS LAST, first_seen, mention_count DESC")[1]


def consistent(db: Path) -> None:
    """Every event is in exactly one cluster and the mention counts add up."""
    (row,) = run_readonly(db, """
        SELECT (SELECT count(*) FROM events),
               (SELECT count(*) FROM event_cluster_members),
               (SELECT count(*) FROM events WHERE event_id NOT IN
                    (SELECT event_id FROM event_cluster_members)),
               (SELECT coalesce(sum(mention_count), 0) FROM event_clusters),
               (SELECT count(*) FROM event_cluster_members WHERE cluster_id NOT IN
                    (SELECT cluster_id FROM event_clusters))""")[1]
    assert row[0] == row[1] == row[3] and row[2] == 0 and row[4] == 0, row


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "c.duckdb"


def test_two_articles_same_deployment_one_cluster(db: Path) -> None:
    with Warehouse(db) as wh:
        wh.load_articles([art(1, [dep()], published=date(2024, 11, 2)),
                          art(2, [dep(qualifier="upper")], published=date(2024, 11, 4))])
    assert clusters(db) == [(12000, 2, 2, 2, date(2024, 11, 2), date(2024, 11, 4),
                             ["feed1", "feed2"])]
    (sources,) = run_readonly(db, "SELECT sources FROM clusters_with_sources")[1][0]
    assert [s["url"] for s in sources] == ["https://news1.example/story",
                                           "https://news2.example/story"]
    assert all(s["sentence"] == "North Korea sent troops." for s in sources)  # own evidence
    assert run_readonly(db, "SELECT count(*), count(DISTINCT cluster_id) FROM events_with_clusters"
                        )[1] == [(2, 1)]
    consistent(db)


def test_different_quantity_or_date_are_separate(db: Path) -> None:
    with Warehouse(db) as wh:
        wh.load_articles([
            art(1, [dep(12000)]),
            art(2, [dep(3000)]),                                  # another quantity
            art(3, [dep(12000, day="2024-12-20")], published=date(2024, 12, 21)),  # weeks later
            art(4, [dep(12000, location="Kyiv")]),               # another place
            art(5, [dep(12000, unit="units")]),                  # another unit
            art(6, [dep(None)]),                                 # no number: fits the first
        ])
    rows = clusters(db)
    assert [(q, n) for q, n, *_ in rows] == [(3000, 1), (12000, 2), (12000, 1), (12000, 1),
                                              (12000, 1)]
    assert run_readonly(db, "SELECT count(*) FROM event_clusters WHERE unit = 'units'")[1] == [(1,)]
    consistent(db)


def test_complete_linkage_does_not_chain(db: Path) -> None:
    # 10,000 ~ "about 10,900" ~ 11,800, but 10,000 and 11,800 are not compatible.
    with Warehouse(db) as wh:
        wh.load_articles([art(1, [dep(10000)]), art(2, [dep(10900, qualifier="approx")]),
                          art(3, [dep(11800)])])
    assert sorted(n for _, n, *_ in clusters(db)) == [1, 2]
    consistent(db)


def test_partial_dates_and_undated_events_use_spans() -> None:
    seen = date(2024, 11, 20)
    assert date_span(date(2024, 10, 1), "month", seen) == (date(2024, 10, 1), date(2024, 10, 31))
    assert date_span(date(2024, 9, 1), "season", seen)[1] == date(2024, 12, 1)
    assert date_span(date(2024, 1, 1), "year", seen) == (date(2024, 1, 1), date(2024, 12, 31))
    assert date_span(None, None, seen) == (seen, seen)
    assert quantity_range(100, "approx") == pytest.approx((90, 110))
    assert quantity_range(100, "upper") == (50, 100) and quantity_range(100, "lower") == (100, 200)
    assert quantity_range(None, "exact") is None


def test_reruns_change_no_row_and_ids_do_not_depend_on_load_order(tmp_path: Path) -> None:
    batch = [art(i, [dep(12000 if i % 2 else 3000, start=0),
                     dep(None, type="condemnation", actor="KOR", target="PRK", start=40)],
                 published=date(2024, 11, 1 + i)) for i in range(6)]
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    with Warehouse(a) as wh:
        wh.load_articles(batch)
        counts = wh.counts()
        assert (counts["events"], counts["event_clusters"], counts["event_cluster_members"]) == (
            12, 3, 12)
        wh.load_articles(batch)
        wh.load_articles(batch[:3])
        assert wh.counts() == counts
    with Warehouse(b) as wh:  # another file, reversed, in two batches
        wh.load_articles(list(reversed(batch[3:])))
        wh.load_articles(list(reversed(batch[:3])))
    sql = "SELECT * FROM event_clusters ORDER BY cluster_id"
    assert run_readonly(a, sql)[1] == run_readonly(b, sql)[1]
    sql = "SELECT * FROM event_cluster_members ORDER BY event_id"
    assert run_readonly(a, sql)[1] == run_readonly(b, sql)[1]


def test_changed_article_moves_its_event_to_another_cluster(db: Path) -> None:
    with Warehouse(db) as wh:
        wh.load_articles([art(1, [dep(12000)]), art(2, [dep(12000)])])
        assert [n for _, n, *_ in clusters(db)] == [2]
        # article 2 is corrected: now it says 3,000
        wh.load_articles([art(2, [dep(3000)], text="Story 2, corrected: 3,000 troops.")])
        assert wh.counts()["event_clusters"] == 2
    assert [(q, n) for q, n, *_ in clusters(db)] == [(3000, 1), (12000, 1)]
    consistent(db)


def test_v2_file_is_migrated_and_its_events_clustered(db: Path) -> None:
    """A database made by the previous schema version (2) is upgraded on open."""
    con = duckdb.connect(str(db))
    assert migrate(con, target=2) == [1, 2]
    for n in (1, 2):
        con.execute(f"INSERT INTO articles VALUES ('a{n}', 'https://u{n}', 'https://u{n}', 'f{n}', "
                    f"'t{n}', NULL, DATE '2024-11-0{n}', TIMESTAMP '2024-11-03 10:00', 'en', "
                    "'text', 'h', 'v1', TIMESTAMP '2024-11-03 10:00')")
        con.execute("INSERT INTO events (event_id, article_id, type, actor, target, status, "
                    "sentence, char_start, char_end, rule_id, confidence, rule_version, "
                    "extractor_version, extracted_at, quantity, unit, date, date_precision) VALUES "
                    f"('e{n}', 'a{n}', 'military_deployment', 'PRK', 'RUS', 'asserted', 's', 0, 1, "
                    "'r', 0.5, 1, 'v1', now()::TIMESTAMP, 12000, 'troops', DATE '2024-11-01', 'day')")
    con.close()
    with Warehouse(db) as wh:
        counts = wh.counts()
    assert (counts["articles"], counts["events"], counts["event_clusters"],
            counts["event_cluster_members"]) == (2, 2, 1, 2)
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert current_version(con) == LATEST_VERSION >= 3
        assert con.execute("SELECT mention_count, first_seen, last_seen FROM event_clusters"
                           ).fetchall() == [(2, date(2024, 11, 1), date(2024, 11, 2))]
    finally:
        con.close()
    consistent(db)


def test_place_is_compared_case_insensitively_and_refreshes_stay_consistent(db: Path) -> None:
    with Warehouse(db) as wh:
        wh.load_articles([art(1, [dep(location="Kursk")]), art(2, [dep(location="KURSK ")])])
        assert [n for _, n, *_ in clusters(db)] == [2]
        wh.load_articles([art(2, [dep(location="KURSK ", quantity=500)], text="Story 2, v2.")])
        assert sorted(n for _, n, *_ in clusters(db)) == [1, 1]
    consistent(db)


@pytest.mark.parametrize("first", [500, 1000])
def test_cluster_row_takes_first_mentioned_on_ties(db: Path, first: int) -> None:
    """Mode ties go to the quantity mentioned first; unit, location, feeds follow fixed rules.

    The cluster row is aggregated in SQL (cluster_sql.py `CLUSTER_SQL`); this pins
    the rules that Python's `Counter.most_common` and "first non-empty" gave.
    """
    other = 1500 - first
    spec = [(first, "lower" if first == 500 else "upper", 1, " kursk", "b"),
            (other, "upper" if first == 500 else "lower", 2, "Kursk", "a"),
            (other, "upper" if first == 500 else "lower", 3, "KURSK", "a"),
            (first, "lower" if first == 500 else "upper", 4, "Kursk", None)]
    with Warehouse(db) as wh:
        wh.load_articles([art(n, [dep(q, qualifier=qual, day=f"2024-11-0{n}", location=place)]
                              ).model_copy(update={"feed": feed})
                          for q, qual, n, place, feed in spec])
    ((row, members),) = run_readonly(db, """
        SELECT [quantity, quantity_min, quantity_max, mention_count, article_count,
                source_count]::VARCHAR[] || [location, unit, date_start::VARCHAR] || feeds,
               (SELECT list(a.url ORDER BY m.mention_rank) FROM event_cluster_members m
                JOIN articles a USING (article_id))
        FROM event_clusters""")[1]
    assert row == [str(first), "500", "1000", "4", "4", "2", " kursk", "troops", "2024-11-01",
                   "a", "b"]
    assert members == [f"https://news{n}.example/story" for n in (1, 2, 3, 4)]
    consistent(db)


def test_incremental_maintenance_equals_full_rebuild(db: Path) -> None:
    """Batches, replacements and deletions leave exactly what clustering from scratch gives."""
    days = ["2024-11-01", "2024-11-03", "2024-11-06", "2024-11-20", None]
    batches = [[art(n, [dep(q, day=days[n % 5], start=0), dep(q, day=days[(n + 1) % 5], start=30,
                                                               location="Kyiv" if n % 3 else "Kursk")])
                for n in range(k, k + 6) for q in [(n % 4) * 1000 or None]] for k in (0, 6, 12)]
    changed = [art(n, [dep(7000, day="2024-11-02")], text=f"Story {n} again.") for n in (1, 7, 13)]
    # Same events (same ids), but another day, status and feed: only the cluster rows change.
    restated = [art(n, [e.model_copy(update={"status": "denied"}) for e in batches[0][n].events],
                    published=date(2024, 11, 5), feed="moved", text=f"Story {n} restated.")
                for n in (2, 4)]
    with Warehouse(db) as wh:
        for batch in [*batches, changed, restated]:
            wh.load_articles(batch)
    assert run_readonly(db, "SELECT count(*) FROM event_clusters WHERE list_contains(feeds, "
                            "'moved') AND list_contains(statuses, 'denied')")[1][0][0] >= 2
    dump = ("SELECT (SELECT list(c ORDER BY c.cluster_id) FROM event_clusters c), "
            "(SELECT list(m ORDER BY m.event_id) FROM event_cluster_members m)")
    incremental = run_readonly(db, dump)[1]
    with Warehouse(db) as wh:
        wh.rebuild_clusters()
    assert run_readonly(db, dump)[1] == incremental
    assert len(incremental[0][0]) > 3
    consistent(db)


@pytest.mark.parametrize("sql_diff", [False, True])
def test_small_batches_with_replacements_equal_full_rebuild(tmp_path: Path, sql_diff: bool,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches that replace articles (most events keeping their ids, one swapped) re-cluster
    only the date segments they touch; after every batch the file equals a rebuild.
    `sql_diff`: old and new rows compared by SQL (big batches) instead of Python."""
    import random
    import shutil

    import warehouse.cluster_refresh

    if sql_diff:
        monkeypatch.setattr(warehouse.cluster_refresh, "_PYTHON_DIFF_ROWS", 0)

    rng = random.Random(5)

    def events(n: int, salt: int) -> list[Event]:
        out = []
        for k in range(rng.randrange(1, 5)):
            q = rng.choice([None, 1000, 1100, 3000])
            out.append(dep(q, day=(date(2024, 11, 1).fromordinal(date(2024, 11, 1).toordinal()
                                                                  + rng.randrange(300))).isoformat()
                           if rng.random() < .8 else None,
                           qualifier=rng.choice(["exact", "approx", "lower"]),
                           location=rng.choice(["Kursk", "Kyiv"]), start=k * 40 + salt))
        return out

    arts = [art(n, events(n, 0), published=date(2024, 11, 1 + n % 28)) for n in range(160)]
    dump = ("SELECT (SELECT list(c ORDER BY c.cluster_id) FROM event_clusters c), "
            "(SELECT list(m ORDER BY m.event_id) FROM event_cluster_members m)")
    with Warehouse(db := tmp_path / "w.duckdb") as wh:
        for i in range(0, len(arts), 40):
            wh.load_articles(arts[i:i + 40])
    for round_ in range(3):
        picked = rng.sample(range(len(arts)), 30)
        for n in picked:  # same events (same ids) but the first, which moves: a new id
            old = arts[n]
            evs = [*old.events[1:], old.events[0].model_copy(update={"char_start": 900 + round_})]
            arts[n] = art(n, evs, published=old.published or date(2024, 11, 1),
                          text=f"Story {n} take {round_}.")
        for i in range(0, len(picked), 6):
            with Warehouse(db) as wh:
                wh.load_articles([arts[n] for n in picked[i:i + 6]])
            shutil.copy(db, rebuilt := tmp_path / "r.duckdb")
            with Warehouse(rebuilt) as wh:
                wh.rebuild_clusters()
            assert run_readonly(db, dump)[1] == run_readonly(rebuilt, dump)[1], (round_, i)
            consistent(db)


def test_v5_file_gets_member_clustering_inputs(db: Path) -> None:
    """Migration 6 adds each member's block, span and quantity range, re-clustering the file:
    its (here stale) member and cluster rows are replaced by what the events give."""
    con = duckdb.connect(str(db))
    assert migrate(con, target=5) == [1, 2, 3, 4, 5]
    con.execute("INSERT INTO articles VALUES ('a1', 'https://u1', 'https://u1', 'f1', 't1', NULL, "
                "DATE '2024-11-02', TIMESTAMP '2024-11-03 10:00', 'en', 'text', 'h', 'v1', "
                "TIMESTAMP '2024-11-03 10:00')")
    con.execute("INSERT INTO events (event_id, article_id, type, actor, target, location, status, "
                "sentence, char_start, char_end, rule_id, confidence, rule_version, "
                "extractor_version, extracted_at, quantity, unit, quantity_qualifier, date, "
                "date_precision) VALUES ('e1', 'a1', 'military_deployment', 'PRK', NULL, ' Kursk', "
                "'asserted', 's', 0, 1, 'r', 0.5, 1, 'v1', now()::TIMESTAMP, 1000, 'troops', "
                "'approx', DATE '2024-10-01', 'month')")
    con.execute("INSERT INTO event_cluster_members VALUES ('e1', 'stale', 'a1', 7)")
    con.close()
    with Warehouse(db) as wh:
        assert wh.counts()["event_cluster_members"] == 1
    (row,) = run_readonly(db, "SELECT cluster_id <> 'stale', mention_rank, block_type, block_actor, "
                              "block_target, block_place, span_start, seen_day, span_end, "
                              "quantity_low, quantity_high, unit FROM event_cluster_members")[1]
    epoch = date(1970, 1, 1)
    assert row == (True, 1, "military_deployment", "PRK", "", "kursk",
                   (date(2024, 10, 1) - epoch).days, (date(2024, 11, 2) - epoch).days,
                   (date(2024, 10, 31) - epoch).days, pytest.approx(900.0),
                   pytest.approx(1100.0), "troops")
    consistent(db)


def test_rebuild_removes_cluster_rows_no_event_gives(db: Path) -> None:
    """A full rebuild compares every stored cluster row, so a stray one is deleted."""
    with Warehouse(db) as wh:
        wh.load_articles([art(1, [dep()]), art(2, [dep()])])
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO event_clusters SELECT * REPLACE ('stray' AS cluster_id) "
                "FROM event_clusters")
    con.execute("DELETE FROM event_cluster_members")
    con.close()
    with Warehouse(db) as wh:
        wh.rebuild_clusters()
        assert (wh.counts()["event_clusters"], wh.counts()["event_cluster_members"]) == (1, 2)
    consistent(db)
