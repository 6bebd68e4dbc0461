"""``muster extract`` and ``muster eval`` as a user runs them: a real subprocess on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MUSTER = [sys.executable, "-m", "flows"]


def run_muster(*args: str, cwd: Path = ROOT, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MUSTER, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300
    )


def _pick(events: list[dict], type_: str) -> list[dict]:
    return [e for e in events if e["type"] == type_]


@pytest.fixture(scope="module")
def seed_output(shared_dir: Path) -> list[dict]:
    proc = run_muster("extract", str(shared_dir / "spec" / "seed-article.in.jsonl"))
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_one_output_line_per_input_line(seed_output: list[dict]) -> None:
    assert [r["doc_id"] for r in seed_output] == ["seed-article"]


def test_seed_deployment(seed_output: list[dict], shared_dir: Path) -> None:
    """The founding example: North Korea sent as many as 12,000 troops to Russia (Kursk)."""
    deployments = _pick(seed_output[0]["events"], "military_deployment")
    big = [e for e in deployments if e["quantity"] == 12000]
    assert len(big) == 1, deployments
    event = big[0]
    assert (event["actor"], event["target"]) == ("PRK", "RUS")
    assert event["location"] == "Kursk" and event["location_country"] == "RUS"
    assert (event["unit"], event["quantity_qualifier"]) == ("troops", "upper")
    assert event["direction"] == "deploy"
    text = json.loads((shared_dir / "spec" / "seed-article.in.jsonl").read_text())["text"]
    assert text[event["char_start"] : event["char_end"]] == event["sentence"]


def test_seed_unveiling(seed_output: list[dict]) -> None:
    """Kim unveiled a 5,000-ton destroyer at Nampo."""
    unveilings = _pick(seed_output[0]["events"], "weapons_unveiling")
    assert len(unveilings) == 1, unveilings
    event = unveilings[0]
    assert event["actor"] == "PRK"
    assert event["weapon_class"] == "destroyer"
    assert (event["quantity"], event["unit"]) == (5000, "tons")
    assert event["location"] in ("Nampo", "Nampho") and event["location_country"] == "PRK"


def test_bad_lines_are_reported_and_the_rest_processed(tmp_path: Path, shared_dir: Path) -> None:
    seed = (shared_dir / "spec" / "seed-article.in.jsonl").read_text().strip()
    infile = tmp_path / "in.jsonl"
    infile.write_text(
        "\n".join(
            [
                "{not json",
                json.dumps({"text": "no doc id"}),
                json.dumps({"doc_id": "d", "text": "x", "published": "not-a-date"}),
                seed,
            ]
        )
        + "\n"
    )
    proc = run_muster("extract", str(infile))
    assert proc.returncode == 0
    for number in (1, 2, 3):
        assert f"line {number}:" in proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(lines) == 4
    assert [len(x["events"]) > 0 for x in lines] == [False, False, False, True]
    assert lines[3]["doc_id"] == "seed-article"


def test_missing_input_is_one_plain_error(tmp_path: Path) -> None:
    proc = run_muster("extract", str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 2
    assert "nope.jsonl" in proc.stderr and "Traceback" not in proc.stderr


def test_eval_scores_the_seed(shared_dir: Path) -> None:
    spec = shared_dir / "spec"
    proc = run_muster(
        "eval", str(spec / "seed-article.in.jsonl"), str(spec / "seed-article.gold.jsonl"), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["overall"]["recall"] > 0
