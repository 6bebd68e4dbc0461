"""The DuckDB file under pressure: held by another process, read-only, or on a full disk.

Each case starts from a database with rows in it. Proof: ``muster`` stops with one sentence
that names the file (no traceback), the file opens afterwards with every earlier row intact
(``db_state`` equal before and after), and once the fault is gone a run loads what was
missed.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures_http import LocalHTTPServer, Route, rss
from tests.reliability_support import (
    PAGES,
    REAL_PAGES,
    ROOT,
    SEED_HTML,
    db_state,
    query,
    run_flow,
    write_feeds,
)
from warehouse import Warehouse

pytestmark = pytest.mark.slow

HOLD = ("import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'r'); "
        "c.execute('SELECT count(*) FROM articles').fetchall(); "
        "print('ready', flush=True); sys.stdin.read()")


def _muster(*args: str, cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return subprocess.Popen([sys.executable, "-m", "flows", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _one_sentence_naming(proc: subprocess.Popen, db: Path, prefect_logs: bool = False) -> str:
    """The CLI's own error: exit code 2 and a final ``error:`` sentence naming ``db``.

    Before Prefect starts there is nothing else on stderr; during a flow run, Prefect's own
    run log (with the task's traceback) comes first, and the CLI's sentence ends it.
    """
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, out + err
    assert "error:" in err, err
    message = " ".join(err[err.rindex("error:"):].split())
    assert "Traceback" not in message and (prefect_logs or "Traceback" not in err), err
    assert str(db) in message.replace(" ", "") or str(db) in message, message
    return message


def assert_prior_rows_intact(before: dict[str, list], after: dict[str, list]) -> None:
    """Articles and events exactly as before; every other earlier row still there."""
    for table, rows in before.items():
        if table in ("articles", "events"):
            assert after[table] == rows, table
        else:
            missing = set(map(repr, rows)) - set(map(repr, after[table]))
            assert not missing, (table, missing)


@pytest.fixture()
def seeded(tmp_path: Path, http_server: LocalHTTPServer) -> tuple[Path, Path, Path]:
    """An empty database, a feed with one article and a feed with a second one too."""
    http_server.add("/a/1.html", Route(body=SEED_HTML.read_bytes()))
    page = gzip.decompress((PAGES / (REAL_PAGES[0] + ".gz")).read_bytes())
    http_server.add("/a/2.html", Route(body=page))
    http_server.add("/one.xml", Route(body=rss(str(http_server), [http_server.url("/a/1.html")]),
                                      content_type="application/rss+xml"))
    http_server.add("/two.xml", Route(body=rss(str(http_server), ["/a/1.html", "/a/2.html"]),
                                      content_type="application/rss+xml"))
    db = tmp_path / "data" / "muster.duckdb"
    one = write_feeds(tmp_path / "one.yaml", {"local": http_server.url("/one.xml")})
    two = write_feeds(tmp_path / "two.yaml", {"local": http_server.url("/two.xml")})
    with Warehouse(db):
        pass
    return db, one, two


@pytest.mark.parametrize("mode", ["r", "w"], ids=["held-by-reader", "held-by-writer"])
def test_file_held_by_another_process(prefect_server: None, seeded: tuple[Path, Path, Path],
                                      tmp_path: Path, mode: str) -> None:
    db, one, two = seeded
    run_flow(db, one)
    before = db_state(db)
    assert len(before["articles"]) == 1
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), mode], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        err = _one_sentence_naming(_muster("run", "--db", str(db), "--feeds", str(two),
                                           cwd=tmp_path), db)
        assert "locked" in err and "another process" in err
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert db_state(db) == before  # nothing half-written
    report = run_flow(db, two)  # the holder is gone: the missed article loads
    assert report.articles_new == 1 and len(db_state(db)["articles"]) == 2


@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """Make ``directory`` read-only for this process: a read-only bind mount as root, else chmod."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    if subprocess.run(["mount", "--bind", str(directory), str(directory)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount (no mount permission in this container)")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(directory)], check=True,
                       capture_output=True)
        yield
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False, capture_output=True)


