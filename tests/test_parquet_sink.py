"""The Parquet write path (warehouse/parquet_sink.py) against the DuckDB warehouse it stands in for.

Real files throughout: the seed article and the real dev pages are cleaned and extracted,
then loaded into a DuckDB file and into a Parquet directory; readers use the views the sink
publishes. Concurrency and crashes use real child processes (a crash is ``os._exit`` at
the rename, the way a kill would land there).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from extractors import extract
from extractors.loader import load_ruleset
from ingest.clean import clean_html
from tests.fixtures_http import LocalHTTPServer, Route, rss
from warehouse import ArticleRecord, Warehouse
from warehouse.ids import event_id
from warehouse.parquet_read import VIEWS_FILE, connect, run_readonly_parquet
from warehouse.parquet_sink import ParquetSink, sweep_temp_files
from warehouse.store import ARTICLE_COLUMNS, EVENT_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "pages"
SEED_HTML = ROOT / "configs" / "demo" / "seed-article.html"
FETCHED = dt.datetime(2025, 5, 2, 8, 30)
ARTICLE_SQL = ", ".join(c for c in ARTICLE_COLUMNS if c != "loaded_at")
EVENT_SQL = ", ".join(EVENT_COLUMNS)


@pytest.fixture(scope="module")
def records() -> list[ArticleRecord]:
    """The seed article and every real dev page, cleaned and extracted as the pipeline does."""
    ruleset = load_ruleset(ROOT / "configs")
    pages = [("https://example.org/news/seed-article.html", SEED_HTML.read_bytes())]
    pages += [(f"https://example.org/pages/{p.name.removesuffix('.gz')}",
               gzip.decompress(p.read_bytes())) for p in sorted(PAGES.glob("*.html.gz"))]
    out = []
    for url, html in pages:
        art = clean_html(html, url).article
        assert art is not None, url
        out.append(ArticleRecord(
            url=url, canonical_url=url, feed="dev", title=art.title, author=art.author,
            published=art.published, fetched_at=FETCHED, language=art.language, text=art.text,
            content_hash=art.content_hash, extractor_version=ruleset.version,
            events=extract(art.text, art.published, ruleset, title=art.title),
            extracted_at=FETCHED))
    assert sum(len(r.events) for r in out) >= 8  # the seed alone has 8 gold events
    assert len({r.published for r in out}) >= 3  # the batch spans several partitions
    return out


def _duck(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _pq(root: Path, sql: str) -> list[tuple]:
    return run_readonly_parquet(root, sql)[1]


def _state(root: Path) -> dict[str, object]:
    """Everything a reader can see: current rows, raw versions and the files."""
    return {
        "articles": _pq(root, f"SELECT {ARTICLE_SQL} FROM articles ORDER BY article_id"),
        "events": _pq(root, f"SELECT {EVENT_SQL} FROM events ORDER BY event_id"),
        "versions": _pq(root, "SELECT (SELECT count(*) FROM article_versions), "
                              "(SELECT count(*) FROM event_versions)"),
        "files": sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet")),
    }


def test_views_give_what_the_duckdb_warehouse_holds(tmp_path: Path,
                                                    records: list[ArticleRecord]) -> None:
    db, root = tmp_path / "w.duckdb", tmp_path / "pq"
    with Warehouse(db) as wh:
        duck_counts = wh.load_articles(records)
    with ParquetSink(root) as sink:
        pq_counts = sink.load_articles(records)
    for name in ("articles_new", "events_written", "events_duplicate", "articles_rejected"):
        assert getattr(pq_counts, name) == getattr(duck_counts, name), name
    assert pq_counts.articles_new == len(records)

    articles = _pq(root, f"SELECT {ARTICLE_SQL} FROM articles ORDER BY article_id")
    assert articles == _duck(db, f"SELECT {ARTICLE_SQL} FROM articles ORDER BY article_id")
    events = _pq(root, f"SELECT {EVENT_SQL} FROM events ORDER BY event_id")
    assert events == _duck(db, f"SELECT {EVENT_SQL} FROM events ORDER BY event_id")
    assert len(events) == duck_counts.events_written > 0
    # the convenience views answer the README's questions the same way
    for view in ("deployments", "weapons_events", "daily_counts"):
        sql = f"SELECT * FROM {view} ORDER BY ALL"
        assert _pq(root, sql) == _duck(db, sql), view
    # layout: hive partitions by article day, one file per table and day for the batch
    days = {r.published or FETCHED.date() for r in records}
    files = [p for p in (root / "articles").rglob("*.parquet") if "0001-01-01" not in str(p)]
    assert {p.parent.name for p in files} == {f"published_date={d.isoformat()}" for d in days}
    assert len({p.name for p in files}) == 1  # one batch -> one deterministic name
    # the views file works in a plain DuckDB too (what `duckdb -init views.sql` does)
    con = duckdb.connect()
    con.execute((root / VIEWS_FILE).read_text())
    assert con.execute("SELECT count(*) FROM events").fetchone() == (len(events),)


def test_rerun_changes_nothing_and_an_update_supersedes(tmp_path: Path,
                                                       records: list[ArticleRecord]) -> None:
    root = tmp_path / "pq"
    sink = ParquetSink(root)
    sink.load_articles(records)
    before = _state(root)
    again = sink.load_articles(records)
    assert again.articles_unchanged == len(records) and again.articles_new == 0
    assert again.events_written == 0
    assert _state(root) == before

    seed = records[0]
    changed = seed.model_copy(update={"text": seed.text + " Later, Russia denied it.",
                                      "content_hash": None, "events": seed.events[:2]})
    changed = ArticleRecord.model_validate(changed.model_dump())  # recompute content_hash
    counts = sink.load_articles([changed])
    assert (counts.articles_updated, counts.articles_new, counts.events_written) == (1, 0, 2)
    after = _state(root)
    assert len(after["articles"]) == len(before["articles"])  # type: ignore[arg-type]
    text = _pq(root, f"SELECT text FROM articles WHERE url = '{seed.url}'")
    assert text == [(changed.text,)]
    seed_events = _pq(root, f"SELECT count(*) FROM events WHERE article_id = '{seed.article_id}'")
    assert seed_events == [(2,)]  # the old version's events are hidden, not mixed in
    total = _pq(root, "SELECT count(*) FROM events")[0][0]
    assert total == len(before["events"]) - len(seed.events) + 2  # type: ignore[arg-type]


_WRITER = """
import json, sys
from warehouse import ArticleRecord
from warehouse.parquet_sink import ParquetSink
root, path, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
recs = [ArticleRecord.model_validate(json.loads(line)) for line in open(path)]
sink = ParquetSink(root)
for i in range(0, len(recs), size):
    sink.load_articles(recs[i:i + size])
