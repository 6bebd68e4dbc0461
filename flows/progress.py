"""Progress of a run, reported through a tiny callback protocol.

The plain steps in ``flows/pipeline.py`` call ``total`` / ``advance`` / ``timing``
on whatever reporter is installed; by default that is ``NullProgress``, which
prints nothing, so the Prefect flow, workers and tests behave exactly as
before.  The CLI installs a live ``rich.progress`` display on a terminal and a
line-oriented logger otherwise (CI logs and piped output stay readable: no
carriage returns, no escape codes).

The reporter is process-wide (``install``) rather than a flow parameter,
because Prefect parameters must be serialisable and a terminal display is not.
Every reporter also adds up the seconds spent per stage, which the end-of-run
summary prints.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

# Stage names, in pipeline order, with the words shown to users.
STAGES: dict[str, str] = {
    "poll": "feeds polled",
    "fetch": "articles fetched",
    "clean": "articles cleaned",
    "extract": "articles extracted",
    "load": "articles loaded",
    "reextract": "articles re-extracted",
}


class ProgressSink(Protocol):
    """What the pipeline steps call. All methods must be cheap and never raise."""

    def total(self, stage: str, n: int) -> None:
        """Add ``n`` to the amount of work expected for ``stage``."""

    def advance(self, stage: str, n: int = 1) -> None:
        """Mark ``n`` units of ``stage`` done."""

    def timing(self, stage: str) -> contextlib.AbstractContextManager[None]:
        """Context manager adding the time spent inside it to ``stage`` (see ``NullProgress``)."""


# Stages run at once (a batch loads while the next is fetched and the one after cleaned);
# a second in which several are timed counts once, for the first of these.
_PRECEDENCE = ("load", "reextract", "poll", "fetch", "extract", "clean")


class NullProgress:
    """Shows nothing; still adds up time per stage (a few ``perf_counter`` calls).

    ``seconds`` splits the run's wall-clock time between stages: each moment goes to one
    stage, the first in ``_PRECEDENCE`` order among those being timed then, so the stages
    add up to no more than the run took ("clean" is the time spent only waiting for the
    cleaning workers).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.done: dict[str, int] = {}
        self.expected: dict[str, int] = {}
        self._lock = threading.Lock()
        self._active: dict[str, int] = {}
        self._since = 0.0

    def total(self, stage: str, n: int) -> None:
        with self._lock:
            self.expected[stage] = self.expected.get(stage, 0) + n
        self._changed(stage)

    def advance(self, stage: str, n: int = 1) -> None:
        with self._lock:
            self.done[stage] = self.done.get(stage, 0) + n
        self._changed(stage)

    @contextlib.contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        with self._lock:
            self._attribute()
            self._active[stage] = self._active.get(stage, 0) + 1
            self.seconds.setdefault(stage, 0.0)
        try:
            yield
        finally:
            with self._lock:
                self._attribute()
                self._active[stage] -= 1
                if not self._active[stage]:
                    del self._active[stage]

    def _attribute(self) -> None:
        """Give the time since the last change to the foremost stage being timed."""
        now = time.perf_counter()
        if self._active:
            stage = min(self._active, key=lambda s: (
                _PRECEDENCE.index(s) if s in _PRECEDENCE else len(_PRECEDENCE), s))
            self.seconds[stage] += now - self._since
        self._since = now

    def _changed(self, stage: str) -> None:
        """Hook for subclasses that display something."""

    def close(self) -> None:
        """Stop displaying (idempotent)."""


class _RateColumn(ProgressColumn):
    """Items per second, e.g. ``12.4/s`` (rich's own speed column is for bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f}/s", style="progress.data.speed")


class RichProgress(NullProgress):
    """A live terminal display: one bar per stage with count, rate, elapsed time and ETA."""

    def __init__(self, console: Console | None = None) -> None:
        super().__init__()
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, object] = {}
        self._swapped = _route_log_consoles(self._progress.console)
        self._progress.start()
        self._closed = False

    def _changed(self, stage: str) -> None:
        with self._lock:
            if stage not in self._tasks:
                self._tasks[stage] = self._progress.add_task(STAGES.get(stage, stage), total=None)
            task_id = self._tasks[stage]
            expected = self.expected.get(stage)
            self._progress.update(
                task_id,  # type: ignore[arg-type]
                completed=self.done.get(stage, 0),
                total=expected if expected else None,
            )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._progress.stop()
            for handler, console in self._swapped:
                handler.console = console  # type: ignore[attr-defined]


def _route_log_consoles(console: Console) -> list[tuple[logging.Handler, Console]]:
    """Send rich-based log handlers (Prefect's console handler) through the live console.

    Otherwise each log line is written under the bars and the display repeats itself;
    routed through the live console, lines scroll above the bars.  Returns what to undo.
    """
    swapped: list[tuple[logging.Handler, Console]] = []
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    seen: set[int] = set()
    for lg in loggers:
        for handler in lg.handlers:
            old = getattr(handler, "console", None)
            if id(handler) not in seen and isinstance(old, Console):
                seen.add(id(handler))
                swapped.append((handler, old))
                handler.console = console  # type: ignore[attr-defined]
    return swapped


class LogProgress(NullProgress):
    """Plain lines: at most one per stage every ``interval`` seconds, and one when it finishes.

    Example: ``progress: articles fetched 50/120 (8.3/s, eta 8s)``.
    """

    def __init__(self, write: Callable[[str], object] | None = None, interval: float = 5.0) -> None:
        super().__init__()
        self._write = write or _stderr_line
        self._interval = interval
        self._started: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._announced: set[tuple[str, int]] = set()

    def _changed(self, stage: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._started.setdefault(stage, now)
            done = self.done.get(stage, 0)
            expected = self.expected.get(stage, 0)
            finished = expected > 0 and done >= expected
            last = self._last.get(stage)
            if done == 0 or (finished and (stage, done) in self._announced):
                return
            if not finished and last is not None and now - last < self._interval:
                return
            if finished:
                self._announced.add((stage, done))  # a later total() may reopen the stage
            self._last[stage] = now
            elapsed = now - self._started[stage]
            line = f"progress: {STAGES.get(stage, stage)} {done}"
            if expected:
                line += f"/{expected}"
            if elapsed > 0:
                rate = done / elapsed
                line += f" ({rate:,.1f}/s"
                if expected and not finished and rate > 0:
                    line += f", eta {_duration((expected - done) / rate)}"
                line += ")"
        self._write(line)


def _stderr_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _duration(seconds: float) -> str:
    """``75`` -> ``1m15s``; short enough for a log line."""
    seconds = max(int(round(seconds)), 0)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


_current: NullProgress = NullProgress()


def current() -> NullProgress:
    """The installed reporter (``NullProgress`` unless a caller installed one)."""
    return _current


@contextlib.contextmanager
def install(reporter: NullProgress) -> Iterator[NullProgress]:
    """Make ``reporter`` the current one for the duration of the block, then close it."""
    global _current
    previous = _current
    _current = reporter
    try:
        yield reporter
    finally:
        _current = previous
        reporter.close()


def for_stream(stream: IO[str] | None = None, console: Console | None = None) -> NullProgress:
    """A live display when ``stream`` (default stdout) is a terminal, plain lines otherwise."""
    stream = stream or sys.stdout
    if stream.isatty():
        return RichProgress(console)
    return LogProgress()
