"""Limits enforced while streaming: decoded size (gzip bombs), wire size, encodings,
content type, charset and binary sniffing, against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import zlib

import pytest

from ingest.clean import clean_html
from ingest.content import charset_of
from ingest.decode import BodyDecoder, TooLarge
from ingest.fetch import FetchLimits, fetch_page, make_client
from tests.fixtures_http import LocalHTTPServer, Route

FAST = FetchLimits(backoff_base=0.01, backoff_max=0.02, connect_timeout=2, read_timeout=5,
                   total_timeout=10)
ARTICLE = (
    "<html><head><title>Café society</title></head><body><article>"
    + "".join(f"<p>Le café n°{i} était fermé ce matin à Besançon, et personne ne savait "
              f"pourquoi le patron était parti {i} jours plus tôt.</p>" for i in range(4))
    + "</article></body></html>"
)
BOMB_SIZE = 64 * 1024 * 1024  # 64 MiB of zeros gzip to ~64 KiB


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip.compress(b"\0" * BOMB_SIZE, compresslevel=9)


def fetch(url: str, limits: FetchLimits = FAST):
    async def go():
        async with make_client(limits) as client:
            return await fetch_page(client, url, limits=limits)

    return asyncio.run(go())


def test_decoder_never_holds_more_than_the_cap(bomb: bytes) -> None:
    """One raw chunk holding the whole bomb still yields at most cap+1 decoded bytes."""
    decoder = BodyDecoder("gzip", limit=1_000_000)
    with pytest.raises(TooLarge):
        decoder.feed(bomb)
    assert decoder.size <= 1_000_000
    assert BodyDecoder("gzip", 10**6).feed(gzip.compress(b"ok")) == b"ok"


def test_gzip_bomb_stops_early(http_server: LocalHTTPServer, bomb: bytes) -> None:
    http_server.add("/bomb", Route(body=bomb, headers={"Content-Encoding": "gzip"}))
    limits = FAST.model_copy(update={"max_decoded_bytes": 1_000_000})
    res = fetch(http_server.url("/bomb"), limits)
    assert res.error == "too_large" and res.body is None and res.attempts == 1
    assert "decoded body exceeds 1000000" in res.detail
    # the wire limit applies to the compressed bytes: a small gzip is fine under it
    small = FAST.model_copy(update={"max_bytes": len(bomb) + 10, "max_decoded_bytes": 10**8})
    http_server.add("/ok.gz", Route(body=gzip.compress(ARTICLE.encode()),
                                    headers={"Content-Encoding": "gzip"}))
    assert fetch(http_server.url("/ok.gz"), small).body == ARTICLE.encode()


def test_wire_size_limit_without_content_length(http_server: LocalHTTPServer) -> None:
    http_server.add("/big", Route(body=b"<p>" + b"x" * 100_000, omit_length=True))
    res = fetch(http_server.url("/big"), FAST.model_copy(update={"max_bytes": 50_000}))
    assert res.error == "too_large" and res.body is None


def test_deflate_variants_and_unsupported_encodings(http_server: LocalHTTPServer) -> None:
    raw = zlib.compressobj(wbits=-15)
    raw_deflate = raw.compress(ARTICLE.encode()) + raw.flush()
    http_server.add("/zlib", Route(body=zlib.compress(ARTICLE.encode()),
                                   headers={"Content-Encoding": "deflate"}))
    http_server.add("/raw", Route(body=raw_deflate, headers={"Content-Encoding": "deflate"}))
    http_server.add("/br", Route(body=b"\x1b\x00", headers={"Content-Encoding": "br"}))
    http_server.add("/corrupt", Route(body=b"\x1f\x8b\x08\x00garbage-garbage",
                                      headers={"Content-Encoding": "gzip"}))
    assert fetch(http_server.url("/zlib")).body == ARTICLE.encode()
    assert fetch(http_server.url("/raw")).body == ARTICLE.encode()
    for path in ("/br", "/corrupt"):
        res = fetch(http_server.url(path))
        assert res.error == "bad_encoding" and res.attempts == 1, path  # not retried


def test_content_type_and_binary_are_refused(http_server: LocalHTTPServer) -> None:
    http_server.add("/pdf", Route(body=b"%PDF-1.7 ...", content_type="application/pdf"))
    http_server.add("/png", Route(body=b"\x89PNG\r\n\x1a\n" + bytes(100)))  # says text/html
    http_server.add("/nul", Route(body=b"<html>" + b"\x00" * 50, content_type=None))
    assert fetch(http_server.url("/pdf")).error == "not_html"
    assert http_server.hits("/pdf") == 1
    assert fetch(http_server.url("/png")).error == "binary"
    assert fetch(http_server.url("/nul")).error == "binary"


def test_http_charset_is_used_to_decode(http_server: LocalHTTPServer) -> None:
    """A Latin-1 page whose only charset declaration is the HTTP header decodes correctly."""
    http_server.add("/latin1", Route(body=ARTICLE.encode("latin-1"),
                                     content_type="text/html; charset=ISO-8859-1"))
    res = fetch(http_server.url("/latin1"))
    assert res.ok and charset_of(res.content_type) == "iso8859-1"
    article = clean_html(res.body, res.final_url, charset=charset_of(res.content_type)).article
    assert article is not None and "Le café n°0 était fermé" in article.text  # detection alone gets n° wrong
    assert charset_of("text/html; charset=bogus-123") is None
    assert charset_of('text/html; charset="utf-8"') == "utf-8"
