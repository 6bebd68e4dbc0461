"""The stored real pages under ``../shared/data/pages`` that tests run over, all of them.

181 zyte pages (``zyte/html/*.html.gz``) and 258 fundus pages (``fundus/<country>/*.html.gz``),
in one fixed order, so every "on every stored page" test covers the same set.
"""

from __future__ import annotations

from pathlib import Path

SHARED_PAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "pages"
STORED_PAGES = sorted((SHARED_PAGES / "zyte" / "html").glob("*.html.gz")) + sorted(
    (SHARED_PAGES / "fundus").glob("*/*.html.gz"))
