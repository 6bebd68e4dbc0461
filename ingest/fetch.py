"""Polite, bounded page fetching.

Everything that can go wrong on the web comes back as a :class:`FetchResult` with a reason
code instead of an exception, because one bad URL must never sink a whole run and the
warehouse logs every outcome. Downloads are streamed and cut off at ``max_bytes`` on the
wire and ``max_decoded_bytes`` after decompression, redirects are followed by hand so each
hop's scheme (and host, with a guard) is checked, and only transient failures are retried.

``file://`` URLs go through the same function so local folders of saved pages behave like
a tiny website (``.gz`` files are un-gzipped, with the same size limit).

Reason codes: ``http_<status>`` for 4xx (``http_404``, ``http_429``...), ``http_5xx`` for
any 5xx (the exact status is in ``status``), ``timeout``, ``connect_error``,
``network_error``, ``too_large``, ``not_html``, ``binary``, ``too_many_redirects``,
``bad_redirect``, ``blocked_url``, ``bad_encoding``, ``not_found`` (file), ``read_error`` (file).

Bodies are read raw and inflated by :class:`ingest.decode.BodyDecoder` under a hard cap, so a
gzip bomb stops after ``max_decoded_bytes`` however large one compressed chunk expands.
Which hosts may be fetched at all is :mod:`ingest.guard`'s business (pass ``guard=``).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import gzip
import random
import ssl
import time
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from ingest.content import (
    SUFFIX_TYPES,
    feed_content_type_ok,
    html_content_type_ok,
    media_type,
    sniff_binary,
)
from ingest.decode import BodyDecoder, DecodeError, TooLarge
from ingest.guard import UrlGuard
from ingest.limits import DEFAULT_USER_AGENT, FetchLimits, FetchResult
from ingest.urls import file_url_to_path

__all__ = [
    "DEFAULT_USER_AGENT",
    "FetchLimits",
    "FetchResult",
    "feed_content_type_ok",
    "fetch_many",
    "fetch_page",
    "html_content_type_ok",
    "is_transient",
    "local_path_to_url",
    "make_client",
]

TRANSIENT_ERRORS = frozenset({"timeout", "connect_error", "network_error", "http_429", "http_5xx"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle (~17 ms of CPU), and the
    pipeline makes a client per batch. A context is safe to share between clients and threads."""
    return httpx.create_ssl_context()


def make_client(settings: FetchLimits | None = None) -> httpx.AsyncClient:
    """An ``AsyncClient`` configured from ``settings``; redirects are followed by fetch_page."""
    s = settings or FetchLimits()
    timeout = httpx.Timeout(s.read_timeout, connect=s.connect_timeout)
    pool = httpx.Limits(
        max_connections=max(s.max_concurrency, 1) * 2, max_keepalive_connections=s.max_concurrency
    )
    headers = {
        "User-Agent": s.agent,
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5",
        "Accept-Encoding": "gzip, deflate",
    }
    return httpx.AsyncClient(
        timeout=timeout, limits=pool, headers=headers, follow_redirects=False, trust_env=False,
        verify=_tls_context(),
    )


def _scheme(url: object) -> str:
    """Lower-case scheme, or "" for anything unparseable (which is then blocked)."""
    try:
        return urlsplit(url).scheme.lower() if isinstance(url, str) else ""
    except ValueError:
        return ""


def is_transient(error: str | None) -> bool:
    """Errors worth another attempt later: the same request may well succeed."""
    return error in TRANSIENT_ERRORS


def _retry_after(value: str | None, cap: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), capped at ``cap``."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), cap)


def _backoff(attempt: int, limits: FetchLimits) -> float:
    """Exponential backoff with jitter, so many workers do not retry in lock-step."""
    base = min(limits.backoff_max, limits.backoff_base * (2 ** (attempt - 1)))
    return base * (0.5 + random.random() / 2)


