"""Imported once in the process that forks the cleaning workers (``flows/parallel.py``).

Cleaning one small page here loads what trafilatura and htmldate load lazily on first
use (dateparser's month names and locale data: about a second of CPU), so every worker
forked afterwards starts warm instead of paying it on its first real page.

It also lowers this process's CPU priority (``WORKER_NICENESS``), which every worker
forked from it inherits. Why: the run's own process does short, latency-critical work
(fetching, handing pages to the workers, loading; Prefect's API calls, answered by a
server on the same cores) while the workers have a queue of pages to clean; when both want
a core, the run's process should get it at once and the workers the rest. On two cores
this made ``muster run`` 0.2-0.45 s faster in each of three alternating pairs at N = 2000
(benchmarks/README.md), and on a shared machine the pool yields to interactive work. Only
the forkserver imports this module; nothing else is reniced.
"""

from __future__ import annotations

import contextlib
import os

from ingest.clean import clean_html

WORKER_NICENESS = 10  # added to the parent's; the kernel caps it at 19

with contextlib.suppress(OSError, AttributeError):  # not permitted, or no os.nice (Windows)
    os.nice(WORKER_NICENESS)

_PAGE = (
    "<html lang='en'><head><title>Warm-up | Muster</title></head><body><article>"
    "<h1>Warm-up article</h1><p class='date'>Published on 12 March 2024, 10:30</p>"
    + "<p>Troops moved into the northern district on Tuesday, officials said. " * 8
    + "</p></article></body></html>"
)

clean_html(_PAGE, "https://warmup.invalid/2024/03/12/article")
