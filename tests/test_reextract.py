"""Re-extraction over stored text after a rule change, on real DuckDB files and real rules."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import warehouse.store as store_mod
from extractors import extract
from extractors.loader import load_ruleset
from flows.reextract import reextract
from flows.settings import load_settings
from warehouse import (
    ArticleRecord,
    Warehouse,
    WarehouseNotFoundError,
    WarehouseWriteError,
    run_readonly,
)
from warehouse.rewrite import EventReplacement

ROOT = Path(__file__).resolve().parent.parent
TEXTS = {
    1: "North Korea sent 12,000 troops to Russia on Friday. Russia said it had recaptured Kursk.",
    2: "Officials said North Korea sent 12,000 troops to Russia on Friday.",
    3: "Russia said it had recaptured Kursk. North Korea sent 3,000 troops to Russia.",
}


@pytest.fixture(scope="module")
def rules_old():  # type: ignore[no-untyped-def]
    return load_ruleset(ROOT / "configs")


@pytest.fixture(scope="module")
def configs_new(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The current configs with one rule change: the territorial_control rules are dropped."""
    folder = tmp_path_factory.mktemp("rules") / "configs"
    shutil.copytree(ROOT / "configs" / "rules", folder / "rules")
    shutil.copytree(ROOT / "configs" / "lexicons", folder / "lexicons")
    (folder / "rules" / "territorial_control.yaml").unlink()
    return folder


@pytest.fixture(scope="module")
def rules_new(configs_new: Path):  # type: ignore[no-untyped-def]
    return load_ruleset(configs_new)


def load(db: Path, rules) -> None:  # type: ignore[no-untyped-def]
    published = {1: date(2024, 11, 2), 2: date(2024, 11, 3), 3: date(2025, 1, 10)}
    with Warehouse(db) as wh:
        wh.load_articles([ArticleRecord(
            url=f"https://news.example/{n}", feed="example", title=f"t{n}", published=published[n],
            fetched_at=datetime(2025, 1, 11, tzinfo=UTC), text=text,
            extractor_version=rules.version, events=extract(text, published[n], rules))
            for n, text in TEXTS.items()])


def q(db: Path, sql: str) -> list[tuple]:
    return run_readonly(db, sql)[1]


def test_rule_change_replaces_events_and_records_the_version(tmp_path: Path, rules_old, rules_new,
                                                             configs_new: Path) -> None:
    db = tmp_path / "m.duckdb"
    load(db, rules_old)
    assert rules_old.version != rules_new.version
    assert q(db, "SELECT type, count(*) FROM events GROUP BY 1 ORDER BY 1") == [
        ("military_deployment", 3), ("territorial_control", 2)]
    deploy_before = q(db, "SELECT event_id FROM events "
                          "WHERE type = 'military_deployment' ORDER BY 1")
    settings = load_settings(db_path=db, configs_dir=configs_new)

    report = reextract(settings)

    assert (report.articles_considered, report.articles_replaced, report.articles_restamped,
            report.events_removed, report.events_added) == (3, 2, 1, 2, 0)
    assert report.previous_versions == {rules_old.version: 3}
    assert q(db, "SELECT type, count(*) FROM events GROUP BY 1") == [("military_deployment", 3)]
    # the deployments are the same events (same ids), stamped with the new rules
    assert q(db, "SELECT event_id FROM events ORDER BY 1") == deploy_before
    assert q(db, "SELECT DISTINCT extractor_version FROM events") == [(rules_new.version,)]
    assert q(db, "SELECT DISTINCT extractor_version FROM articles") == [(rules_new.version,)]
    assert q(db, "SELECT DISTINCT old_version, new_version, types FROM reextract_log") == [
        (rules_old.version, rules_new.version, None)]
    assert sorted(q(db, "SELECT outcome, events_before, events_after FROM reextract_log")) == [
        ("replaced", 2, 1), ("replaced", 2, 1), ("restamped", 1, 1)]
    status, counts = q(db, f"SELECT status, counts FROM runs WHERE run_id = '{report.run_id}'")[0]
    assert status == "completed" and json.loads(counts)["extractor_version"] == rules_new.version
    # clusters followed: no territorial_control cluster is left, deployments still clustered
    assert q(db, "SELECT type, mention_count FROM event_clusters ORDER BY mention_count") == [
        ("military_deployment", 1), ("military_deployment", 2)]
    assert q(db, "SELECT count(*) FROM event_cluster_members") == [(3,)]
    assert Path(report.snapshot or "").is_file()

    # a second run finds every article current: nothing read, no row count changes
    with Warehouse(db) as wh:
        before = {k: v for k, v in wh.counts().items() if k != "runs"}
    again = reextract(settings, ruleset=rules_new)  # the same rules, already compiled
    assert (again.articles_skipped_current, again.articles_considered) == (3, 0)
    with Warehouse(db) as wh:
        assert {k: v for k, v in wh.counts().items() if k != "runs"} == before


