"""robots.txt checks, cached per origin (``fetch_page`` does not call this; ``ingest.crawl`` does).

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
from ingest.guard import UrlGuard, origin_of

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

    def __init__(
        self,
        client: httpx.AsyncClient,
        limits: FetchLimits | None = None,
        ssrf: bool = False,
    ) -> None:
        base = limits or FetchLimits()
        # robots.txt is small and a failure has a defined meaning: no long retries.
        self._limits = base.model_copy(update={"max_bytes": 512 * 1024, "retries": 0})
        self._client = client
        # The pages asking were already allowed on this origin; a robots.txt *redirect*
        # elsewhere is checked like any other link.
        self._ssrf = ssrf
        self.fetched: list[str] = []  # origins whose robots.txt was requested (provenance)
        self._parsers: dict[str, RobotFileParser | bool] = {}
        self._unreachable: dict[str, str] = {}  # origin -> reason code of the failed fetch
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: str) -> bool:
        """True if our user agent may fetch ``url`` (non-http URLs are not robots' business)."""
        origin = _origin(url)
        if origin is None:
            return True
        rules = await self._rules(origin)
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self._limits.agent, url)

    @property
    def agent(self) -> str:
        """The User-Agent the rules are matched against."""
        return self._limits.agent

    def unreachable(self, url: str) -> str | None:
        """The reason code (``http_5xx``, ``timeout``...) if ``url``'s robots.txt could not be
        read, so "disallowed" can be told apart from "we could not ask" (asked after
        :meth:`allowed`)."""
        origin = _origin(url)
        return self._unreachable.get(origin) if origin else None

    async def crawl_delay(self, url: str) -> float | None:
        """The site's Crawl-delay for our agent, if it sets one."""
        origin = _origin(url)
        rules = await self._rules(origin) if origin else True
        if isinstance(rules, bool):
            return None
        return getattr(rules, "muster_delay", None)

    async def _rules(self, origin: str) -> RobotFileParser | bool:
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:  # one fetch per origin even when many pages ask at once
            if origin not in self._parsers:
                self._parsers[origin] = await self._load(origin)
            return self._parsers[origin]

    async def _load(self, origin: str) -> RobotFileParser | bool:
        self.fetched.append(origin)
        base = self._limits
        res = await fetch_page(
            self._client,
            f"{origin}/robots.txt",
            limits=self._limits,
            accept=_accept_text,
            guard=UrlGuard.for_origin(origin_of(origin), base.allow_hosts) if self._ssrf else None,
        )
        if res.error in _UNREACHABLE:
            self._unreachable[origin] = res.error or "network_error"
            return False
        if res.error or res.body is None:
            return True  # 4xx, not text, too large...: no usable rules
        lines = res.body.decode("utf-8", errors="replace").splitlines()
        parser = RobotFileParser()
        parser.parse(lines)
        # urllib only reads whole-second delays ("Crawl-delay: 0.5" is common): parse our own.
        parser.muster_delay = crawl_delay_for(lines, self._limits.agent)  # type: ignore[attr-defined]
        return parser


def crawl_delay_for(lines: list[str], agent: str) -> float | None:
    """Crawl-delay (seconds, decimals allowed) of the group for ``agent``, else of ``*``.

    Groups are runs of ``User-agent`` lines followed by rules; our product token
    (``Muster`` in ``Muster/0.1 (+...)``) matches case-insensitively, as in RFC 9309.
    """
    token = agent.split("/", 1)[0].strip().lower()
    delays: dict[str, float] = {}
    agents: set[str] = set()
    group: list[str] = []
    in_rules = False
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if in_rules:
                group, in_rules = [], False
            group.append(value.lower())
            agents.add(value.lower())
        elif key:
            in_rules = True
            if key == "crawl-delay":
                try:
                    seconds = float(value)
                except ValueError:
                    continue
                if seconds >= 0:
                    for name in group:
                        delays.setdefault(name, seconds)
    # A group naming us replaces the "*" group entirely, its Crawl-delay included.
    mine = [name for name in agents if name != "*" and name and name in token]
    if mine:
        return next((delays[n] for n in mine if n in delays), None)
    return delays.get("*")