"""


def _dump(records: list[ArticleRecord], path: Path) -> Path:
    path.write_text("".join(json.dumps(r.model_dump(mode="json")) + "\n" for r in records))
    return path


def _copies(records: list[ArticleRecord], tag: str) -> list[ArticleRecord]:
    """The records under other URLs (distinct article ids), so writers have distinct batches."""
    return [r.model_copy(update={"url": r.url + f"?w={tag}", "canonical_url": r.url + f"?w={tag}"})
            for r in records]


def test_two_writer_processes_both_land(tmp_path: Path, records: list[ArticleRecord]) -> None:
    root = tmp_path / "pq"
    # each writer has its own articles, and both also load the same ones (two feeds, say)
    a, b = _copies(records, "a") + records, _copies(records, "b") + records
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(root),
                               str(_dump(recs, tmp_path / f"{tag}.jsonl")), "2"], cwd=ROOT)
             for tag, recs in (("a", a), ("b", b))]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]

    with Warehouse(tmp_path / "w.duckdb") as wh:  # the same records, one writer, DuckDB
        wh.load_articles(a)
        wh.load_articles(b)
    db = tmp_path / "w.duckdb"
    assert _pq(root, "SELECT count(*), count(DISTINCT article_id) FROM articles") == \
        [(3 * len(records), 3 * len(records))]
    assert _pq(root, "SELECT article_id, content_hash FROM articles ORDER BY 1") == \
        _duck(db, "SELECT article_id, content_hash FROM articles ORDER BY 1")
    assert _pq(root, "SELECT event_id, sentence FROM events ORDER BY 1") == \
        _duck(db, "SELECT event_id, sentence FROM events ORDER BY 1")
    assert not list(root.rglob("*.tmp"))


_CRASHER = """
import json, os, sys
from warehouse import ArticleRecord
import warehouse.parquet_sink as ps
root, path, allowed = sys.argv[1], sys.argv[2], int(sys.argv[3])
recs = [ArticleRecord.model_validate(json.loads(line)) for line in open(path)]
sink = ps.ParquetSink(root)
sink.open()  # layout and views exist, as after an earlier run
done = []
def publish(tmp, final):  # the process dies after the temp file is written, before its rename
    if len(done) == allowed:
        os._exit(9)
    done.append(final)
    os.replace(tmp, final)
