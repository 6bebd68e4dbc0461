"""Every error a user can cause is one plain sentence naming the thing and the fix.

Each case runs the real CLI in a subprocess and checks: exit code 2, no
traceback, a single line on stderr that names the offending thing.  `muster run`
errors must come before Prefect starts (no temporary server, no failed flow run
with a traceback in its log).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.analyst_fixture import build_db


def muster(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def one_sentence(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    text = proc.stderr.strip()
    assert "Traceback" not in text and "prefect" not in text.lower(), text
    assert len(text.splitlines()) == 1, text
    assert text.startswith("error: ")
    for word in words:
        assert word in text, (word, text)
    return text


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("errors") / "m.duckdb")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["events", "--since", "2025-13-01"], ["--since", "2025-13-01", "YYYY-MM-DD"]),
        (["report", "--since", "last week"], ["--since", "YYYY-MM-DD"]),
        (["events", "--since", "2025-05-01", "--until", "2025-04-01"], ["after --until", "swap"]),
        (["events", "--type", "deployment"], ["deployment", "military_deployment"]),
        (["events", "--actor", "Atlantis"], ["Atlantis", "ISO 3166-1 alpha-3"]),
        (["events", "--status", "rumoured"], ["rumoured", "denied"]),
        (["events", "--format", "xlsx"], ["xlsx", "csv"]),
        (["events", "--format", "parquet"], ["--out"]),
        (["sql", "DELETE FROM events"], ["DELETE", "read-only"]),
        (["sql", "SELECT nope FROM events"], ["nope"]),
    ],
)
def test_option_mistakes(db: Path, args: list[str], words: list[str]) -> None:
    one_sentence(muster(*args, "--db", str(db), cwd=db.parent), *words)


def test_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.duckdb"
    for command in ("report", "events"):
        one_sentence(muster(command, "--db", str(missing), cwd=tmp_path), str(missing), "Run")


def test_debug_shows_the_traceback(db: Path) -> None:
    proc = muster("--debug", "events", "--since", "soon", "--db", str(db), cwd=db.parent)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_run_with_unknown_feed_name(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - name: wire\n    url: http://127.0.0.1:9/f.xml\n")
    text = one_sentence(muster("run", "--feeds", str(feeds), "--feed", "wrie",
                               "--db", str(tmp_path / "m.duckdb"), cwd=tmp_path), "wrie", "wire")
    assert "known" in text


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("batch_size: 0\n", ["batch_size", "muster.yaml", "MUSTER_BATCH_SIZE"]),
        ("batch_sise: 5\n", ["batch_sise", "muster.yaml", "spelling"]),
        ("batch_size: [5\n", ["muster.yaml", "line", "YAML"]),
    ],
)
def test_run_with_bad_settings_file(tmp_path: Path, content: str, words: list[str]) -> None:
    (tmp_path / "muster.yaml").write_text(content)
    one_sentence(muster("run", "--db", str(tmp_path / "m.duckdb"), cwd=tmp_path), *words)
    assert not (tmp_path / "m.duckdb").exists()


def test_run_with_unwritable_database_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    one_sentence(muster("run", "--feed", "demo", "--db", str(blocker / "m.duckdb"), cwd=tmp_path),
                 str(blocker))


def test_locked_database(db: Path, tmp_path: Path) -> None:
    """Another process holds the file: `run` says so before starting Prefect; readers fall
    back to the snapshot when there is one, else say the file is locked."""
    locked = tmp_path / "locked.duckdb"
    shutil.copy(db, locked)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); sys.stdin.read()", str(locked)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        one_sentence(muster("run", "--feed", "demo", "--db", str(locked), cwd=tmp_path),
                     str(locked), "locked", "wait")
        one_sentence(muster("events", "--db", str(locked), cwd=tmp_path), str(locked), "locked")
        shutil.copy(db, tmp_path / "locked.snapshot.duckdb")
        proc = muster("events", "--db", str(locked), "-f", "csv", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "snapshot" in proc.stderr and len(proc.stdout.splitlines()) == 9
    finally:
        holder.communicate("", timeout=30)
    with duckdb.connect(str(locked)):  # released: the holder really held it until here
        pass
