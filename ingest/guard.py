"""SSRF guard: which hosts a link taken from a feed, sitemap or page may make us fetch.

A feed is third-party content. If we followed every link in it, a hostile or compromised
feed could make Muster request ``http://169.254.169.254/`` (cloud metadata), an admin page
on ``127.0.0.1`` or a service on the office network, and store the answer. The rule, on by
default (``FetchLimits.ssrf_guard``):

- only ``http`` and ``https``;
- a URL on the very host *and* port the feed itself was configured on is allowed (the
  operator chose that host, so a fixture feed on ``127.0.0.1:8000`` may link to its own
  pages, but not to ``127.0.0.2`` or ``127.0.0.1:9000``);
- a host listed in ``FetchLimits.allow_hosts`` (``host`` or ``host:port``) is allowed;
- anything else must resolve (DNS, every address) to public addresses only: loopback,
  private, link-local (incl. 169.254.169.254), CGNAT, multicast, reserved and unspecified
  addresses are refused.

:func:`ingest.fetch.fetch_page` applies the guard before the first request and again on
every redirect hop. Known limit: the name is resolved by us and again by the HTTP client
when it connects, so a DNS-rebinding attacker with a TTL-0 record could still race it; an
egress firewall is the real fix for that, this guard is the application-level layer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["UrlGuard", "host_port", "is_public_address", "origin_of"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_port(url: str) -> tuple[str, int] | None:
    """(lower-case host, effective port) of an http(s) URL, or None if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return host, port if port is not None else _DEFAULT_PORTS[scheme]


def origin_of(url: str) -> str | None:
    """``host:port`` of a configured feed URL (the host its links may stay on), or None."""
    hp = host_port(url)
    return f"{hp[0]}:{hp[1]}" if hp else None


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable unicast only (an IPv4-mapped IPv6 address is judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return bool(address.is_global) and not address.is_multicast


def _parse_entry(entry: str) -> str:
    """Normalise an allow-list entry: ``Host``, ``host:port`` or ``[v6]:port`` -> lower case."""
    value = entry.strip().lower().rstrip(".")
    if "://" in value:
        hp = host_port(value)
        return f"{hp[0]}:{hp[1]}" if hp else value
    return value


class UrlGuard:
    """Decides whether a URL may be fetched; ``await check(url)`` gives a reason or None."""

    def __init__(
        self, trusted: Iterable[str] = (), allow_hosts: Iterable[str] = ()
    ) -> None:
        self.trusted = frozenset(_parse_entry(t) for t in trusted if t)
        self.allow_hosts = frozenset(_parse_entry(a) for a in allow_hosts if a)
        self._resolved: dict[tuple[str, int], str | None] = {}

    @classmethod
    def for_origin(
        cls, origin: str | None, allow_hosts: Iterable[str] = (), strict: bool = False
    ) -> UrlGuard:
        """The guard for links found via a feed configured on ``origin`` (``host:port``).

        ``strict`` (``FetchLimits.block_private``) does not even trust the feed's own host.
        """
        return cls(() if strict or origin is None else (origin,), allow_hosts)

    def _listed(self, host: str, port: int) -> bool:
        key = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
        return (
            key in self.trusted
            or f"{host}:{port}" in self.trusted
            or host in self.allow_hosts
            or key in self.allow_hosts
            or f"{host}:{port}" in self.allow_hosts
        )

    async def check(self, url: str) -> str | None:
        """Why ``url`` must not be fetched, or None when it may be."""
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            return "unparseable URL"
        if scheme not in _DEFAULT_PORTS:
            return f"scheme {scheme!r} is not http or https"
        hp = host_port(url)
        if hp is None:
            return "URL has no host"
        host, port = hp
        if self._listed(host.strip("[]"), port):
            return None
        if hp not in self._resolved:
            self._resolved[hp] = await _non_public(host.strip("[]"), port)
        return self._resolved[hp]


async def _non_public(host: str, port: int) -> str | None:
    """Why ``host`` is off limits (some address it resolves to is not public), or None."""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except UnicodeError:
            return f"bad host name {host!r}"
        except OSError:
            return None  # does not resolve: the connection fails with connect_error
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in addresses:
        if not is_public_address(address):
            return (
                f"host {host!r} resolves to non-public address {address} "
                "(not the feed's own host:port and not in fetch.allow_hosts)"
            )
    return None