def _read_file(
    url: str, limits: FetchLimits, ok_type: Callable[[str | None], bool], sniff: bool = True
) -> FetchResult:
    """``file://`` fetch: same limits and reason codes as the network path."""
    res = FetchResult(url=url, final_url=url, attempts=1)
    path = file_url_to_path(url)
    if not path.is_file():
        res.error, res.detail = "not_found", f"no such file: {path}"
        return res
    gz = path.suffix.lower() == ".gz"
    inner = path.with_suffix("") if gz else path
    res.content_type = SUFFIX_TYPES.get(inner.suffix.lower())
    try:
        if gz:
            with gzip.open(path, "rb") as fh:
                body = fh.read(limits.decoded_cap + 1)
        else:
            if path.stat().st_size > limits.max_bytes:
                res.error, res.detail = "too_large", f"file is over {limits.max_bytes} bytes"
                return res
            body = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        res.error, res.detail = "read_error", f"{type(exc).__name__}: {exc}"
        return res
    if len(body) > limits.decoded_cap:
        res.error, res.detail = "too_large", f"decompressed size is over {limits.decoded_cap} bytes"
        return res
    if res.content_type is not None and not ok_type(res.content_type):
        res.error, res.detail = "not_html", f"content type {res.content_type}"
        return res
    res.status, res.body = 200, body
    if sniff and (why := sniff_binary(body)) is not None:
        res.error, res.detail, res.body = "binary", why, None
    return res


async def _attempt(
    client: httpx.AsyncClient,
    url: str,
    limits: FetchLimits,
    headers: dict[str, str],
    ok_type: Callable[[str | None], bool],
    sniff: bool,
    res: FetchResult,
    guard: UrlGuard | None = None,
) -> httpx.Response | None:
    """One attempt including redirects; fills ``res`` and returns the last response.

    The guard runs before every hop: a public page may not redirect us to 127.0.0.1.
    """
    current = url
    for hop in range(limits.max_redirects + 1):
        scheme = _scheme(current)
        if scheme not in ("http", "https"):
            res.error = "bad_redirect" if hop else "blocked_url"
            res.detail = f"scheme {scheme!r}"
            return None
        if guard is not None and (why := await guard.check(current)) is not None:
            res.error, res.detail = "blocked_url", why if not hop else f"redirect to {current}: {why}"
            return None
        request = client.build_request("GET", current, headers=headers)
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            res.final_url, res.status = str(response.url), response.status_code
            res.content_type = response.headers.get("content-type")
            res.etag = response.headers.get("etag")
            res.last_modified = response.headers.get("last-modified")
            if response.status_code in _REDIRECTS and "location" in response.headers:
                current = urljoin(str(response.url), response.headers["location"])
                continue
            await _read_body(response, limits, ok_type, sniff, res)
            return response
        finally:
            await response.aclose()
    res.error, res.detail = "too_many_redirects", f"more than {limits.max_redirects} redirects"
    return None


async def _read_body(
    response: httpx.Response,
    limits: FetchLimits,
    ok_type: Callable[[str | None], bool],
    sniff: bool,
    res: FetchResult,
) -> None:
    """Classify the status and stream the body within ``max_bytes``."""
    status = response.status_code
    if status == 304:
        res.not_modified = True
        return
    if status >= 500:
        res.error, res.detail = "http_5xx", f"HTTP {status}"
        return
    if status >= 400 or status < 200 or status in _REDIRECTS:
        res.error, res.detail = f"http_{status}", f"HTTP {status}"
        return
    if not ok_type(res.content_type):
        res.error, res.detail = "not_html", f"content type {media_type(res.content_type)}"
        return
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        res.error, res.detail = "too_large", f"Content-Length {declared} > {limits.max_bytes}"
        return
    chunks: list[bytes] = []
    raw_size = 0
    try:
        decoder = BodyDecoder(response.headers.get("content-encoding"), limits.decoded_cap)
        async for chunk in response.aiter_raw():
            raw_size += len(chunk)
            if raw_size > limits.max_bytes:
                res.error, res.detail = "too_large", f"body exceeds {limits.max_bytes} bytes"
                return
            chunks.append(decoder.feed(chunk))
        chunks.append(decoder.finish())
    except TooLarge as exc:
        res.error, res.detail = "too_large", f"{exc} (after {raw_size} bytes on the wire)"
        return
    except DecodeError as exc:
        res.error, res.detail = "bad_encoding", str(exc)
        return
    body = b"".join(chunks)
    if sniff and (why := sniff_binary(body)) is not None:
        res.error, res.detail = "binary", why
        return
    res.body = body


