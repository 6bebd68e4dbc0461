"""ingest.fetch against a real local HTTP server: limits, retries, reason codes, file://."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from pathlib import Path

import pytest

from ingest.fetch import DEFAULT_USER_AGENT, FetchLimits, fetch_many, fetch_page, make_client
from tests.fixtures_http import LocalHTTPServer, Route

PAGES = Path(__file__).parent / "fixtures" / "pages"
HTML = "<html><head><title>T</title></head><body><p>Hello world.</p></body></html>"
# Fast retries so the suite stays quick; the production defaults are tested separately.
FAST = FetchLimits(
    backoff_base=0.01,
    backoff_max=0.05,
    retry_after_max=0.05,
    connect_timeout=2,
    read_timeout=2,
    total_timeout=5,
)


def fetch(url: str, limits: FetchLimits = FAST, **kw):
    async def go():
        async with make_client(limits) as client:
            return await fetch_page(client, url, limits=limits, **kw)

    return asyncio.run(go())


def test_defaults_are_polite() -> None:
    limits = FetchLimits()
    assert (
        limits.user_agent
        == DEFAULT_USER_AGENT
        == "Muster/0.1 (+https://github.com/muster-news/muster)"
    )
    assert (limits.max_bytes, limits.max_redirects, limits.retries) == (10 * 1024 * 1024, 5, 3)
    with pytest.raises(ValueError):
        FetchLimits(max_bytez=1)  # type: ignore[call-arg]


def test_fetch_real_page(http_server: LocalHTTPServer) -> None:
    http_server.serve_dir(PAGES, "/pages/")
    res = fetch(http_server.url("/pages/fundus_us_APNews_2023_04_28.html"))
    assert res.error is None and res.ok and res.status == 200 and res.attempts == 1
    assert res.content_type.startswith("text/html")
    assert b"Mexico" in res.body
    assert res.body == gzip.decompress((PAGES / "fundus_us_APNews_2023_04_28.html.gz").read_bytes())
    assert http_server.requests[0].headers["User-Agent"] == DEFAULT_USER_AGENT


def test_404_is_not_retried(http_server: LocalHTTPServer) -> None:
    res = fetch(http_server.url("/missing"))
    assert (res.error, res.status, res.attempts, res.body) == ("http_404", 404, 1, None)
    assert http_server.hits("/missing") == 1


def test_403_is_not_retried(http_server: LocalHTTPServer) -> None:
    http_server.add("/forbidden", Route(status=403, body="no"))
    res = fetch(http_server.url("/forbidden"))
    assert (res.error, res.attempts) == ("http_403", 1)


def test_500_retried_then_success(http_server: LocalHTTPServer) -> None:
    http_server.add("/flaky", [Route(status=500), Route(status=503), Route(body=HTML)])
    res = fetch(http_server.url("/flaky"))
    assert res.ok and res.attempts == 3 and res.body == HTML.encode()
    assert http_server.hits("/flaky") == 3


def test_5xx_gives_up_after_retries(http_server: LocalHTTPServer) -> None:
    http_server.add("/down", Route(status=502))
    limits = FAST.model_copy(update={"retries": 2})
    res = fetch(http_server.url("/down"), limits)
    assert (res.error, res.status, res.attempts) == ("http_5xx", 502, 3)
    assert http_server.hits("/down") == 3


def test_429_honours_retry_after_capped(http_server: LocalHTTPServer) -> None:
    http_server.add("/busy", [Route(status=429, headers={"Retry-After": "3600"}), Route(body=HTML)])
    started = time.monotonic()
    res = fetch(http_server.url("/busy"))
    assert res.ok and res.attempts == 2
    assert time.monotonic() - started < 2  # capped at retry_after_max, not an hour


def test_timeout_is_retried_then_reported(http_server: LocalHTTPServer) -> None:
    http_server.add("/slow", Route(body=HTML, delay=1.0))
    limits = FAST.model_copy(update={"read_timeout": 0.2, "retries": 1})
    res = fetch(http_server.url("/slow"), limits)
    assert (res.error, res.attempts) == ("timeout", 2)
    assert http_server.hits("/slow") == 2


def test_total_timeout(http_server: LocalHTTPServer) -> None:
    http_server.add("/slow", Route(body=HTML, delay=1.0))
    limits = FAST.model_copy(update={"total_timeout": 0.2, "read_timeout": 10, "retries": 0})
    res = fetch(http_server.url("/slow"), limits)
    assert res.error == "timeout" and res.elapsed_ms < 900


def test_connect_error(unused_port: int) -> None:
    limits = FAST.model_copy(update={"retries": 1})
    res = fetch(f"http://127.0.0.1:{unused_port}/", limits)
    assert (res.error, res.attempts, res.status) == ("connect_error", 2, None)


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_too_large_by_content_length(http_server: LocalHTTPServer) -> None:
    http_server.add("/big", Route(body="<p>" + "x" * 5000))
    res = fetch(http_server.url("/big"), FAST.model_copy(update={"max_bytes": 1000}))
    assert res.error == "too_large" and res.body is None and res.attempts == 1


def test_too_large_while_streaming(http_server: LocalHTTPServer) -> None:
    http_server.add("/stream", Route(body=b"<p>" + b"y" * 65536, repeat_body=64, omit_length=True))
    res = fetch(http_server.url("/stream"), FAST.model_copy(update={"max_bytes": 100_000}))
    assert res.error == "too_large" and res.body is None


def test_gzip_bomb_is_cut_off(http_server: LocalHTTPServer) -> None:
    bomb = gzip.compress(b"<html>" + b"a" * 20_000_000)
    http_server.add("/bomb", Route(body=bomb, headers={"Content-Encoding": "gzip"}))
    res = fetch(http_server.url("/bomb"), FAST.model_copy(update={"max_bytes": 1_000_000}))
    assert res.error == "too_large"


def test_gzip_encoding_is_decoded(http_server: LocalHTTPServer) -> None:
    http_server.add(
        "/gz", Route(body=gzip.compress(HTML.encode()), headers={"Content-Encoding": "gzip"})
    )
    assert fetch(http_server.url("/gz")).body == HTML.encode()


@pytest.mark.parametrize("ctype", ["image/png", "application/pdf", "video/mp4", "application/zip"])
def test_binary_content_types_refused(http_server: LocalHTTPServer, ctype: str) -> None:
    http_server.add("/file", Route(body=b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, content_type=ctype))
    res = fetch(http_server.url("/file"))
    assert (res.error, res.attempts) == ("not_html", 1) and res.body is None


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        (None, b"\x89PNG\r\n\x1a\n\x00\x00"),
        ("text/html", b"<html>\x00\x01\x02binary</html>"),
        ("application/octet-stream", b"%PDF-1.7 ..."),
    ],
)
def test_binary_bodies_sniffed(
    http_server: LocalHTTPServer, ctype: str | None, body: bytes
) -> None:
    http_server.add("/x", Route(body=body, content_type=ctype))
    res = fetch(http_server.url("/x"))
    assert res.error == "binary" and res.body is None


def test_text_types_accepted(http_server: LocalHTTPServer) -> None:
    for i, ctype in enumerate(["application/xhtml+xml", "text/plain", "application/xml", None]):
        http_server.add(f"/t{i}", Route(body=HTML, content_type=ctype))
        assert fetch(http_server.url(f"/t{i}")).ok, ctype


def test_redirects_followed(http_server: LocalHTTPServer) -> None:
    http_server.add("/old", Route(status=301, headers={"Location": "/mid"}))
    http_server.add("/mid", Route(status=302, headers={"Location": http_server.url("/new")}))
    http_server.add("/new", Route(body=HTML))
    res = fetch(http_server.url("/old"))
    assert (
        res.ok and res.final_url == http_server.url("/new") and res.url == http_server.url("/old")
    )


def test_redirect_loop(http_server: LocalHTTPServer) -> None:
    http_server.add("/loop", Route(status=302, headers={"Location": "/loop"}))
    res = fetch(http_server.url("/loop"))
    assert res.error == "too_many_redirects" and res.attempts == 1
    assert http_server.hits("/loop") == FAST.max_redirects + 1


def test_redirect_to_file_is_blocked(http_server: LocalHTTPServer) -> None:
    http_server.add("/evil", Route(status=302, headers={"Location": "file:///etc/passwd"}))
    res = fetch(http_server.url("/evil"))
    assert res.error == "bad_redirect" and res.body is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "javascript:alert(1)",
        "",
        "no-scheme",
        "data:text/html,hi",
        "http://",
        "http://[::1",
    ],
)
def test_blocked_urls(url: str) -> None:
    res = fetch(url)
    assert res.error == "blocked_url" and res.body is None


def test_conditional_request(http_server: LocalHTTPServer) -> None:
    http_server.add(
        "/page", Route(body=HTML, etag='"v1"', last_modified="Wed, 21 Oct 2015 07:28:00 GMT")
    )
    first = fetch(http_server.url("/page"))
    assert first.ok and first.etag == '"v1"'
    again = fetch(
        http_server.url("/page"),
        validators={"etag": first.etag, "last_modified": first.last_modified},
    )
    assert again.not_modified and again.status == 304 and again.error is None and again.body is None
    assert http_server.requests[-1].headers["If-None-Match"] == '"v1"'


def test_file_urls(tmp_path: Path) -> None:
    page = PAGES / "fundus_us_APNews_2023_04_28.html.gz"
    res = fetch(page.resolve().as_uri())
    assert res.ok and res.body.startswith(b"<!") or b"<html" in res.body[:500]
    assert res.body == gzip.decompress(page.read_bytes())
    plain = tmp_path / "a b.html"
    plain.write_text(HTML)
    assert fetch(plain.as_uri()).body == HTML.encode()
    assert fetch((tmp_path / "missing.html").as_uri()).error == "not_found"
    assert fetch(tmp_path.as_uri()).error == "not_found"
    big = tmp_path / "big.html"
    big.write_bytes(b"x" * 2000)
    assert fetch(big.as_uri(), FAST.model_copy(update={"max_bytes": 1000})).error == "too_large"
    bad_gz = tmp_path / "bad.html.gz"
    bad_gz.write_bytes(b"\x1f\x8bnot really gzip")
    assert fetch(bad_gz.as_uri()).error == "read_error"
    binary = tmp_path / "img.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert fetch(binary.as_uri()).error == "binary"


def test_fetch_many_keeps_order(http_server: LocalHTTPServer) -> None:
    for i in range(6):
        http_server.add(f"/p{i}", Route(body=f"<html>{i}</html>", delay=0.05))
    urls = [http_server.url(f"/p{i}") for i in range(6)] + [http_server.url("/nope"), "ftp://x"]
    results = asyncio.run(fetch_many(urls, FAST, concurrency=3))
    assert [r.url for r in results] == urls
    assert [r.body for r in results[:6]] == [f"<html>{i}</html>".encode() for i in range(6)]
    assert [r.error for r in results[6:]] == ["http_404", "blocked_url"]


def test_block_private_hosts(http_server: LocalHTTPServer) -> None:
    http_server.add("/p", Route(body=HTML))
    guarded = FAST.model_copy(update={"block_private": True})
    res = fetch(http_server.url("/p"), guarded)
    assert res.error == "blocked_url" and "non-public" in res.detail
    assert http_server.hits("/p") == 0
    assert fetch(http_server.url("/p")).ok  # off by default
