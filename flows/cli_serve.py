"""``muster serve``: one long-running process serving every Muster deployment.

Why ``prefect.serve`` rather than a work pool by default: it needs nothing but a
Prefect API (a local ``prefect server start`` or Prefect Cloud) — no pool, no worker,
no code storage — and it polls for scheduled and UI-triggered runs itself, running
each in a subprocess.  ``prefect.yaml`` covers the work-pool route for those who want it.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from flows.cli import _fail, app, err


@app.command()
def serve(
    every: Annotated[
        Optional[int],
        typer.Option("--every", min=1,
                     help="Pipeline interval in minutes (default: schedule.pipeline_every_minutes, 30)."),
    ] = None,
    no_schedule: Annotated[
        bool, typer.Option("--no-schedule", help="Serve the pipeline without its schedule (runs on demand only).")
    ] = False,
    limit: Annotated[
        Optional[int], typer.Option("--limit", min=1, help="At most N runs at once in this process.")
    ] = None,
) -> None:
    """Serve muster-pipeline (scheduled), muster-reextract and muster-ingest-urls until Ctrl-C."""
    try:
        from prefect.settings import get_current_settings

        from flows.settings import load_settings

        settings = load_settings()
        if every is not None:
            settings = settings.model_copy(
                update={"schedule": settings.schedule.model_copy(update={"pipeline_every_minutes": every})}
            )
        api_url = get_current_settings().api.url
        if not api_url:
            raise ValueError(
                "PREFECT_API_URL is not set, so there is no Prefect server to serve to. Start one "
                "with `prefect server start` and run `export PREFECT_API_URL=http://127.0.0.1:4200/api` "
                "(or log in to Prefect Cloud with `prefect cloud login`)"
            )
        from prefect import serve as prefect_serve

        from flows.deployments import build_deployments
        from flows.run_guard import WRITER_LIMIT, ensure_writer_limit

        deployments = build_deployments(settings, schedule_active=not no_schedule)
        created = ensure_writer_limit()
    except (ValueError, OSError) as exc:
        _fail(exc)
        return
    err.print(
        f"serving {', '.join(d.name for d in deployments)} against {api_url}; "
        f"pipeline every {settings.schedule.pipeline_every_minutes} min"
        + (" (schedule off)" if no_schedule else "")
        + f"; global limit {WRITER_LIMIT}" + (" created" if created else " found")
    )
    prefect_serve(*deployments, limit=limit)
