"""Run ``muster`` with a pause in the middle of a warehouse load, so a test can ``kill -9`` it.

Used as ``python -m tests.reliability_kill_hook MARKER N muster-args...``: the N-th call of
``warehouse.store._insert_events`` inserts its rows (inside the batch's open transaction),
then writes MARKER and sleeps. The test waits for MARKER and sends SIGKILL, so the process
dies at a known point: earlier batches committed, this one half-written and uncommitted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main() -> None:
    marker, nth, args = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    import warehouse.store as store

    original = store._insert_events
    calls = {"n": 0}

    def insert_then_hang(con, rows):  # type: ignore[no-untyped-def]
        original(con, rows)
        calls["n"] += 1
        if calls["n"] == nth:
            marker.write_text(str(len(rows)))
            time.sleep(600)

    store._insert_events = insert_then_hang
    from flows.cli import app

    app(args, prog_name="muster")


if __name__ == "__main__":
    main()
