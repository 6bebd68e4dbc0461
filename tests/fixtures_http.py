"""A real HTTP server on 127.0.0.1 for tests (no mocked transports).

Why a real server: the ingest code's interesting behaviour (streaming cut-offs, timeouts,
redirect hops, conditional GETs, retries) lives in the socket/HTTP layer, which a mocked
transport would skip. The server runs in a daemon thread on a random free port and serves
either explicit routes or a directory (``*.html.gz`` files are served decompressed as
``text/html``, the way a web server would serve the page).

Usage (the lead imports this module from ``tests/conftest.py``)::

    from tests.fixtures_http import http_server, Route   # noqa: F401  (fixture)

    def test_x(http_server):
        http_server.add("/feed.xml", Route(body=xml, content_type="application/rss+xml"))
        http_server.add("/flaky", [Route(status=500), Route(body="<html>ok</html>")])
        http_server.serve_dir(Path("tests/fixtures/pages"), prefix="/pages/")
        url = http_server.url("/feed.xml")          # or str(http_server) for the base URL
        assert http_server.hits("/flaky") == 2
"""

from __future__ import annotations

import gzip
import mimetypes
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest

__all__ = ["LocalHTTPServer", "Route", "http_server", "rss", "start_server"]

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class _Server(ThreadingHTTPServer):
    """A threaded server with a deep listen backlog.

    The default backlog of 5 makes concurrent clients (16 polls in flight on a busy
    2-core machine) see connect timeouts that say nothing about the code under test.
    """

    request_queue_size = 128
    daemon_threads = True


@dataclass
class Route:
    """One canned response.

    ``etag`` / ``last_modified`` turn on conditional-GET support: a request whose
    If-None-Match / If-Modified-Since matches gets a bodiless 304. ``delay`` sleeps before
    the status line (to trigger read timeouts); ``omit_length`` sends the body without a
    Content-Length (so only streaming limits can stop it); ``repeat_body`` multiplies the
    body (cheap way to serve many megabytes).
    """

    body: bytes | str = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    omit_length: bool = False
    repeat_body: int = 1

    def payload(self) -> bytes:
        raw = self.body.encode("utf-8") if isinstance(self.body, str) else self.body
        return raw * self.repeat_body


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]


class LocalHTTPServer:
    """Threaded HTTP server with mutable routes and a request log."""

    def __init__(self) -> None:
        self._routes: dict[str, list[Route]] = {}
        self._served: dict[str, int] = {}
        self._dirs: list[tuple[str, Path]] = []
        self._lock = threading.Lock()
        self.requests: list[_Request] = []
        self._httpd = _Server(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        host, port = self._httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"

    # -- configuration -------------------------------------------------------------------
    def add(self, path: str, route: Route | list[Route] | str | bytes) -> str:
        """Register ``path``; a list of routes is served in turn (the last one repeats)."""
        if isinstance(route, (str, bytes)):
            route = Route(body=route)
        with self._lock:
            self._routes[path] = list(route) if isinstance(route, list) else [route]
            self._served[path] = 0
        return self.url(path)

    def serve_dir(self, directory: Path, prefix: str = "/") -> str:
        """Serve files of ``directory`` under ``prefix`` (``x.html.gz`` is also ``x.html``)."""
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        self._dirs.append((prefix, Path(directory)))
        return self.url(prefix)

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def hits(self, path: str) -> int:
        """How many requests reached ``path`` (query string ignored)."""
        return sum(1 for r in self.requests if urlsplit(r.path).path == path)

    def __str__(self) -> str:
        return self.base_url

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> LocalHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- serving -------------------------------------------------------------------------
    def _next_route(self, path: str) -> Route | None:
        with self._lock:
            routes = self._routes.get(path)
            if routes is None:
                return None
            index = min(self._served[path], len(routes) - 1)
            self._served[path] += 1
            return routes[index]

    def _dir_route(self, path: str) -> Route | None:
        for prefix, directory in self._dirs:
            if not path.startswith(prefix):
                continue
            rel = path[len(prefix) :]
            if not rel or ".." in rel.split("/"):
                continue
            candidate = directory / rel
            if candidate.is_file():
                data = candidate.read_bytes()
                ctype = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
                if candidate.suffix == ".gz":
                    ctype = "application/gzip"
                return Route(body=data, content_type=ctype)
            gz = candidate.with_name(candidate.name + ".gz")
            if gz.is_file():
                ctype = mimetypes.guess_type(candidate.name)[0] or "text/html"
                if ctype == "text/html":
                    ctype = "text/html; charset=utf-8"
                return Route(body=gzip.decompress(gz.read_bytes()), content_type=ctype)
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def _serve(self, head: bool) -> None:
                server.requests.append(_Request(self.command, self.path, dict(self.headers)))
                path = urlsplit(self.path).path
                route = server._next_route(path) or server._dir_route(path)
                if route is None:
                    route = Route(status=404, body="<html><body>not found</body></html>")
                try:
                    self._respond(route, head)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeouts, size limits): expected in tests

            def _respond(self, route: Route, head: bool) -> None:
                if route.delay:
                    time.sleep(route.delay)
                status, body = route.status, route.payload()
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if status == 200 and (
                    (route.etag and inm == route.etag)
                    or (route.last_modified and ims == route.last_modified)
                ):
                    status, body = 304, b""
                self.send_response(status)
                if route.content_type and status != 304:
                    self.send_header("Content-Type", route.content_type)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.omit_length and status != 304:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if head or status == 304:
                    return
                view = memoryview(body)
                for start in range(0, len(body), 65536):
                    self.wfile.write(view[start : start + 65536])

        return Handler


def start_server() -> LocalHTTPServer:
    """Start a server outside pytest (e.g. benchmarks); call ``.stop()`` when done."""
    return LocalHTTPServer().start()


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    """A fresh local server per test; ``str(http_server)`` is its base URL."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


PUBLISHED = "Mon, 28 Apr 2025 06:00:00 GMT"


def rss(base: str, links: Sequence[str],
        published: str | Sequence[str | None] | None = PUBLISHED) -> str:
    """A small RSS 2.0 feed whose items link ``links``, in order.

    A path (``/news/a.html``) is joined to ``base``; a link with a scheme (``http://other/x``,
    and the hostile ``file:`` / ``javascript:`` ones some tests need) is kept as written.
    ``published`` is every item's pubDate, or one per item, or ``None`` for items without
    one. Links are XML-escaped, so query strings with ``&`` stay well-formed.
    """
    dates = [published] * len(links) if published is None or isinstance(published, str) \
        else list(published)
    assert len(dates) == len(links), "one date per link"
    items = "\n".join(
        f"<item><title>item {i}</title><link>{escape(_absolute(base, link))}</link>"
        + (f"<pubDate>{date}</pubDate>" if date else "") + "</item>"
        for i, (link, date) in enumerate(zip(links, dates))
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>fixture</title>'
        f"<link>{escape(_absolute(base, '/'))}</link><description>d</description>"
        f"{items}</channel></rss>"
    )


def _absolute(base: str, link: str) -> str:
    return link if _SCHEME.match(link) else base.rstrip("/") + link
