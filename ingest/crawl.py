"""Polite fetching of many pages: the rules a crawler owes the sites it reads.

:func:`ingest.fetch.fetch_page` fetches one URL well; :class:`Crawler` decides *whether*
and *when* to fetch each page of a run:

1. SSRF guard (:mod:`ingest.guard`): a page link must be public, on its feed's own
   host:port, or allow-listed; checked before anything is sent, and on every redirect.
   Refused -> ``blocked_url`` (and no robots.txt request either).
2. robots.txt (:class:`ingest.robots.RobotsCache`, one fetch per origin per crawler):
   disallowed -> ``robots_disallowed``, no page request. ``Crawl-delay`` is honoured
   (capped at ``max_crawl_delay``).
3. Concurrency: at most ``max_concurrency`` requests in flight overall and
   ``max_per_host`` per host, so a big feed does not hammer its site.
4. Spacing: consecutive requests to one host start at least
   ``max(min_host_delay, Crawl-delay)`` seconds apart. The delay used per host is kept in
   ``host_delays`` (provenance for the run summary).

``file://`` URLs (local folders) skip all of this: they are not anyone's server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from ingest.fetch import FetchLimits, FetchResult, fetch_page, make_client
from ingest.guard import UrlGuard, host_port
from ingest.robots import RobotsCache

__all__ = ["Crawler", "PageRequest", "crawl"]


@dataclass(frozen=True)
class PageRequest:
    """One page to fetch: where it came from (``origin``) and its stored validators."""

    url: str
    origin: str | None = None  # host:port of the feed that listed it (trusted by the guard)
    validators: dict[str, str | None] | None = None


class Crawler:
    """Fetch pages politely with one shared client; see the module docstring for the rules."""

    def __init__(self, client: httpx.AsyncClient, limits: FetchLimits | None = None) -> None:
        self.client = client
        self.limits = limits or FetchLimits()
        self.robots = (
            RobotsCache(client, self.limits, ssrf=self.limits.ssrf_guard)
            if self.limits.obey_robots
            else None
        )
        self.host_delays: dict[str, float] = {}
        self._total = asyncio.Semaphore(self.limits.max_concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._turn: dict[str, asyncio.Lock] = {}
        self._last_start: dict[str, float] = {}
        self._guards: dict[str | None, UrlGuard] = {}  # one per feed origin: DNS answers cached

    def guard_for(self, origin: str | None) -> UrlGuard | None:
        """The guard for links of a feed on ``origin`` (None when the guard is off)."""
        if not self.limits.ssrf_guard and not self.limits.block_private:
            return None
        if origin not in self._guards:
            self._guards[origin] = UrlGuard.for_origin(
                origin, self.limits.allow_hosts, strict=self.limits.block_private
            )
        return self._guards[origin]

    async def _delay(self, url: str) -> float:
        delay = self.limits.min_host_delay
        if self.robots is not None:
            crawl_delay = await self.robots.crawl_delay(url)
            if crawl_delay:
                delay = max(delay, min(crawl_delay, self.limits.max_crawl_delay))
        return delay

    async def fetch(self, request: PageRequest) -> FetchResult:
        """Fetch one page under the rules; never raises."""
        url = request.url
        hp = host_port(url)
        if hp is None:  # file:// and unusable URLs: fetch_page reports what is wrong
            return await fetch_page(
                self.client, url, limits=self.limits, validators=request.validators
            )
        guard = self.guard_for(request.origin)
        if guard is not None and (why := await guard.check(url)) is not None:
            return FetchResult(url=url, final_url=url, error="blocked_url", detail=why)
        if self.robots is not None and not await self.robots.allowed(url):
            return FetchResult(
                url=url,
                final_url=url,
                error="robots_disallowed",
                detail=f"robots.txt of {hp[0]}:{hp[1]} disallows it for {self.limits.agent}",
            )
        host = f"{hp[0]}:{hp[1]}"
        delay = await self._delay(url)
        if delay > 0:
            self.host_delays[host] = delay
        host_slots = self._per_host.setdefault(host, asyncio.Semaphore(self.limits.max_per_host))
        turn = self._turn.setdefault(host, asyncio.Lock())
        async with host_slots:
            async with turn:  # decide start times one at a time per host
                last = self._last_start.get(host)
                if last is not None and delay > 0:
                    wait = last + delay - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                await self._total.acquire()
                self._last_start[host] = time.monotonic()
            try:
                return await fetch_page(
                    self.client,
                    url,
                    limits=self.limits,
                    validators=request.validators,
                    guard=guard,
                )
            finally:
                self._total.release()

    async def fetch_all(self, requests: Sequence[PageRequest]) -> list[FetchResult]:
        """Fetch every request concurrently under the limits; results keep input order."""
        return list(await asyncio.gather(*(self.fetch(r) for r in requests)))


async def crawl(
    requests: Sequence[PageRequest], limits: FetchLimits | None = None
) -> tuple[list[FetchResult], dict[str, float]]:
    """Fetch ``requests`` with a fresh client and crawler; (results, delay used per host)."""
    limits = limits or FetchLimits()
    async with make_client(limits) as client:
        crawler = Crawler(client, limits)
        results = await crawler.fetch_all(requests)
        return results, dict(crawler.host_delays)
