"""Declarative feed configuration (``feeds.yaml``).

The feed list is operator-edited YAML, so mistakes must surface before a run starts and
point at the exact spot: the file, the feed (by name, or by index when the name itself is
missing) and the key. Validation is done by pydantic with ``extra="forbid"`` so a typo'd
key (``max_itmes``) is an error rather than a silently ignored setting.

Example::

    feeds:
      - name: bbc-world
        url: https://feeds.bbci.co.uk/news/world/rss.xml
        max_items: 50
        poll_interval: 30m     # skip the feed if it was polled less than 30 minutes ago
        tags: [world, uk]
        language: en           # used when a page does not declare its language
        include: ['/news/']    # regexes searched in each item URL: keep matching ones
        exclude: ['/live/', '/av/']   # ... and drop these
      - name: local-pages
        url: ../pages          # relative to this file
        kind: folder
      - name: some-site
        url: https://example.org/   # an HTML home page: its <link rel=alternate> feed is used
        kind: discover
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "FeedConfig",
    "FeedsFile",
    "FeedsFileError",
    "is_local",
    "load_feeds",
    "parse_duration",
    "parse_feeds",
]

FeedKind = Literal["auto", "rss", "atom", "sitemap", "folder", "discover"]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")


def parse_duration(value: Any) -> int | None:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"2h"`` or ``"1d"`` (None stays None).

    Operators think of poll intervals in minutes and hours; a bare number is seconds.
    """
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return None if value is None else int(value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90, 90s, 15m, 2h, 1d)")
    unit = (match.group(2) or "s").lower()
    return int(float(match.group(1)) * _UNIT_SECONDS[unit])


def is_local(url: str) -> bool:
    """True when ``url`` names a local path or a ``file://`` URL rather than a web address."""
    scheme = urlsplit(url).scheme.lower()
    # One-letter "schemes" are Windows drive letters (C:\\feeds), i.e. local paths.
    return scheme in ("", "file") or len(scheme) == 1


