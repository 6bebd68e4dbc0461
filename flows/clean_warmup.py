"""Imported once in the process that forks the cleaning workers (``flows/parallel.py``).

Cleaning one small page here loads what trafilatura and htmldate load lazily on first
use (dateparser's month names and locale data: about a second of CPU), so every worker
forked afterwards starts warm instead of paying it on its first real page.
"""

from __future__ import annotations

from ingest.clean import clean_html

_PAGE = (
    "<html lang='en'><head><title>Warm-up | Muster</title></head><body><article>"
    "<h1>Warm-up article</h1><p class='date'>Published on 12 March 2024, 10:30</p>"
    + "<p>Troops moved into the northern district on Tuesday, officials said. " * 8
    + "</p></article></body></html>"
)

clean_html(_PAGE, "https://warmup.invalid/2024/03/12/article")
