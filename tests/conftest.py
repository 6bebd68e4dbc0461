"""Shared test set-up: an isolated Prefect home, paths to shared data, a Prefect server.

Prefect reads its settings at import time, so the environment is fixed here,
before any test module imports Prefect.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_PREFECT_HOME = tempfile.mkdtemp(prefix="muster-test-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# `muster run` subprocesses start Prefect's ephemeral server on a fresh SQLite file; on a
# busy 2-core machine that can take longer than Prefect's default wait, so allow more.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.pop("MUSTER_CONFIG", None)
# Tests talk to their own server on 127.0.0.1: no politeness delay between its pages
# (tests of the delay itself set it explicitly).
os.environ.setdefault("MUSTER_FETCH__MIN_HOST_DELAY", "0")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CONFIGS = ROOT / "configs"

from tests.fixtures_http import *  # noqa: E402,F403  (the real HTTP server fixtures)
from tests.prefect_live import live_prefect  # noqa: E402,F401  (prefect server start, session)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``shared/`` folder beside the project (as CI lays it out)."""
    if not SHARED.is_dir():
        pytest.fail(f"shared data folder not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One temporary Prefect server (SQLite) for every in-process flow run of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
