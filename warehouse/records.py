"""The values that cross the warehouse boundary (inputs and results).

Pydantic models so that flows get a clear validation error at construction
time instead of a DuckDB cast error halfway through a transaction.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from extractors.model import Event
from warehouse.ids import article_id as _article_id


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (what TIMESTAMP columns hold)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc_naive(value: datetime | None) -> datetime | None:
    """Aware datetimes converted to UTC and stripped; naive ones are taken to be UTC already."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class ArticleRecord(BaseModel):
    """One cleaned article and the events extracted from it, ready to load.

    `canonical_url` defaults to `url` and `content_hash` to sha256(text) so a
    caller without them still gets stable ids; ingest normally provides both.
    """

    model_config = ConfigDict(extra="forbid")

    url: str
    canonical_url: str | None = None
    feed: str | None = None
    title: str | None = None
    author: str | None = None
    published: date | None = None
    fetched_at: datetime = Field(default_factory=utcnow)
    language: str | None = None
    text: str
    content_hash: str | None = None
    extractor_version: str
    events: list[Event] = Field(default_factory=list)
    extracted_at: datetime | None = None

    @field_validator("published", mode="before")
    @classmethod
    def _datetime_to_date(cls, value: Any) -> Any:
        """Feeds give datetimes; the column is a DATE."""
        return value.date() if isinstance(value, datetime) else value

    @model_validator(mode="after")
    def _defaults(self) -> ArticleRecord:
        if not self.canonical_url:
            self.canonical_url = self.url
        if not self.content_hash:
            self.content_hash = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        return self

    @property
    def article_id(self) -> str:
        """Deterministic id from the canonical URL (`warehouse.ids.article_id`)."""
        return _article_id(self.canonical_url or self.url)


class LoadCounts(BaseModel):
    """What `Warehouse.load_articles` did; errors and warnings are values, not exceptions.

    `articles_rejected`/`errors`: records refused before the transaction (the
    rest of the batch is still loaded). `events_duplicate`: events of one
    article with the same id (same type, key slots and offset), kept once.
    """

    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    articles_rejected: int = 0
    events_written: int = 0
    events_deleted: int = 0
    events_duplicate: int = 0
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


Stage = Literal["feed", "page", "clean", "extract"]
Outcome = Literal["ok", "not_modified", "error", "skipped"]


class FetchLogRow(BaseModel):
    """One attempt at one stage for one URL (a `fetch_log` row)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str | None = None
    url: str | None = None
    feed: str | None = None
    stage: Stage
    status_code: int | None = None
    outcome: Outcome
    reason: str | None = None
    detail: str | None = None
    elapsed_ms: int | None = None
    logged_at: datetime = Field(default_factory=utcnow)

    @field_validator("elapsed_ms", mode="before")
    @classmethod
    def _round_ms(cls, value: Any) -> Any:
        """Timers give floats; milliseconds are stored whole."""
        return round(value) if isinstance(value, float) else value


class FeedState(BaseModel):
    """A `feeds` row: what the next conditional GET of the feed should send."""

    name: str
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_polled: datetime | None = None
    last_status: str | None = None
