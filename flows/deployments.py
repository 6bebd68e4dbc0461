"""Muster's Prefect deployments, defined once for ``muster serve`` (``prefect.yaml`` mirrors them).

Why these choices:

- Every deployment has a concurrency limit of 1 with the ENQUEUE strategy: a second run
  of the same deployment waits in ``AwaitingConcurrencySlot`` instead of failing.  Runs of
  *different* deployments are serialised by the global ``muster-warehouse-writer`` limit
  that every flow holds while it runs (``flows/run_guard.py``), because DuckDB has one
  writer process at a time.
- The pipeline's schedule is an interval anchored at midnight UTC, so runs land on the
  same clock times (:00 and :30 by default) after every restart of ``muster serve``
  instead of drifting with the moment it was started.
- Entry points are module paths (``flows.prefect_flows:pipeline``), so the runner finds
  the flows whatever directory ``muster serve`` was started from.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType
from prefect.schedules import Interval

from flows.settings import MusterSettings, load_settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

PIPELINE = "muster-pipeline"
REEXTRACT = "muster-reextract"
INGEST_URLS = "muster-ingest-urls"
DEPLOYMENT_NAMES = (PIPELINE, REEXTRACT, INGEST_URLS)
TAGS = ["muster"]
SCHEDULE_ANCHOR = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def one_at_a_time() -> ConcurrencyLimitConfig:
    """At most one run of a deployment at once; the others queue (never cancelled)."""
    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


def pipeline_schedule(settings: MusterSettings, *, active: bool = True):  # type: ignore[no-untyped-def]
    """Every ``schedule.pipeline_every_minutes`` minutes, on clock-aligned times (UTC)."""
    return Interval(
        dt.timedelta(minutes=settings.schedule.pipeline_every_minutes),
        anchor_date=SCHEDULE_ANCHOR,
        timezone="UTC",
        active=active,
    )


def build_deployments(
    settings: MusterSettings | None = None, *, schedule_active: bool = True
) -> list[RunnerDeployment]:
    """The three deployments ``muster serve`` serves, in UI order."""
    from flows.ondemand import ingest_urls, reextract_stored
    from flows.prefect_flows import pipeline

    settings = settings or load_settings()
    common = {
        "concurrency_limit": one_at_a_time(),
        "tags": TAGS,
        "entrypoint_type": EntrypointType.MODULE_PATH,
    }
    return [
        pipeline.to_deployment(
            name=PIPELINE,
            schedules=[pipeline_schedule(settings, active=schedule_active)],
            description=(
                "Poll the feeds, fetch new articles, extract events, load DuckDB. "
                f"Runs every {settings.schedule.pipeline_every_minutes} minutes "
                "(configs/settings.yaml: schedule.pipeline_every_minutes)."
            ),
            **common,
        ),
        reextract_stored.to_deployment(
            name=REEXTRACT,
            description="Re-run the current rules over stored articles (no refetching).",
            **common,
        ),
        ingest_urls.to_deployment(
            name=INGEST_URLS,
            description="Fetch, clean, extract and load a pasted list of article URLs.",
            **common,
        ),
    ]