ps._publish = publish
sink.load_articles(recs)
"""


@pytest.mark.parametrize("renamed", [0, 1, 3, -1])
def test_a_crash_before_a_rename_shows_no_partial_batch(
        tmp_path: Path, records: list[ArticleRecord], renamed: int) -> None:
    root = tmp_path / "pq"
    n_files = len({r.published or FETCHED.date() for r in records}) \
        + len({r.published or FETCHED.date() for r in records if r.events})
    allowed = n_files - 1 if renamed == -1 else renamed  # -1: the last article file
    data = _dump(records, tmp_path / "batch.jsonl")
    child = subprocess.run([sys.executable, "-c", _CRASHER, str(root), str(data), str(allowed)],
                           cwd=ROOT, capture_output=True, text=True, timeout=300,
                           check=False)
    assert child.returncode == 9, child.stderr

    temps = list(root.rglob(".*.tmp"))
    assert len(temps) == 1 and not temps[0].name.endswith(".parquet")
    for f in root.rglob("*.parquet"):  # every visible file is a whole, readable Parquet file
        pq.read_metadata(f)
    # whatever articles are visible come with all their events, never a part of them
    by_id = {r.article_id: r for r in records}
    for (aid,) in _pq(root, "SELECT article_id FROM articles"):
        n = _pq(root, f"SELECT count(*) FROM events WHERE article_id = '{aid}'")[0][0]
        assert n == len({event_id(aid, e) for e in by_id[aid].events})
    visible = len(_pq(root, "SELECT article_id FROM articles"))
    assert visible < len(records)

    counts = ParquetSink(root).load_articles(records)  # the re-run completes the batch
    assert counts.articles_new == len(records) - visible
    clean = tmp_path / "clean"
    ParquetSink(clean).load_articles(records)
    for table, sql in (("articles", ARTICLE_SQL), ("events", EVENT_SQL)):
        q = f"SELECT {sql} FROM {table} ORDER BY ALL"
        assert _pq(root, q) == _pq(clean, q), table
    assert sweep_temp_files(root, older_than_s=0) == 1
    assert not list(root.rglob("*.tmp"))


def test_readers_are_sandboxed(tmp_path: Path, records: list[ArticleRecord]) -> None:
    from warehouse.errors import QueryError, ReadOnlySQLError

    root = tmp_path / "pq"
    ParquetSink(root).open()  # an empty dataset still has its tables
    assert _pq(root, "SELECT count(*) FROM articles") == [(0,)]
    with pytest.raises(ReadOnlySQLError):
        run_readonly_parquet(root, "COPY (SELECT 1) TO 'x.csv'")
    with pytest.raises(QueryError, match="/etc/hostname"):
        run_readonly_parquet(root, "SELECT * FROM read_text('/etc/hostname')")
    con = connect(root)
    try:
        with pytest.raises(duckdb.Error):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()


def test_muster_sql_reads_a_parquet_directory(tmp_path: Path, records: list[ArticleRecord]) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    root = tmp_path / "pq"
    ParquetSink(root).load_articles(records)
    n_events = len(_pq(root, "SELECT event_id FROM events"))
    result = CliRunner().invoke(app, ["sql", "--db", str(root), "--format", "json",
                                      "SELECT count(*) AS n FROM events_with_articles"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": n_events}]
    refused = CliRunner().invoke(app, ["sql", "--db", str(root),
                                       "SELECT * FROM read_text('/etc/hostname')"])
    assert refused.exit_code != 0


# -- the pipeline with `sink: parquet` --------------------------------------------------------

@pytest.fixture()
def feeds_file(tmp_path: Path, http_server: LocalHTTPServer) -> Path:
    http_server.serve_dir(PAGES, prefix="/pages/")
    http_server.add("/news/seed-article.html", Route(body=SEED_HTML.read_bytes(), etag='"seed-1"'))
    paths = ["/news/seed-article.html"]
    paths += [f"/pages/{p.name.removesuffix('.gz')}" for p in sorted(PAGES.glob("*.html.gz"))]
    http_server.add("/feed.xml", Route(body=rss(str(http_server).rstrip("/"), paths),
                                       content_type="application/rss+xml"))
    path = tmp_path / "feeds.yaml"
    path.write_text(f"feeds:\n  - name: local\n    url: {http_server.url('/feed.xml')}\n")
    return path


@pytest.mark.slow
def test_pipeline_run_with_the_parquet_sink(prefect_server: None, tmp_path: Path, feeds_file: Path,
                                             http_server: LocalHTTPServer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.prefect_flows import pipeline

    # both runs use one snapshot of the rules, so they must give the same events
    configs = shutil.copytree(ROOT / "configs", tmp_path / "configs")
    monkeypatch.setenv("MUSTER_CONFIGS_DIR", str(configs))
    duck_db = tmp_path / "duck" / "muster.duckdb"
    pipeline(db_path=str(duck_db), feeds_path=str(feeds_file))  # the reference: sink duckdb

    root, state_db = tmp_path / "pq", tmp_path / "state" / "muster.duckdb"
    monkeypatch.setenv("MUSTER_SINK", "parquet")
    monkeypatch.setenv("MUSTER_PARQUET_DIR", str(root))
    report = pipeline(db_path=str(state_db), feeds_path=str(feeds_file))
    n_pages = 1 + len(list(PAGES.glob("*.html.gz")))
    assert report.articles_new == n_pages and report.events_written > 0

    # articles and events are in Parquet, identical to the DuckDB run's; state is in DuckDB
    cols = "article_id, url, title, published, text, content_hash, extractor_version"
    assert _pq(root, f"SELECT {cols} FROM articles ORDER BY 1") == \
        _duck(duck_db, f"SELECT {cols} FROM articles ORDER BY 1")
    ev = "event_id, article_id, type, actor, target, location, quantity, unit, date, sentence"
    assert _pq(root, f"SELECT {ev} FROM events ORDER BY 1") == \
        _duck(duck_db, f"SELECT {ev} FROM events ORDER BY 1")
    assert _duck(state_db, "SELECT count(*) FROM articles") == [(0,)]
    assert _duck(state_db, "SELECT status FROM runs") == [("completed",)]
    assert _duck(state_db, "SELECT count(*) FROM url_state WHERE content_hash IS NOT NULL") \
        == [(n_pages,)]

    # a second run fetches no stored page, writes nothing and changes no count a reader sees
    before = _state(root)
    hits = http_server.hits("/news/seed-article.html")
    again = pipeline(db_path=str(state_db), feeds_path=str(feeds_file))
    assert again.articles_new == 0 and again.events_written == 0
    assert again.articles_seen_before == n_pages
    assert http_server.hits("/news/seed-article.html") == hits
    assert _state(root) == before
