"""Which warehouse the pipeline loads into, from the ``sink`` setting.

One function, so the pipeline's load step stays one line whatever the sink:
``sink: duckdb`` loads the DuckDB file (``db_path``); ``sink: parquet`` keeps pipeline
state there but writes articles and events as partitioned Parquet under
``parquet_dir`` (``warehouse/parquet_sink.py``; why, in README "Scaling out").
"""

from __future__ import annotations

from typing import Any

from flows.settings import MusterSettings
from warehouse import Warehouse
from warehouse.parquet_sink import open_warehouse


def warehouse_for(settings: MusterSettings, **kwargs: Any) -> Warehouse:
    """`Warehouse` for ``sink: duckdb``, `ParquetWarehouse` for ``sink: parquet``.

    ``kwargs`` go to the warehouse (``hold_connection=True``: one connection for a batch's
    several writes instead of one per write, each costing an open and a checkpoint).
    """
    return open_warehouse(settings.db_path, settings.sink, settings.parquet_dir, **kwargs)