async def fetch_page(
    client: httpx.AsyncClient,
    url: str,
    *,
    limits: FetchLimits | None = None,
    validators: dict[str, str | None] | None = None,
    accept: Callable[[str | None], bool] = html_content_type_ok,
    sniff: bool = True,
    guard: UrlGuard | None = None,
) -> FetchResult:
    """Fetch ``url`` and never raise: errors are reason codes on the result.

    ``guard`` (see :mod:`ingest.guard`) is checked on the URL and on every redirect hop;
    without one, ``limits.block_private`` still refuses every non-public address.

    ``validators`` ({"etag", "last_modified"}) makes the request conditional; a 304 gives
    ``not_modified=True`` and no body. ``accept`` decides which content types are usable
    (pages by default; :mod:`ingest.poll` passes a feed-friendly rule). ``sniff=False``
    skips the binary sniffing (poll uses it for gzipped sitemaps it un-gzips itself).
    """
    limits = limits or FetchLimits()
    started = time.monotonic()
    scheme = _scheme(url)
    if scheme == "file":
        res = await asyncio.to_thread(_read_file, url, limits, accept, sniff)
        res.elapsed_ms = int((time.monotonic() - started) * 1000)
        return res
    res = FetchResult(url=url, final_url=url)
    if scheme not in ("http", "https"):
        res.error, res.detail = "blocked_url", f"scheme {scheme!r} is not http, https or file"
        return res
    if guard is None and limits.block_private:
        guard = UrlGuard(allow_hosts=limits.allow_hosts)
    headers: dict[str, str] = {}
    if validators:
        if validators.get("etag"):
            headers["If-None-Match"] = str(validators["etag"])
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = str(validators["last_modified"])
    for attempt in range(1, limits.retries + 2):
        res = FetchResult(url=url, final_url=url, attempts=attempt)
        response: httpx.Response | None = None
        try:
            async with asyncio.timeout(limits.total_timeout):
                response = await _attempt(
                    client, url, limits, headers, accept, sniff, res, guard
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            res.error, res.detail = "timeout", f"{type(exc).__name__}: {exc}".rstrip(": ")
        except httpx.ConnectError as exc:
            res.error, res.detail = "connect_error", str(exc) or type(exc).__name__
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, ValueError) as exc:
            res.error, res.detail = "blocked_url", str(exc) or type(exc).__name__
        except httpx.HTTPError as exc:
            res.error, res.detail = "network_error", f"{type(exc).__name__}: {exc}"
        if not is_transient(res.error) or attempt > limits.retries:
            break
        delay = _backoff(attempt, limits)
        if response is not None and res.status in (429, 503):
            server_delay = _retry_after(response.headers.get("retry-after"), limits.retry_after_max)
            delay = server_delay if server_delay is not None else delay
        await asyncio.sleep(delay)
    res.elapsed_ms = int((time.monotonic() - started) * 1000)
    return res


async def fetch_many(
    urls: Iterable[str],
    limits: FetchLimits | None = None,
    concurrency: int | None = None,
    client: httpx.AsyncClient | None = None,
) -> list[FetchResult]:
    """Fetch ``urls`` concurrently; results keep input order.

    At most ``concurrency`` (default ``limits.max_concurrency``) requests are in flight in
    total and at most ``limits.max_per_host`` per host, so one big feed does not hammer
    its site while other sites wait.
    """
    limits = limits or FetchLimits()
    total = asyncio.Semaphore(concurrency or limits.max_concurrency)
    per_host: dict[str, asyncio.Semaphore] = {}
    own = client is None
    active = client or make_client(limits)

    async def one(u: str) -> FetchResult:
        try:
            host = (urlsplit(u).hostname or "") if isinstance(u, str) else ""
        except ValueError:
            host = ""
        host_sem = per_host.setdefault(host, asyncio.Semaphore(limits.max_per_host))
        async with host_sem, total:
            return await fetch_page(active, u, limits=limits)

    try:
        return list(await asyncio.gather(*(one(u) for u in urls)))
    finally:
        if own:
            await active.aclose()


def local_path_to_url(path: str | Path) -> str:
    """Helper for callers holding a path: the ``file://`` URL fetch_page understands."""
    return Path(path).resolve().as_uri()