class FeedConfig(BaseModel):
    """One feed: where to poll and how much to take from it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, description="unique, stable id; stored with each article")
    url: str = Field(min_length=1, description="http(s) URL, local folder path or file:// URL")
    kind: FeedKind = "auto"
    enabled: bool = True
    max_items: int | None = Field(default=None, ge=1)
    description: str | None = None
    poll_interval: int | None = Field(
        default=None, ge=0, description="seconds (or '15m', '2h'): skip if polled more recently"
    )
    tags: tuple[str, ...] = ()
    language: str | None = Field(default=None, description="ISO 639 code, used as a fallback")
    include: tuple[str, ...] = Field(default=(), description="regexes: keep item URLs matching one")
    exclude: tuple[str, ...] = Field(default=(), description="regexes: drop item URLs matching one")

    @field_validator("poll_interval", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int | None:
        return parse_duration(value)

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        tags = tuple(t.strip() for t in value)
        if any(not t for t in tags):
            raise ValueError("tags must be non-empty strings")
        return tuple(dict.fromkeys(tags))

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str | None) -> str | None:
        if value is not None and not _LANGUAGE.match(value.lower()):
            raise ValueError(f"not a language code: {value!r} (use e.g. en, fr, pt-br)")
        return value.lower() if value else value

    @field_validator("include", "exclude")
    @classmethod
    def _check_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return value

    def wants(self, url: str) -> bool:
        """True if ``url`` passes the include/exclude filters (searched, not anchored)."""
        if self.include and not any(re.search(p, url) for p in self.include):
            return False
        return not any(re.search(p, url) for p in self.exclude)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        """Only web and local sources: other schemes (ftp:, javascript:) are config mistakes."""
        scheme = urlsplit(value).scheme.lower()
        if scheme in ("http", "https"):
            if not urlsplit(value).hostname:
                raise ValueError(f"URL has no host: {value!r}")
        elif not is_local(value):
            raise ValueError(f"unsupported URL scheme {scheme!r} (use http, https, file or a path)")
        return value

    @model_validator(mode="after")
    def _check_kind(self) -> FeedConfig:
        """A folder feed must be local: polling a web URL as a folder cannot work."""
        if self.kind == "folder" and not is_local(self.url):
            raise ValueError("kind 'folder' needs a local path or file:// URL")
        if self.kind == "discover" and is_local(self.url):
            raise ValueError("kind 'discover' needs an http(s) URL of an HTML page")
        return self


class FeedsFile(BaseModel):
    """The whole file: a mapping whose only key is ``feeds``."""

    model_config = ConfigDict(extra="forbid")

    feeds: list[FeedConfig]


class FeedsFileError(ValueError):
    """A feeds file that cannot be used; the message names file, feed and key."""

    def __init__(self, path: str, message: str, feed: str | None = None, key: str | None = None):
        self.path = path
        self.feed = feed
        self.key = key
        where = [path]
        if feed is not None:
            where.append(f"feed {feed}")
        if key is not None:
            where.append(f"key {key!r}")
        super().__init__(": ".join(where) + ": " + message)


def _feed_label(raw: Any, index: int) -> str:
    """'bbc' (#2) when the entry has a usable name, else '#2' (1-based, as humans count)."""
    if isinstance(raw, dict) and isinstance(raw.get("name"), str) and raw["name"].strip():
        return f"{raw['name'].strip()!r} (#{index + 1})"
    return f"#{index + 1}"


def _resolve_local(url: str, base_dir: Path | None) -> str:
    """Relative folder paths are relative to the feeds file, so configs stay portable."""
    if base_dir is None or urlsplit(url).scheme.lower() == "file" or not is_local(url):
        return url
    path = Path(url).expanduser()
    return str(path if path.is_absolute() else (base_dir / path).resolve())


def parse_feeds(
    text: str, source: str = "<feeds>", base_dir: Path | None = None
) -> list[FeedConfig]:
    """Validate feeds YAML ``text``; ``source`` names it in errors. See :func:`load_feeds`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise FeedsFileError(source, f"invalid YAML{loc}: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise FeedsFileError(source, "expected a mapping with a 'feeds' list at the top level")
    extra = sorted(str(k) for k in data if k != "feeds")
    if extra:
        raise FeedsFileError(
            source, "unknown top-level key (only 'feeds' is allowed)", key=extra[0]
        )
    raw_feeds = data.get("feeds")
    if not isinstance(raw_feeds, list):
        raise FeedsFileError(source, "must be a list of feed mappings", key="feeds")

    feeds: list[FeedConfig] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_feeds):
        label = _feed_label(raw, index)
        if not isinstance(raw, dict):
            raise FeedsFileError(source, "each feed must be a mapping", feed=label)
        try:
            feed = FeedConfig.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            # Model-level checks (empty loc) are all about ``kind``.
            key = ".".join(str(p) for p in err["loc"]) or "kind"
            msg = err["msg"].removeprefix("Value error, ")
            if isinstance(err.get("input"), bool) and err["type"] != "bool_type":
                msg += " (YAML reads unquoted yes/no/on/off/true/false as booleans: quote it)"
            if err["type"] == "extra_forbidden":
                allowed = ", ".join(FeedConfig.model_fields)
                msg = f"unknown key (allowed: {allowed})"
            raise FeedsFileError(source, msg, feed=label, key=key) from exc
        if feed.name in seen:
            raise FeedsFileError(
                source,
                f"duplicate feed name (first used by feed #{seen[feed.name] + 1})",
                feed=label,
                key="name",
            )
        seen[feed.name] = index
        feeds.append(feed.model_copy(update={"url": _resolve_local(feed.url, base_dir)}))
    return feeds


def load_feeds(path: Path) -> list[FeedConfig]:
    """Read and validate a feeds file; every problem is a :class:`FeedsFileError`.

    Relative local paths in ``url`` are resolved against the file's directory.
    Disabled feeds are returned too (the caller decides); filter on ``feed.enabled``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedsFileError(str(path), f"cannot read: {exc}") from exc
    return parse_feeds(text, source=str(path), base_dir=path.parent.resolve())
