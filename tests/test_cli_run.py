"""``muster run`` and ``muster sql`` as a user types them, in a subprocess.

No ``PREFECT_API_URL`` is set, so this also proves the no-server (ephemeral) mode.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_http import LocalHTTPServer, Route

ROOT = Path(__file__).resolve().parent.parent
SEED_HTML = ROOT / "configs" / "demo" / "seed-article.html"

pytestmark = pytest.mark.slow


def muster(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return subprocess.run(
        [sys.executable, "-m", "flows", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture()
def feeds_file(tmp_path: Path, http_server: LocalHTTPServer) -> Path:
    http_server.add("/a/seed.html", Route(body=SEED_HTML.read_bytes()))
    base = str(http_server).rstrip("/")
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>t</title><id>{base}/</id><updated>2025-04-28T06:00:00Z</updated>'
        f'<entry><title>seed</title><id>{base}/a/seed.html</id><link href="{base}/a/seed.html"/>'
        "<updated>2025-04-28T06:00:00Z</updated></entry></feed>"
    )
    http_server.add("/atom.xml", Route(body=atom, content_type="application/atom+xml"))
    path = tmp_path / "feeds.yaml"
    path.write_text(f"feeds:\n  - name: atom\n    url: {base}/atom.xml\n")
    return path


def test_run_then_query(tmp_path: Path, feeds_file: Path) -> None:
    db = tmp_path / "out" / "m.duckdb"
    proc = muster("run", "--db", str(db), "--feeds", str(feeds_file), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "articles new" in proc.stdout and str(db) in proc.stdout.replace("\n", "")
    assert "military_deployment" in proc.stdout

    q = muster("sql", "SELECT type, actor, target, quantity FROM events "
               "WHERE type = 'military_deployment' ORDER BY quantity DESC", "--db", str(db),
               cwd=tmp_path)
    assert q.returncode == 0, q.stderr
    assert "12000" in q.stdout and "PRK" in q.stdout and "RUS" in q.stdout

    again = muster("run", "--db", str(db), "--feeds", str(feeds_file), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    n = muster("sql", "SELECT count(*) AS n FROM articles", "--db", str(db), cwd=tmp_path)
    assert "│ 1 " in n.stdout or " 1 " in n.stdout


def test_sql_refuses_writes(tmp_path: Path, feeds_file: Path) -> None:
    from warehouse import Warehouse

    db = tmp_path / "m.duckdb"
    with Warehouse(db):
        pass
    proc = muster("sql", "DELETE FROM events", "--db", str(db), cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "error" in proc.stderr.lower()


def test_bad_feeds_file_is_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds:\n  - name: x\n    url: http://127.0.0.1:9/f.xml\n    intervall: 5\n")
    proc = muster("run", "--db", str(tmp_path / "m.duckdb"), "--feeds", str(bad), cwd=tmp_path)
    assert proc.returncode == 2
    assert "intervall" in proc.stderr and str(bad) in proc.stderr.replace("\n", "")


def test_run_by_tag(tmp_path: Path, feeds_file: Path, http_server: LocalHTTPServer) -> None:
    """``--tag`` polls only the feeds carrying one of the tags; an unknown tag is refused."""
    http_server.add("/other.xml", Route(body="<rss/>", content_type="application/rss+xml"))
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text(feeds_file.read_text().replace("atom.xml\n", "atom.xml\n    tags: [asia]\n")
                      + f"  - name: other\n    url: {http_server.url('/other.xml')}\n"
                      "    tags: [sport]\n")
    db = tmp_path / "m.duckdb"
    bad = muster("run", "--db", str(db), "--feeds", str(tagged), "--tag", "defence", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "unknown tag(s) defence" in bad.stderr and "known: asia, sport" in bad.stderr

    proc = muster("run", "--db", str(db), "--feeds", str(tagged), "--tag", "asia", "--tag", "x",
                  cwd=tmp_path)
    assert proc.returncode == 2  # one unknown tag among known ones is still an error
    proc = muster("run", "--db", str(db), "--feeds", str(tagged), "--tag", "asia", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert http_server.hits("/atom.xml") == 1 and http_server.hits("/other.xml") == 0


def test_terminal_runs_send_no_heartbeats_unless_the_user_set_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``muster run`` turns Prefect's flow-run heartbeats off (their thread delays the end of
    every run by up to a second) but keeps a frequency the user set."""
    from prefect.settings import get_current_settings

    from flows.prefect_flows import terminal_run

    for name in ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"):
        monkeypatch.delenv(name, raising=False)
    before = get_current_settings().flows.heartbeat_frequency
    assert before is not None  # Prefect's default sends them: the test is not vacuous
    with terminal_run():
        assert get_current_settings().flows.heartbeat_frequency is None
    assert get_current_settings().flows.heartbeat_frequency == before
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
    with terminal_run():
        assert get_current_settings().flows.heartbeat_frequency == before
