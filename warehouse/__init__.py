"""Muster's DuckDB warehouse: articles and events in, read-only SQL out.

Public API (see docs/internal-contracts.md, warehouse section, and README.md here):
`Warehouse`, `ArticleRecord`, `LoadCounts`, `FetchLogRow`, `FeedState`, `run_readonly`,
the error classes, and `warehouse.ids.article_id` / `event_id`.
Depends only on `extractors.model` among Muster's packages.
"""

from warehouse.errors import (
    QueryError,
    ReadOnlySQLError,
    SchemaVersionError,
    WarehouseError,
    WarehouseLockedError,
    WarehouseNotFoundError,
    WarehouseWriteError,
)
from warehouse.ids import article_id, event_id
from warehouse.query import run_readonly
from warehouse.records import ArticleRecord, FeedState, FetchLogRow, LoadCounts
from warehouse.store import Warehouse

__all__ = [
    "ArticleRecord", "FeedState", "FetchLogRow", "LoadCounts", "QueryError", "ReadOnlySQLError",
    "SchemaVersionError", "Warehouse", "WarehouseError", "WarehouseLockedError",
    "WarehouseNotFoundError", "WarehouseWriteError", "article_id", "event_id", "run_readonly",
]