def test_failure_mid_write_changes_nothing(tmp_path: Path, rules_old, rules_new, configs_new: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "m.duckdb"
    load(db, rules_old)
    snapshot_sql = ("SELECT (SELECT list(event_id ORDER BY event_id) FROM events), "
                    "(SELECT list(DISTINCT extractor_version) FROM articles), "
                    "(SELECT count(*) FROM event_clusters), (SELECT count(*) FROM reextract_log)")
    before = q(db, snapshot_sql)

    def boom(con, rows):  # type: ignore[no-untyped-def]
        con.execute("INSERT INTO events (event_id) VALUES (NULL)")  # NOT NULL: DuckDB fails

    monkeypatch.setattr(store_mod, "_insert_events", boom)
    with pytest.raises(WarehouseWriteError, match="rolled back"):
        reextract(load_settings(db_path=db, configs_dir=configs_new), ruleset=rules_new)
    assert q(db, snapshot_sql) == before
    assert q(db, "SELECT status FROM runs") == [("failed",)]


def test_type_filter_and_since(tmp_path: Path, rules_old, rules_new, configs_new: Path) -> None:
    db = tmp_path / "m.duckdb"
    load(db, rules_old)
    settings = load_settings(db_path=db, configs_dir=configs_new)
    # only articles published from 2025 on: article 3
    report = reextract(settings, since=date(2025, 1, 1), types=["territorial_control"],
                       ruleset=rules_new)
    assert (report.articles_considered, report.articles_replaced, report.events_removed) == (1, 1, 1)
    assert q(db, "SELECT count(*) FROM events WHERE type = 'territorial_control'") == [(1,)]
    # the article keeps its version (its deployment is still the old rules' event)
    assert q(db, "SELECT DISTINCT extractor_version FROM articles") == [(rules_old.version,)]
    assert q(db, "SELECT types FROM reextract_log") == [(["territorial_control"],)]
    again = reextract(settings, since=date(2025, 1, 1), types=["territorial_control"],
                      ruleset=rules_new)
    assert (again.articles_considered, again.articles_unchanged, again.articles_replaced) == (1, 1, 0)
    assert q(db, "SELECT count(*) FROM reextract_log") == [(1,)]
    with pytest.raises(ValueError, match="unknown event type"):
        reextract(settings, types=["deployment"])
    with pytest.raises(WarehouseNotFoundError, match="typo.duckdb"):
        reextract(load_settings(db_path=tmp_path / "typo.duckdb", configs_dir=configs_new))
    assert not (tmp_path / "typo.duckdb").exists()


def test_article_changed_meanwhile_is_left_alone(tmp_path: Path, rules_old, rules_new) -> None:
    db = tmp_path / "m.duckdb"
    load(db, rules_old)
    with Warehouse(db) as wh:
        page = wh.articles_to_reextract(rules_new.version, limit=10)
        assert len(page) == 3 and wh.articles_to_reextract(rules_new.version, after=page[-1].article_id) == []
        stale = EventReplacement(page[0].article_id, "another-hash", [])
        counts = wh.replace_events([stale], rules_new.version, "run-x")
    assert (counts.stale, counts.replaced) == (1, 0)
    assert q(db, "SELECT count(*) FROM events") == [(5,)]


def test_cli_reextract(tmp_path: Path, rules_old, configs_new: Path) -> None:
    from flows.cli import app

    db = tmp_path / "m.duckdb"
    load(db, rules_old)
    runner = CliRunner()
    result = runner.invoke(app, ["reextract", "--db", str(db), "--configs", str(configs_new),
                                 "--since", "2024-11-03", "--type", "territorial_control"])
    assert result.exit_code == 0, result.output
    assert "events removed" in result.output and "2 " not in result.output.split("events removed")[1][:20]
    assert q(db, "SELECT count(*) FROM events WHERE type = 'territorial_control'") == [(1,)]
    bad = runner.invoke(app, ["reextract", "--db", str(db), "--since", "yesterday"])
    assert bad.exit_code != 0 and "not a date" in bad.output


def test_reextract_reports_progress_with_a_total(tmp_path: Path, rules_old, configs_new: Path) -> None:
    """Plain progress lines (what CI and piped output get) count re-extracted articles."""
    from flows import progress
    from flows.reextract import reextract
    from flows.settings import load_settings

    db = tmp_path / "m.duckdb"
    load(db, rules_old)
    lines: list[str] = []
    with progress.install(progress.LogProgress(write=lines.append)):
        reextract(load_settings(db_path=db, configs_dir=configs_new))
    assert lines and lines[-1].startswith("progress: articles re-extracted 3/3"), lines


def test_articles_not_in_the_rules_language_lose_their_events(tmp_path: Path, rules_old,
                                                              rules_new, configs_new: Path) -> None:
    """A stored article flagged German gets no English-rule events on re-extraction.

    Stored with events (as an older version that did not check the language would have),
    the German article ends with none, while the English one keeps its deployment.
    """
    db = tmp_path / "m.duckdb"
    with Warehouse(db) as wh:
        wh.load_articles([ArticleRecord(
            url=f"https://news.example/{lang}", feed="example", title=lang,
            published=date(2024, 11, 2), fetched_at=datetime(2025, 1, 11, tzinfo=UTC),
            language=lang, text=TEXTS[1], extractor_version=rules_old.version,
            events=extract(TEXTS[1], date(2024, 11, 2), rules_old)) for lang in ("de", "en")])
    assert q(db, "SELECT a.language, count(*) FROM events e JOIN articles a USING (article_id) "
                 "GROUP BY 1 ORDER BY 1") == [("de", 2), ("en", 2)]

    reextract(load_settings(db_path=db, configs_dir=configs_new))

    assert q(db, "SELECT a.language, e.type FROM events e JOIN articles a USING (article_id) "
                 "ORDER BY 1, 2") == [("en", "military_deployment")]
