"""The fetch settings and result models (split from :mod:`ingest.fetch`, which re-exports them).

``FetchLimits`` is the ``fetch:`` section of Muster's settings: every knob of fetching in
one validated, frozen object, so a typo in a settings file is an error naming the key and
the same limits travel unchanged from the settings to poll, crawl and fetch.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_USER_AGENT", "FetchLimits", "FetchResult"]

DEFAULT_USER_AGENT = "Muster/0.1 (+https://github.com/muster-news/muster)"


class FetchLimits(BaseModel):
    """All knobs of fetching, in one validated object (defaults are production values)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(20.0, gt=0)
    total_timeout: float = Field(60.0, gt=0, description="wall clock for one attempt")
    max_bytes: int = Field(10 * 1024 * 1024, ge=1)
    max_redirects: int = Field(5, ge=0)
    retries: int = Field(
        3, ge=0, description="extra attempts after the first, transient errors only"
    )
    backoff_base: float = Field(
        0.5, ge=0, description="first retry delay in seconds, doubled each time"
    )
    backoff_max: float = Field(30.0, ge=0)
    retry_after_max: float = Field(60.0, ge=0, description="cap on a server's Retry-After")
    max_concurrency: int = Field(8, ge=1, description="requests in flight overall")
    max_per_host: int = Field(2, ge=1, description="requests in flight per host (politeness)")
    block_private: bool = Field(
        False,
        description="strict SSRF mode: refuse non-public addresses even on a feed's own host",
    )
    contact: str | None = Field(
        None, description="URL or e-mail for site owners; replaces the '+URL' in user_agent"
    )
    max_decoded_bytes: int | None = Field(
        None, ge=1, description="cap on the decompressed body (default: max_bytes)"
    )
    min_host_delay: float = Field(
        0.0, ge=0, description="seconds between two page requests to one host"
    )
    max_crawl_delay: float = Field(
        30.0, ge=0, description="cap on a robots.txt Crawl-delay we honour"
    )
    obey_robots: bool = Field(
        True, description="check robots.txt before polling feeds and fetching pages"
    )
    ssrf_guard: bool = Field(
        True,
        description="links from feeds/sitemaps/pages only to public hosts, the feed's own "
        "host:port or allow_hosts",
    )
    allow_hosts: tuple[str, ...] = Field(
        (), description="hosts ('host' or 'host:port') links may point to even if private"
    )

    @property
    def agent(self) -> str:
        """The User-Agent sent: ``user_agent``, with its contact swapped for ``contact``."""
        if not self.contact:
            return self.user_agent
        product = self.user_agent.split(" (", 1)[0].strip() or "Muster"
        return f"{product} (+{self.contact})"

    @property
    def decoded_cap(self) -> int:
        return self.max_decoded_bytes or self.max_bytes


class FetchResult(BaseModel):
    """Outcome of one fetch; ``error`` is None on success (and on a 304, see ``not_modified``)."""

    model_config = ConfigDict(extra="forbid")

    url: str
    final_url: str
    status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    error: str | None = None
    detail: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    elapsed_ms: int = 0
    attempts: int = 0
    not_modified: bool = False
    fetched_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        """True when there is a usable body."""
        return self.error is None and self.body is not None
