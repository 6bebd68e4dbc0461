"""A local news site for benchmarks: N real pages behind one RSS feed, on 127.0.0.1.

Why a separate process: the benchmarked pipeline (and, for run D, the harness itself)
must not share a GIL with the server, or the server's Python would be counted as the
pipeline's time.  Why pages are altered: the real pages (``../shared/data/pages/``,
zyte ``html/*.html.gz`` and fundus ``*/*.html.gz``) are fewer than N, so they are
replicated under distinct URLs; a replica that kept its ``<link rel=canonical>`` and its
text would be merged with its original (same canonical URL) or dropped as
``duplicate_content`` (same text hash).  So every page loses its canonical link, and
replica k > 0 gets a short unique marker at the start of every paragraph of 60+ characters
(the first one alone is often outside the main text, and the copy would be dropped).
The run's A loop cleans exactly these bytes (``page_bodies``).

Feed and pages carry ETags, so a second run against the unchanged server (run C) can be
answered with 304s.

    .venv/bin/python benchmarks/page_server.py --n 500      # prints the feed URL, serves until killed
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import subprocess
import sys
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT.parent / "shared" / "data" / "pages"

_CANONICAL = re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", re.I)
_LONG_P = re.compile(rb"(<p\b[^>]*>)(\s*[^<\s][^<]{60,})", re.I)


def source_files(pages: Path = PAGES) -> list[Path]:
    """The real pages, in a stable order: zyte first, then fundus."""
    zyte = sorted((pages / "zyte" / "html").glob("*.html.gz"))
    fundus = sorted((pages / "fundus").glob("*/*.html.gz"))
    return zyte + fundus


def load_sources(pages: Path = PAGES) -> list[bytes]:
    """Decompressed HTML of every real page (unreadable files skipped)."""
    out: list[bytes] = []
    for path in source_files(pages):
        try:
            out.append(gzip.decompress(path.read_bytes()))
        except OSError:
            continue
    if not out:
        raise SystemExit(f"no pages under {pages}")
    return out


def variant(html: bytes, k: int, i: int) -> bytes:
    """Page ``html`` as replica ``k`` (0 = original text), without its canonical link."""
    html = _CANONICAL.sub(b"", html)
    if k == 0:
        return html
    marker = f"Copy {k} of page {i}. ".encode()
    new, count = _LONG_P.subn(lambda m: m.group(1) + marker + m.group(2), html)
    return new if count else html.replace(b"<body", b"<body data-copy=\"%d\"" % k, 1)


def page_bodies(sources: list[bytes], n: int) -> Iterator[bytes]:
    """The N bodies the server serves, in URL order (``/p/0.html`` ... ``/p/{n-1}.html``)."""
    for j in range(n):
        yield variant(sources[j % len(sources)], j // len(sources), j % len(sources))


def feed_xml(base: str, n: int) -> bytes:
    """An RSS 2.0 feed listing every page (newest first, as feeds usually are)."""
    items = "".join(
        f"<item><title>Page {j}</title><link>{escape(base)}/p/{j}.html</link>"
        f"<guid>{escape(base)}/p/{j}.html</guid></item>"
        for j in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Muster benchmark</title><link>{escape(base)}/</link>"
        f"<description>{n} real pages</description>{items}</channel></rss>"
    ).encode()


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients closing idle keep-alive connections is normal here, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def make_server(n: int, host: str = "127.0.0.1", port: int = 0) -> tuple[_Server, str]:
    """A ready (not yet serving) server and its base URL."""
    # Every body and its ETag are made before the server answers: it stands in for remote
    # hosts, so its CPU must not compete with the measured run for the two cores (built on
    # first request they cost ~0.7 ms a page, ~1.3 s of CPU during B at N = 2000).
    bodies = list(page_bodies(load_sources(), n))
    etags = ['"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"' for body in bodies]
    modified = formatdate(1_700_000_000, usegmt=True)
    stats = {"200": 0, "304": 0, "404": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            body, ctype, etag = None, "text/html; charset=utf-8", None
            if path == "/feed.xml":
                body, ctype = feed, "application/rss+xml"
            elif path == "/empty.xml":  # no items: a run that measures start-up alone
                body, ctype = empty, "application/rss+xml"
            elif path.startswith("/p/") and path.endswith(".html"):
                try:
                    j = int(path[3:-5])
                except ValueError:
                    j = -1
                if 0 <= j < n:
                    body, etag = bodies[j], etags[j]
            if body is None:
                stats["404"] += 1
                self._send(404, b"not found", "text/plain", None)
                return
            if etag is None:
                etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag or (
                not self.headers.get("If-None-Match")
                and self.headers.get("If-Modified-Since") == modified
            ):
                stats["304"] += 1
                self._send(304, b"", None, etag)
                return
            stats["200"] += 1
            self._send(200, body, ctype, etag)

        def _send(self, status: int, body: bytes, ctype: str | None, etag: str | None) -> None:
            try:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                if etag:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", modified)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    httpd = _Server((host, port), Handler)
    base = f"http://{host}:{httpd.server_address[1]}"
    feed = feed_xml(base, n)
    empty = feed_xml(base, 0)
    httpd.stats = stats  # type: ignore[attr-defined]
    return httpd, base


def spawn(n: int) -> tuple[subprocess.Popen, str]:
    """This server in its own process (its Python must not share the measured GIL); feed URL."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--n", str(n)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    feed = proc.stdout.readline().strip()
    if not feed.startswith("http"):
        proc.kill()
        raise SystemExit("page server did not start")
    return proc, feed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    httpd, base = make_server(args.n, port=args.port)
    print(f"{base}/feed.xml", flush=True)  # the harness reads this line
    try:
        httpd.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        print(f"served: {httpd.stats}", file=sys.stderr)  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
