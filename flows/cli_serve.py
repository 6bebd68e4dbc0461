"""``muster serve``: one long-running process serving every Muster deployment.

Why ``prefect.serve`` rather than a work pool by default: it needs nothing but a
Prefect API (a local ``prefect server start`` or Prefect Cloud) — no pool, no worker,
no code storage — and it polls for scheduled and UI-triggered runs itself, running
each in a subprocess.  ``prefect.yaml`` covers the work-pool route for those who want it.

Why the supervision around it: ``muster serve`` runs unattended, and the Prefect API it
polls can go away (the server restarted, upgraded, or crashed).  Prefect's runner rides
out a short outage on its client's retries, but after three failed polls in a row (a few
minutes with default retries) it gives up and ``prefect.serve`` raises — which used to end
``muster serve`` with a traceback, so nothing ran again until someone restarted it.  Here
a watcher logs when the API stops and starts answering, and when the runner gives up the
process waits for the API with capped exponential backoff, then serves again (the
deployments and the writer limit are re-applied, so a server that lost its database is
repopulated).  An error that is not an outage still ends the process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from flows.cli import _fail, app, err

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

HEALTH_EVERY_SECONDS = 10.0  # how often the watcher asks the API whether it is there
MAX_BACKOFF_SECONDS = 30.0  # longest wait between two tries once the runner gave up


@app.command()
def serve(
    every: Annotated[
        Optional[int],
        typer.Option("--every", min=1,
                     help="Pipeline interval in minutes (default: schedule.pipeline_every_minutes, 30)."),
    ] = None,
    no_schedule: Annotated[
        bool, typer.Option("--no-schedule", help="Serve the pipeline without its schedule (runs on demand only).")
    ] = False,
    limit: Annotated[
        Optional[int], typer.Option("--limit", min=1, help="At most N runs at once in this process.")
    ] = None,
) -> None:
    """Serve muster-pipeline (scheduled), muster-reextract and muster-ingest-urls until Ctrl-C."""
    try:
        import httpx
        from prefect.settings import get_current_settings

        from flows.settings import load_settings

        settings = load_settings()
        if every is not None:
            settings = settings.model_copy(
                update={"schedule": settings.schedule.model_copy(update={"pipeline_every_minutes": every})}
            )
        api_url = get_current_settings().api.url
        if not api_url:
            raise ValueError(
                "PREFECT_API_URL is not set, so there is no Prefect server to serve to. Start one "
                "with `prefect server start` and run `export PREFECT_API_URL=http://127.0.0.1:4200/api` "
                "(or log in to Prefect Cloud with `prefect cloud login`)"
            )
        from flows.deployments import build_deployments
        from flows.run_guard import WRITER_LIMIT, ensure_writer_limit

        deployments = build_deployments(settings, schedule_active=not no_schedule)
        try:
            created = ensure_writer_limit()
        except httpx.HTTPError as exc:
            raise ValueError(
                f"Cannot reach the Prefect API at {api_url} ({type(exc).__name__}: {exc}); "
                "start it with `prefect server start` or fix PREFECT_API_URL"
            ) from exc
    except (ValueError, OSError) as exc:
        _fail(exc)
        return
    err.print(
        f"serving {', '.join(d.name for d in deployments)} against {api_url}; "
        f"pipeline every {settings.schedule.pipeline_every_minutes} min"
        + (" (schedule off)" if no_schedule else "")
        + f"; global limit {WRITER_LIMIT}" + (" created" if created else " found")
    )
    from prefect import serve as prefect_serve

    def prepare() -> Sequence[RunnerDeployment]:
        ensure_writer_limit()  # the server may have come back with an empty database
        return build_deployments(settings, schedule_active=not no_schedule)

    watch = ApiWatch(api_url)
    watch.start()
    serve_with_recovery(
        prepare,
        lambda ds, first: prefect_serve(*ds, limit=limit, print_starting_message=first),
        api_url=api_url, probe=watch.probe, first=deployments,
    )


def _logger() -> logging.Logger:
    """A child of Prefect's logger, so these lines share the runner's format and handlers."""
    from prefect.logging import get_logger

    return get_logger("muster.serve")


class ApiWatch:
    """Asks ``<api>/health`` every ``every`` seconds in a daemon thread and logs each change
    (unreachable, answering again): the runner itself says nothing for minutes while its
    client retries quietly."""

    def __init__(self, api_url: str, every: float = HEALTH_EVERY_SECONDS) -> None:
        self.url = api_url.rstrip("/") + "/health"
        self.every = every
        self.down_since: float | None = None
        self._thread = threading.Thread(target=self._loop, name="muster-api-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def probe(self) -> str | None:
        """None when the API answers, else what went wrong (one line).

        Only no answer or a 5xx counts as away: a 401/404 (Prefect Cloud without the key's
        header, a proxy) still means the server is there, and waiting on it would never end.
        """
        import httpx
        from prefect.settings import get_current_settings

        key = get_current_settings().api.key
        headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
        try:
            response = httpx.get(self.url, timeout=5, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        return f"HTTP {response.status_code}" if response.status_code >= 500 else None

    def _loop(self) -> None:
        while True:
            self.check()
            time.sleep(self.every)

    def check(self) -> None:
        """One probe; logs only a change of state."""
        problem = self.probe()
        if problem and self.down_since is None:
            self.down_since = time.monotonic()
            _logger().warning("Prefect API %s unreachable (%s); runs start once it is back",
                              self.url, problem)
        elif problem is None and self.down_since is not None:
            _logger().warning("Prefect API %s answers again after %.0f s", self.url,
                              time.monotonic() - self.down_since)
            self.down_since = None


def outage_cause(exc: BaseException) -> BaseException | None:
    """The part of ``exc`` (itself, what it groups, what caused it) that says the API was
    away — a transport error, a 5xx, or the runner's own "exceeded error threshold" after
    those — or None when nothing does (a bug, which must not be retried forever)."""
    import httpx

    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, (httpx.TransportError, ConnectionError, TimeoutError)):
            return e
        if isinstance(e, httpx.HTTPStatusError) and e.response.status_code >= 500:
            return e
        if isinstance(e, RuntimeError) and "exceeded error threshold" in str(e):
            return e
        todo.extend(getattr(e, "exceptions", ()))
        todo.extend(x for x in (e.__cause__, e.__context__) if x is not None)
    return None


def serve_with_recovery(
    prepare: Callable[[], Sequence[RunnerDeployment]],
    serve_fn: Callable[[Sequence[RunnerDeployment], bool], None],
    *,
    api_url: str,
    probe: Callable[[], str | None],
    first: Sequence[RunnerDeployment] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_backoff: float = MAX_BACKOFF_SECONDS,
) -> None:
    """``serve_fn`` (``prefect.serve``) until it returns (Ctrl-C, SIGTERM); after an API outage
    made it stop, wait for the API (1, 2, 4 ... ``max_backoff`` s apart, each try logged),
    ``prepare`` the deployments again and serve again.  Any other error is raised."""
    from prefect.exceptions import TerminationSignal

    log = _logger()
    deployments = first
    try:
        while True:
            try:
                if deployments is None:
                    deployments = prepare()
                serve_fn(deployments, first is not None)
                return
            except Exception as exc:
                cause = outage_cause(exc)
                if cause is None and probe() is None:
                    raise
                cause = cause or exc
                log.warning("Lost the Prefect API at %s (%s); serving again once it answers",
                            api_url, " ".join(f"{type(cause).__name__}: {cause}".split())[:300])
            deployments = first = None
            delay = 1.0
            while (problem := probe()) is not None:
                log.warning("Prefect API at %s still unreachable (%s); next try in %.0f s",
                            api_url, problem, delay)
                sleep(delay)
                delay = min(delay * 2, max_backoff)
            log.warning("Prefect API at %s answers again; serving the deployments again", api_url)
    except (KeyboardInterrupt, TerminationSignal):
        log.info("stopped while waiting for the Prefect API")
