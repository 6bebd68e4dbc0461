"""Which warehouse the pipeline loads into, from the ``sink`` setting, and for how long.

One function, so the pipeline's load step stays one line whatever the sink:
``sink: duckdb`` loads the DuckDB file (``db_path``); ``sink: parquet`` keeps pipeline
state there but writes articles and events as partitioned Parquet under
``parquet_dir`` (``warehouse/parquet_sink.py``; why, in README "Scaling out").

A run's batch loop holds one connection to the DuckDB file (:func:`held_for_batches`)
instead of opening it three times a batch (page validators, duplicate check, load). Each
open reads the catalog (~11 ms) and each close after a write checkpoints (~17 ms): at
batches of 50 that was ~2 ms of the run's own CPU per page. While the loop waits for the
workers' next batch it lets go of the file (:func:`release_held`), and the next use opens
it again, so other processes (``muster reextract``, a DuckDB CLI) still get the file
between batches as before. What does not change: every batch is one transaction (a kill
loses no committed batch: DuckDB replays its WAL), and a file locked by someone else when
it is needed is handled as before: page validators and the duplicate check go without,
and the batch is spooled (``warehouse/spool.py``) for the next run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse import Warehouse, WarehouseLockedError
from warehouse.parquet_sink import open_warehouse

from flows.settings import MusterSettings

__all__ = ["batch_warehouse", "held_for_batches", "held_warehouse", "release_held",
           "warehouse_for"]


@dataclass
class _Hold:
    path: Path
    warehouse: Warehouse
    is_open: bool = True


_HELD: ContextVar[_Hold | None] = ContextVar("muster_held", default=None)


def warehouse_for(settings: MusterSettings, **kwargs: Any) -> Warehouse:
    """`Warehouse` for ``sink: duckdb``, `ParquetWarehouse` for ``sink: parquet``.

    ``kwargs`` go to the warehouse (``hold_connection=True``: one connection for a batch's
    several writes instead of one per write, each costing an open and a checkpoint).
    """
    return open_warehouse(settings.db_path, settings.sink, settings.parquet_dir, **kwargs)


@contextmanager
def held_for_batches(settings: MusterSettings) -> Iterator[Warehouse | None]:
    """Hold the DuckDB file for a batch loop; ``None`` (per-batch opens) if it is locked.

    Only for ``sink: duckdb``: the Parquet sink writes files per batch anyway.
    """
    if settings.sink != "duckdb":
        yield None
        return
    wh = Warehouse(settings.db_path, hold_connection=True)
    try:
        wh.open()
    except WarehouseLockedError:
        yield None
        return
    hold = _Hold(Path(settings.db_path), wh)
    token = _HELD.set(hold)
    try:
        yield wh
    finally:
        _HELD.reset(token)
        if hold.is_open:
            wh.close()


def held_warehouse(settings: MusterSettings) -> Warehouse | None:
    """The warehouse a surrounding :func:`held_for_batches` holds for this file, if any.

    Reopened here if :func:`release_held` let go of it; that open waits for the file like
    any other and raises `WarehouseLockedError` if it stays locked (callers handle it as
    they handle a locked file: no validators, no duplicate check, or a spooled batch).
    """
    hold = _HELD.get()
    if hold is None or hold.path != Path(settings.db_path):
        return None
    if not hold.is_open:
        hold.warehouse.open()
        hold.is_open = True
    return hold.warehouse


def release_held(settings: MusterSettings) -> None:
    """Let go of the held file while the loop waits (checkpoints it; the next use reopens)."""
    hold = _HELD.get()
    if hold is not None and hold.is_open and hold.path == Path(settings.db_path):
        hold.warehouse.close()
        hold.is_open = False


@contextmanager
def batch_warehouse(settings: MusterSettings) -> Iterator[Warehouse]:
    """The held warehouse (left open), else one opened for this batch and closed after it."""
    held = held_warehouse(settings)
    if held is not None:
        yield held
        return
    with warehouse_for(settings, hold_connection=True) as wh:
        yield wh
