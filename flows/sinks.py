"""Which warehouse the pipeline loads into, from the ``sink`` setting, and for how long.

One function, so the pipeline's load step stays one line whatever the sink:
``sink: duckdb`` loads the DuckDB file (``db_path``); ``sink: parquet`` keeps pipeline
state there but writes articles and events as partitioned Parquet under
``parquet_dir`` (``warehouse/parquet_sink.py``; why, in README "Scaling out").

A run's batch loop holds one connection to the DuckDB file (:func:`held_for_batches`)
instead of opening it three times a batch (page validators, duplicate check, load). Each
open reads the catalog (~11 ms) and each close after a write checkpoints (~17 ms): at
batches of 50 that was ~2 ms of the run's own CPU per page. What does not change: every
batch is still one transaction (a kill loses no committed batch: DuckDB replays its
WAL), and when the file is locked as the loop starts (someone holds it open), batches
open it one by one as before, so a batch that still cannot be written is spooled
(``warehouse/spool.py``). Readers never needed the live file: ``muster sql`` answers from
the snapshot the run publishes when it ends (docs/internal-contracts.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from warehouse import Warehouse, WarehouseLockedError
from warehouse.parquet_sink import open_warehouse

from flows.settings import MusterSettings

__all__ = ["batch_warehouse", "held_for_batches", "held_warehouse", "warehouse_for"]

_HELD: ContextVar[tuple[Path, Warehouse] | None] = ContextVar("muster_held", default=None)


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
    token = _HELD.set((Path(settings.db_path), wh))
    try:
        yield wh
    finally:
        _HELD.reset(token)
        wh.close()


def held_warehouse(settings: MusterSettings) -> Warehouse | None:
    """The warehouse a surrounding :func:`held_for_batches` holds for this file, if any."""
    held = _HELD.get()
    return held[1] if held is not None and held[0] == Path(settings.db_path) else None


@contextmanager
def batch_warehouse(settings: MusterSettings) -> Iterator[Warehouse]:
    """The held warehouse (left open), else one opened for this batch and closed after it."""
    held = held_warehouse(settings)
    if held is not None:
        yield held
        return
    with warehouse_for(settings, hold_connection=True) as wh:
        yield wh
