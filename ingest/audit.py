"""Whether third-party code is the code a shortcut of ours was proven against.

Three places in ``ingest`` do what trafilatura does, faster, because the trafilatura code
was read and the equivalence tested (``html_tree``: ``load_html``; ``main_text``:
``bare_extraction``; ``page_meta``: the author lookup). Each keeps the sha256 of that code's
source, and any other version, or an installation without source files, takes trafilatura's
own path: slower, never wrong. Their ``test_..._active`` tests fail on an upgrade, so the
new code is audited on purpose rather than silently left on the slow path.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Sequence
from typing import Any

__all__ = ["source_matches"]

_LOG = logging.getLogger(__name__)


def source_matches(objects: Sequence[Any], sha256: str, what: str, extra: Sequence[str] = ()) -> bool:
    """True if ``extra`` and the source of ``objects``, joined by NULs, hash to ``sha256``.

    ``what``, "<the code>: <what happens instead>", is logged when it does not match.
    """
    try:
        sources = [inspect.getsource(obj) for obj in objects]
    except (OSError, TypeError):  # no source files to check
        return False
    if hashlib.sha256("\x00".join([*extra, *sources]).encode()).hexdigest() != sha256:
        code, _, instead = what.partition(": ")
        _LOG.info("%s is not the audited code: %s", code, instead)
        return False
    return True