def test_read_only_directory(prefect_server: None, seeded: tuple[Path, Path, Path],
                             tmp_path: Path) -> None:
    db, one, two = seeded
    run_flow(db, one)
    before = db_state(db)
    with _read_only(db.parent):
        proc = _muster("run", "--db", str(db), "--feeds", str(two), cwd=tmp_path)
        _one_sentence_naming(proc, db)
        fresh = db.parent / "new.duckdb"
        proc = _muster("run", "--db", str(fresh), "--feeds", str(one), cwd=tmp_path)
        _one_sentence_naming(proc, fresh)
        assert not fresh.exists()
    assert db_state(db) == before
    assert run_flow(db, two).articles_new == 1  # writable again: the missed article loads


FULL_DISK_LOAD = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    from warehouse import ArticleRecord, Warehouse, WarehouseError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)          # EFBIG instead of a kill
    db = Path(sys.argv[1])
    size = db.stat().st_size + sum(p.stat().st_size for p in db.parent.glob("*.wal"))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 300_000, size + 300_000))
    big = [ArticleRecord(url=f"https://x.example/{i}", text=f"{i} " + "word " * 200_000,
                         extractor_version="v") for i in range(8)]
    try:
        with Warehouse(db) as wh:
            wh.load_articles(big)
    except WarehouseError as exc:
        print("ERROR", exc)
        sys.exit(3)
    print("loaded")
""")


def test_file_size_limit_mid_load(seeded: tuple[Path, Path, Path]) -> None:
    """A full disk without root: RLIMIT_FSIZE makes DuckDB's writes fail with EFBIG."""
    db = seeded[0]
    with Warehouse(db) as wh:
        wh.load_articles([_record(i) for i in range(3)])
    before = db_state(db)
    proc = subprocess.run([sys.executable, "-c", FULL_DISK_LOAD, str(db)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert str(db) in proc.stdout and "Traceback" not in proc.stdout
    assert db_state(db) == before
    with Warehouse(db) as wh:  # the next writer (no limit) works and keeps everything
        assert wh.load_articles([_record(9)]).articles_new == 1
    assert len(query(db, "SELECT * FROM articles")) == 4


def _record(i: int):  # type: ignore[no-untyped-def]
    from warehouse import ArticleRecord

    return ArticleRecord(url=f"https://n.example/{i}", text=f"Article {i}.", extractor_version="v")


@pytest.fixture()
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 32 MB tmpfs (root only): a disk that really fills up."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], capture_output=True
    ).returncode != 0:
        pytest.skip("needs root and mount permission for a tmpfs (the RLIMIT_FSIZE test covers it)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)


def test_full_disk_during_a_run(prefect_server: None, small_tmpfs: Path,
                                http_server: LocalHTTPServer, tmp_path: Path) -> None:
    db = small_tmpfs / "muster.duckdb"
    http_server.add("/a/1.html", Route(body=SEED_HTML.read_bytes()))
    http_server.add("/one.xml", Route(body=rss(str(http_server), [http_server.url("/a/1.html")]),
                                      content_type="application/rss+xml"))
    one = write_feeds(tmp_path / "one.yaml", {"local": http_server.url("/one.xml")})
    run_flow(db, one)
    before = db_state(db)
    (small_tmpfs / "muster.snapshot.duckdb").unlink(missing_ok=True)
    # Many long articles, and a disk with almost no room left.
    urls = []
    for i in range(4):
        body = (SEED_HTML.read_text().replace("demo/seed-article", f"big/{i}")
                .replace("</article>", f"<p>{'Filler text. ' * 3000}{i}</p></article>"))
        urls.append(http_server.add(f"/big/{i}.html", Route(body=body)))
    http_server.add("/big.xml", Route(body=rss(str(http_server), urls),
                                      content_type="application/rss+xml"))
    big = write_feeds(tmp_path / "big.yaml", {"big": http_server.url("/big.xml")})
    filler = small_tmpfs / "filler"
    with filler.open("wb") as fh:
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
    filler.write_bytes(b"\0" * (filler.stat().st_size - 30_000))  # leave ~30 kB
    # `muster run` in-process (CliRunner), on the session's Prefect server: the CLI's own
    # exit code and sentence, without paying for a second Prefect start-up.
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["run", "--db", str(db), "--feeds", str(big)])
    assert result.exit_code == 2, (result.output, result.exception)
    message = " ".join(result.stderr[result.stderr.rindex("error:"):].split())
    assert str(db) in message.replace(" ", "") and "space" in message.lower(), message
    filler.unlink()
    assert_prior_rows_intact(before, db_state(db))
    report = run_flow(db, big)  # room again: everything the failed run missed is loaded
    assert report.articles_new == 4
