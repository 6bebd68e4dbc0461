"""The code that runs in the cleaning worker processes (``flows/parallel.py``'s pool).

A module of its own so that the forkserver, which every worker is forked from, imports
only what cleaning and extraction need (trafilatura, the extractors), not the fetcher's
httpx or the progress display: the workers start sooner and stay smaller.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
from typing import Protocol

from extractors import RuleSet, extract
from extractors.model import Event
from ingest.clean import CleanArticle, clean_html
from pydantic import BaseModel, ConfigDict

from flows.extract_scope import extraction_skip_reason

__all__ = ["PageOutcome", "page_work", "ready"]


class _Timing(Protocol):
    def timing(self, stage: str) -> contextlib.AbstractContextManager[None]: ...


class PageOutcome(BaseModel):
    """A cleaned page and its events, or the clean-stage reason code (``no_text``, ...)."""

    model_config = ConfigDict(extra="forbid")

    article: CleanArticle | None = None
    error: str | None = None
    detail: str | None = None
    events: list[Event] = []


def page_work(
    body: bytes, url: str, charset: str | None, published: dt.date | None, title: str | None,
    language: str | None = None, ruleset: RuleSet | None = None, progress: _Timing | None = None,
) -> PageOutcome:
    """Clean one page and extract its events; never raises (the worker function).

    ``published``, ``title`` and ``language`` come from the feed item (its feed's setting):
    used when the page has none. An article the run will not extract (``not_english``,
    ``flows/extract_scope.py``) gets no events here, rather than events thrown away later.
    """
    rs = ruleset if ruleset is not None else _worker_ruleset
    assert rs is not None, "page_work runs in a pool worker or with a ruleset"
    with progress.timing("clean") if progress else contextlib.nullcontext():
        cleaned = clean_html(body, url, charset=charset)
    art = cleaned.article
    if art is None:
        return PageOutcome(error=cleaned.error or "no_text", detail=cleaned.detail)
    if extraction_skip_reason(art.language or language):
        return PageOutcome(article=art)
    with progress.timing("extract") if progress else contextlib.nullcontext():
        events = extract(art.text, art.published or published, rs, title=art.title or title)
    return PageOutcome(article=art, events=events)


def ready() -> int:
    """A no-op task: submitting one per worker starts the pool ahead of the first page."""
    return os.getpid()


_worker_ruleset: RuleSet | None = None


def _init_worker(ruleset: RuleSet, parent_pid: int) -> None:
    """Keep the rule set for every page; exit when the run is gone (no orphans after kill -9)."""
    global _worker_ruleset
    _worker_ruleset = ruleset
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    # The worker's parent is the forkserver, not the run: poll the run's pid instead.
    while True:
        time.sleep(1.0)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # pid reused by another user's process: the run is gone
            os._exit(0)
