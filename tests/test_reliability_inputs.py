"""Broken and hostile input to the CLI: rule files and lexicons, ``muster extract`` lines,
and SQL that writes passed to ``muster sql``.

Proof: a bad configuration stops ``muster extract`` and ``muster run`` with one sentence
naming the file (and ``run`` creates no database); a bad input line is reported with its
number and still gets its output line, every other line is extracted; writing SQL is
refused and the database file is byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.reliability_support import ROOT
from warehouse import ArticleRecord, Warehouse

LAUGHS = ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
          "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
          "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
          "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nstates: &h [*g, *g, *g, *g, *g, *g, *g, *g]\n")
BAD_CONFIGS = {
    "rule-invalid-yaml": ("rules/attack.yaml", "type: attack\nrules: [unclosed\n"),
    "rule-not-utf8": ("rules/attack.yaml", b"type: attack\nrules: []\n# \xff\xfe\xfa\n"),
    "rule-empty-file": ("rules/attack.yaml", ""),
    "rule-bad-regex": ("rules/attack.yaml", "type: attack\nrules:\n  - id: attack.x\n    version: 1\n"
                       "    trigger:\n      regex: ['(unclosed']\n"),
    "rule-unknown-key": ("rules/attack.yaml", "type: attack\nrules:\n  - id: attack.x\n    version: 1\n"
                         "    trigger:\n      regex: ['attack']\n    colour: red\n"),
    "rule-wrong-type": ("rules/attack.yaml", "type: attack\nrules: {id: 5}\n"),
    "rule-is-a-folder": ("rules/attack.yaml", None),
    "lexicon-yaml-bomb": ("lexicons/actors.yaml", LAUGHS),
    "lexicon-wrong-shape": ("lexicons/places.yaml", "- just\n- a\n- list\n"),
    "lexicon-invalid-yaml": ("lexicons/weapons.yaml", "classes: {unclosed: [\n"),
}


def _bad_configs(tmp: Path, name: str) -> tuple[Path, str]:
    configs = tmp / "configs"
    shutil.copytree(ROOT / "configs" / "rules", configs / "rules")
    shutil.copytree(ROOT / "configs" / "lexicons", configs / "lexicons")
    rel, content = BAD_CONFIGS[name]
    target = configs / rel
    target.unlink()
    if content is None:
        target.mkdir()
    elif isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)
    return configs, Path(rel).name


def _sentence(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return " ".join(result.stderr.split())


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_rule_files_and_lexicons_stop_with_one_sentence(tmp_path: Path, name: str) -> None:
    configs, filename = _bad_configs(tmp_path, name)
    docs = tmp_path / "in.jsonl"
    docs.write_text(json.dumps({"doc_id": "d", "text": "North Korea sent 12,000 troops."}) + "\n")
    message = _sentence(CliRunner().invoke(app, ["extract", str(docs), "--configs", str(configs)]))
    assert message.startswith("error:") and filename in message, message

    db = tmp_path / "db" / "muster.duckdb"
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - name: x\n    url: http://127.0.0.1:9/feed.xml\n")
    result = CliRunner().invoke(app, ["run", "--db", str(db), "--feeds", str(feeds)],
                                env={"MUSTER_CONFIGS_DIR": str(configs)})
    assert filename in _sentence(result)
    assert not db.exists()  # refused before touching the warehouse


def test_bad_extract_lines_are_reported_and_the_rest_extracted(tmp_path: Path) -> None:
    good = {"doc_id": "good", "text": "North Korea sent 12,000 troops to Russia.",
            "published": "2025-04-28"}
    lines: list[bytes] = [
        b"\xef\xbb\xbf" + json.dumps(good).encode(),           # a BOM on the first line
        b'{"doc_id": "bad-utf8", "text": "caf\xe9 \xff"}',       # not UTF-8
        b"[1, 2, 3]",                                            # not an object
        b'{"doc_id": "num", "text": 42}',                        # text not a string
        b'{"doc_id": "null", "text": null}',                     # text missing
        b'{"text": "no id"}',                                    # doc_id missing
        b'{"doc_id": "date", "text": "x", "published": "2024-13-45"}',  # impossible date
        b'{"doc_id": "trunc", "text": "North Korea',            # truncated JSON
        b"[" * 100_000 + b"]" * 100_000,                          # nesting past the recursion limit
        b"not json at all \x00\x01",
        json.dumps({"doc_id": "nul", "text": "North Korea\x00 sent 12,000 troops to Russia."}).encode(),
        json.dumps({"doc_id": "huge", "text": "North Korea sent 12,000 troops. " * 8_000}).encode(),
        b"",                                                     # blank lines are skipped
        json.dumps(dict(good, doc_id="last")).encode() + b"\r",  # CRLF line ending
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    result = CliRunner().invoke(app, ["extract", str(src)])
    assert result.exit_code == 0, (result.output, result.exception, result.stderr)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len([line for line in lines if line.strip()])
    by_id = {o.get("doc_id"): o for o in out}
    for doc_id in ("good", "last", "nul", "huge"):
        assert "error" not in by_id[doc_id] and any(
            e["type"] == "military_deployment" for e in by_id[doc_id]["events"]), doc_id
    bad = [o for o in out if "error" in o]
    assert len(bad) == 9 and all(o["events"] == [] for o in bad)
    reported = result.stderr
    for number in (2, 3, 4, 5, 6, 7, 8, 9, 10):
        assert f"line {number}:" in reported, (number, reported)


WRITES = [
    "DELETE FROM articles",
    "DROP TABLE events",
    "UPDATE articles SET text = 'x'",
    "INSERT INTO runs (run_id) VALUES ('x')",
    "CREATE TABLE t AS SELECT 1",
    "WITH x AS (SELECT 1) DELETE FROM articles",
    "SELECT 1; DELETE FROM articles",
    "/* harmless */ DELETE FROM articles -- SELECT",
    "EXPLAIN ANALYZE DELETE FROM articles",
    "COPY articles TO '{tmp}/stolen.csv'",
    "COPY (SELECT * FROM articles) TO '{tmp}/stolen.parquet' (FORMAT parquet)",
    "EXPORT DATABASE '{tmp}/export'",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "CHECKPOINT",
    "VACUUM",
    "CREATE MACRO m(a) AS a",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "PRAGMA enable_profiling = 'json'",
]


@pytest.fixture(scope="module")
def sql_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("sql") / "muster.duckdb"
    with Warehouse(db) as wh:
        wh.load_articles([ArticleRecord(url=f"https://n.example/{i}", text=f"text {i}",
                                        extractor_version="v") for i in range(3)])
    return db


@pytest.mark.parametrize("sql", WRITES)
def test_writing_sql_is_refused_and_the_file_unchanged(sql_db: Path, tmp_path: Path, sql: str) -> None:
    before = hashlib.sha256(sql_db.read_bytes()).hexdigest()
    result = CliRunner().invoke(app, ["sql", sql.format(tmp=tmp_path), "--db", str(sql_db)])
    message = _sentence(result)
    assert message.startswith("error:"), message
    assert "root:" not in result.output
    assert hashlib.sha256(sql_db.read_bytes()).hexdigest() == before
    assert list(tmp_path.iterdir()) == []  # nothing written outside either
    ok = CliRunner().invoke(app, ["sql", "SELECT count(*) AS n FROM articles", "--db", str(sql_db)])
    assert ok.exit_code == 0 and "3" in ok.stdout
