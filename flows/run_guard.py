"""One writer at a time, and artifacts for every run: a decorator for Muster's flows.

Why a global concurrency limit on top of the deployments' own limits: DuckDB lets one
process at a time open the file for writing, and the pipeline, re-extraction and
ingest-URLs deployments all write it, each in its own process under ``muster serve``
or a worker.  A deployment's limit only serialises runs *of that deployment*; the
global limit ``muster-warehouse-writer`` (one slot) serialises every writer, including
``muster run`` against a server.  A run that finds the slot taken waits for it (it is
queued, never failed).  The limit is created on first use when missing, so
``muster serve`` and ``prefect deploy`` need no extra set-up step.

The decorator sits under ``@flow`` (``functools.wraps`` keeps the signature and the
docstring, which Prefect turns into the UI's parameter form), so each flow needs a
one-line change.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import get_run_logger
from prefect.concurrency.sync import concurrency
from warehouse.records import utcnow

from flows.settings import load_settings

WRITER_LIMIT = "muster-warehouse-writer"
F = TypeVar("F", bound=Callable[..., Any])


def ensure_writer_limit(limit: int = 1) -> bool:
    """Create the global single-writer limit if the Prefect API lacks it; True if created.

    An existing limit is left as the operator configured it (the UI's Concurrency page).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(WRITER_LIMIT)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=WRITER_LIMIT, limit=limit, active=True)
            )
        except ObjectAlreadyExists:  # another process won the race: same outcome
            return False
    return True


def _server_backed() -> bool:
    """True when runs talk to a long-lived Prefect server (``PREFECT_API_URL`` is set).

    In ephemeral mode the "server" lives inside this process, and so does its lease
    storage: a run killed with ``kill -9`` would leave its slot taken in the shared
    SQLite database forever, and every later ``muster run`` would wait for it.  There,
    DuckDB's own file lock (waited on by the warehouse) already keeps writers in turn.
    """
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def _db_path_of(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The DuckDB file a flow call will write (its ``db_path`` parameter, else settings)."""
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
        explicit = bound.arguments.get("db_path")
    except TypeError:
        explicit = None
    return str(load_settings(db_path=explicit).db_path)


def single_writer(kind: str) -> Callable[[F], F]:
    """Hold the warehouse writer slot for the whole run, then publish the run's artifacts.

    ``kind`` names the artifacts (``<kind>-summary``, ``<kind>-events``).  Artifacts are
    published on failure too (with the error), and a failure to publish them is logged,
    never allowed to fail a run whose data is already committed.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from flows.artifacts import publish_run_artifacts

            logger = get_run_logger()
            db_path = _db_path_of(fn, args, kwargs)
            if not _server_backed():
                return _run(fn, args, kwargs, kind, db_path, publish_run_artifacts)
            ensure_writer_limit()
            with contextlib.ExitStack() as slot:
                try:  # only the acquisition is in the try: a TimeoutError of the run is its own
                    slot.enter_context(concurrency(WRITER_LIMIT, occupy=1, timeout_seconds=5))
                except TimeoutError:
                    logger.info("another Muster run is writing %s; waiting for it to finish",
                                db_path)
                    slot.enter_context(concurrency(WRITER_LIMIT, occupy=1))
                return _run(fn, args, kwargs, kind, db_path, publish_run_artifacts)

        # The flow's module uses postponed annotations ("dt.date | None" as text); Prefect
        # would resolve them in *this* module's namespace, so hand it the evaluated ones.
        wrapper.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _run(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], kind: str,
    db_path: str, publish: Callable[..., Any],
) -> Any:
    logger = get_run_logger()
    start = utcnow()
    try:
        report = fn(*args, **kwargs)
    except BaseException as exc:
        _publish_quietly(publish, kind, None, db_path, start, f"{type(exc).__name__}: {exc}")
        raise
    _publish_quietly(publish, kind, report, db_path, start, None)
    logger.debug("published %s artifacts", kind)
    return report


def _publish_quietly(
    publish: Callable[..., Any], kind: str, report: Any, db_path: str, start: Any, error: str | None
) -> None:
    try:
        publish(kind, report, db_path, start, utcnow(), error=error)
    except Exception as exc:  # noqa: BLE001 - artifacts are a view; the data is committed
        get_run_logger().warning("could not publish the %s artifacts: %s", kind, exc)
