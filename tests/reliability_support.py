"""Shared pieces of the reliability tests (``tests/test_reliability_*.py``).

- ``RawServer``: a tiny socket server for faults the regular fixture server cannot produce
  (a connection reset in the middle of a body, a slow-loris that trickles one byte at a
  time forever).
- ``db_state``: everything a database *means* (every data table, every column except
  wall-clock timestamps and run ids), so two databases can be compared for equality after
  a fault: "nothing lost, nothing duplicated" is ``db_state(a) == db_state(b)``.
- ``run_flow``: one real Prefect flow run of the pipeline, in-process.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "pages"
SEED_HTML = ROOT / "configs" / "demo" / "seed-article.html"
REAL_PAGES = sorted(p.name.removesuffix(".gz") for p in PAGES.glob("*.html.gz"))
# Pages that go all the way through (stored and extracted): the German one (fundus_de_BR) is
# stored but, by design, not extracted (``not_english``), which fault tests do not care about.
ENGLISH_PAGES = [p for p in REAL_PAGES if not p.startswith("fundus_de_")]

# Tables whose rows describe a run rather than the data (they grow by design on every run).
RUN_TABLES = {"runs", "fetch_log", "reextract_log", "schema_version"}
# Fast, deterministic fetch settings for pipeline runs in tests (environment layer).
FAST_FETCH_ENV = {
    "MUSTER_FETCH__BACKOFF_BASE": "0.01",
    "MUSTER_FETCH__BACKOFF_MAX": "0.05",
    "MUSTER_FETCH__RETRY_AFTER_MAX": "1.5",
    "MUSTER_FETCH__CONNECT_TIMEOUT": "1",
    "MUSTER_FETCH__READ_TIMEOUT": "1",
    "MUSTER_FETCH__TOTAL_TIMEOUT": "2",
    "MUSTER_FETCH__RETRIES": "1",
}


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """Rows of ``sql`` on a read-only connection (closed right after)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def db_state(db: Path) -> dict[str, list[tuple]]:
    """Sorted rows of every data table, without timestamps and run ids (they differ per run)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1"
        ).fetchall() if r[0] not in RUN_TABLES]
        state = {}
        for table in tables:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                "AND schema_name = 'main' AND data_type NOT LIKE 'TIMESTAMP%' "
                "AND column_name NOT IN ('run_id', 'last_polled') ORDER BY column_index", [table]
            ).fetchall()]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
            state[table] = sorted(rows, key=repr)
        return state
    finally:
        con.close()


def run_flow(db: Path, feeds: Path, **kw: Any) -> Any:
    """One real Prefect flow run (needs the ``prefect_server`` fixture)."""
    from flows.prefect_flows import pipeline

    return pipeline(db_path=str(db), feeds_path=str(feeds), **kw)


def frozen_configs(dest: Path) -> Path:
    """A private copy of ``configs/`` (rules and lexicons), so two runs a minute apart use the
    same extractor version even while someone edits the rules; point MUSTER_CONFIGS_DIR here."""
    import shutil

    shutil.copytree(ROOT / "configs", dest, ignore=shutil.ignore_patterns("demo"))
    return dest


def write_feeds(path: Path, feeds: dict[str, str]) -> Path:
    """A feeds.yaml with ``{name: url}``."""
    lines = ["feeds:"] + [f"  - name: {n}\n    url: {u}" for n, u in feeds.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class RawServer:
    """A socket server on 127.0.0.1 whose every connection is handled by ``behaviour``.

    ``behaviour(conn, request_bytes)`` writes whatever it likes; ``hits`` counts connections
    that sent a request. Threads are daemons and the server stops on ``stop()``.
    """

    def __init__(self, behaviour: Callable[[socket.socket, bytes], None],
                 host: str = "127.0.0.1") -> None:
        self.behaviour = behaviour
        self.host = host
        self.hits = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            self.hits += 1
            self.behaviour(conn, data)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


def reset_mid_body(conn: socket.socket, _request: bytes) -> None:
    """Promise 100 kB, send a little, then reset the connection (RST, not a clean close)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
                 b"<html><body><p>" + b"partial " * 200)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def slow_loris(conn: socket.socket, _request: bytes, gap: float = 0.1, limit: float = 30) -> None:
    """Headers then one body byte every ``gap`` seconds: never idle long enough for a read timeout."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000000\r\n\r\n")
    end = time.monotonic() + limit
    while time.monotonic() < end:
        conn.sendall(b"a")
        time.sleep(gap)


def secret(conn: socket.socket, _request: bytes) -> None:
    """A page an SSRF would steal: any request that reaches it is a failure of the guard."""
    body = b"<html><body><p>" + b"SECRET internal admin page. " * 20 + b"</p></body></html>"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
