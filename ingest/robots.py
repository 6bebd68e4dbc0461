"""robots.txt checks, cached per origin (opt-in; ``fetch_page`` does not call this itself).

A public news crawler should honour robots.txt; keeping the check separate from
``fetch_page`` lets the flow decide (feeds a publisher hands out are usually meant to be
fetched, while sitemap- or folder-driven crawls are not always). Semantics follow RFC 9309:
a 4xx robots.txt means "no rules" (allow), an unreachable one (5xx, timeout, connection
error) means "assume disallow" until the next run, and ``file://`` URLs are always allowed.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from ingest.fetch import FetchLimits, fetch_page

__all__ = ["RobotsCache"]

_UNREACHABLE = frozenset({"http_5xx", "timeout", "connect_error", "network_error", "http_429"})


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _accept_text(content_type: str | None) -> bool:
    """robots.txt is text; some servers label it oddly, so accept anything textual or unset."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return not media or media.startswith("text/") or media == "application/octet-stream"


class RobotsCache:
    """Fetch each origin's robots.txt once and answer ``allowed(url)`` from it."""

    def __init__(self, client: httpx.AsyncClient, limits: FetchLimits | None = None) -> None:
        base = limits or FetchLimits()
        # robots.txt is small and a failure has a defined meaning: no long retries.
        self._limits = base.model_copy(update={"max_bytes": 512 * 1024, "retries": 0})
        self._client = client
        self._parsers: dict[str, RobotFileParser | bool] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: str) -> bool:
        """True if our user agent may fetch ``url`` (non-http URLs are not robots' business)."""
        origin = _origin(url)
        if origin is None:
            return True
        rules = await self._rules(origin)
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self._limits.user_agent, url)

    async def crawl_delay(self, url: str) -> float | None:
        """The site's Crawl-delay for our agent, if it sets one."""
        origin = _origin(url)
        rules = await self._rules(origin) if origin else True
        if isinstance(rules, bool):
            return None
        delay = rules.crawl_delay(self._limits.user_agent)
        return float(delay) if delay is not None else None

    async def _rules(self, origin: str) -> RobotFileParser | bool:
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:  # one fetch per origin even when many pages ask at once
            if origin not in self._parsers:
                self._parsers[origin] = await self._load(origin)
            return self._parsers[origin]

    async def _load(self, origin: str) -> RobotFileParser | bool:
        res = await fetch_page(
            self._client, f"{origin}/robots.txt", limits=self._limits, accept=_accept_text
        )
        if res.error in _UNREACHABLE:
            return False
        if res.error or res.body is None:
            return True  # 4xx, not text, too large...: no usable rules
        parser = RobotFileParser()
        parser.parse(res.body.decode("utf-8", errors="replace").splitlines())
        return parser
