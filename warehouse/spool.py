"""A batch the writer could not load is kept on disk and loaded later, never dropped.

The writer waits `lock_timeout` seconds for the file; only a reader that
holds the *live* file longer than that (a DuckDB CLI session left open on it,
say) can make a load fail.  Then the batch's records and fetch-log rows are
written to ``<db>.spool/<time>-<pid>-<n>.jsonl`` (atomically: temp file, then
rename) and `drain` loads them, oldest first, before the next batch; a spool
file is deleted only after its load committed.  Loads are idempotent, so a
crash between commit and delete means the file is loaded again: articles and
events are unchanged by that, only its fetch-log rows would repeat.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from warehouse.records import ArticleRecord, FetchLogRow, LoadCounts

_counter = itertools.count()


def spool_dir(db_path: Path | str) -> Path:
    """`data/muster.duckdb` -> `data/muster.duckdb.spool/`."""
    path = Path(db_path).expanduser()
    return path.with_name(path.name + ".spool")


def pending(db_path: Path | str) -> list[Path]:
    """Spooled batches waiting to be loaded, oldest first."""
    folder = spool_dir(db_path)
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


def spool_batch(db_path: Path | str, records: Sequence[ArticleRecord],
                fetches: Sequence[FetchLogRow] = ()) -> Path:
    """Write one batch to the spool; returns the file."""
    folder = spool_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter):04d}.jsonl"
    tmp = folder / f".{name}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps({"article": rec.model_dump(mode="json")}) + "\n")
        for row in fetches:
            fh.write(json.dumps({"fetch": row.model_dump(mode="json")}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / name)
    return folder / name


def drain(wh: object, db_path: Path | str) -> LoadCounts:
    """Load every spooled batch into `wh` (a `Warehouse`), deleting each once committed."""
    total = LoadCounts()
    for path in pending(db_path):
        records: list[ArticleRecord] = []
        fetches: list[FetchLogRow] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if "article" in item:
                records.append(ArticleRecord.model_validate(item["article"]))
            else:
                fetches.append(FetchLogRow.model_validate(item["fetch"]))
        counts: LoadCounts = wh.load_articles(records)  # type: ignore[attr-defined]
        wh.log_fetches(fetches)  # type: ignore[attr-defined]
        path.unlink()
        for name in ("articles_new", "articles_updated", "articles_unchanged", "events_written"):
            setattr(total, name, getattr(total, name) + getattr(counts, name))
        total.errors.extend(counts.errors)
    return total
