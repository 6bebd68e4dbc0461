"""The ``muster`` command line.

Imports are deferred into each command so that ``muster extract`` and
``muster sql`` start in well under a second instead of paying for Prefect.
User errors (bad config, locked database, bad SQL) print one plain sentence;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Muster: news feeds -> structured events in DuckDB.",
)
err = Console(stderr=True)
out = Console()
_state = {"debug": False}


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Muster turns news articles into a queryable table of events."""
    _state["debug"] = debug


def _fail(exc: BaseException) -> None:
    """Report a user-facing error as one sentence, or re-raise under --debug."""
    if _state["debug"]:
        raise exc
    from rich.markup import escape

    from flows.user_errors import one_sentence

    err.print(f"[red]error:[/red] {escape(one_sentence(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


DbOption = Annotated[
    Optional[Path], typer.Option("--db", help="DuckDB file (default: data/muster.duckdb).")
]


@app.command()
def run(
    db: DbOption = None,
    feeds: Annotated[
        Optional[Path], typer.Option("--feeds", help="Feeds YAML (default: configs/feeds.yaml).")
    ] = None,
    feed: Annotated[
        Optional[list[str]], typer.Option("--feed", help="Poll only this feed (repeatable).")
    ] = None,
    tag: Annotated[
        Optional[list[str]],
        typer.Option("--tag", help="Poll only feeds with this tag (repeatable: any of them)."),
    ] = None,
    max_articles: Annotated[
        Optional[int], typer.Option("--max-articles", min=1, help="At most N new items per feed.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write nothing.")] = False,
    always_flow: Annotated[bool, typer.Option(
        "--always-flow",
        help="Start a Prefect flow run even when no feed has anything new "
             "(by default such a run is recorded in the database without one).")] = False,
) -> None:
    """Poll every feed once, fetch new articles, extract events, load the database."""
    from flows.user_errors import USER_ERRORS

    try:
        from flows.pipeline import resolve_feeds
        from flows.settings import load_settings
        from flows.user_errors import check_writable
        from warehouse import Warehouse

        # Validate the configuration before paying for Prefect's start-up, so a typo is
        # one sentence in a second, not a failed flow run with a traceback in its log.
        settings = load_settings(db_path=db, feeds_path=feeds)
        feed_configs = resolve_feeds(settings, feed or None, tag or None)
        ruleset = _ruleset(settings.configs_dir)
        # Same for the database: unwritable folder, a file locked by another process or
        # made by a newer Muster.  Opening it also creates and migrates a new file.
        check_writable(Path(settings.db_path), "database")
        with Warehouse(settings.db_path, lock_timeout=5.0):
            pass
        started = time.perf_counter()
        if not (dry_run or always_flow) and _ran_without_flow(
                settings, feed_configs, feed, tag, max_articles, started):
            return
        if settings.task_runner != "dask":  # workers start while Prefect does
            from flows import parallel

            parallel.prestart(ruleset, settings.workers)

        from flows import progress
        from flows.prefect_flows import pipeline, terminal_run
        from flows.summary import render_summary

        with terminal_run(), progress.install(progress.for_stream(sys.stdout, out)) as reporter:
            report = pipeline(
                feeds=feed or None,
                tags=tag or None,
                max_articles_per_feed=max_articles,
                dry_run=dry_run,
                db_path=str(db) if db else None,
                feeds_path=str(feeds) if feeds else None,
            )
    except USER_ERRORS as exc:
        _fail(exc)
        return
    seconds = dict(reporter.seconds)
    seconds["Prefect and other"] = max(time.perf_counter() - started - sum(seconds.values()), 0.0)
    render_summary(report, out, seconds)


@app.command()
def extract(
    infile: Annotated[Path, typer.Argument(help="JSONL: {doc_id, text, published?, title?} a line.")],
    configs: Annotated[
        Optional[Path], typer.Option("--configs", help="Configs folder with rules/ and lexicons/.")
    ] = None,
) -> None:
    """Extract events from a JSONL file of documents; JSONL out on stdout, same order."""
    from flows.batch import extract_jsonl

    try:
        ruleset = _ruleset(configs)
        with _open_input(infile) as lines:
            bad = extract_jsonl(lines, ruleset, sys.stdout, err_write=sys.stderr.write)
    except (ValueError, OSError) as exc:
        _fail(exc)
        return
    if bad:
        err.print(f"{bad} bad input line(s) in {infile}; each is reported above")


@app.command(name="eval")
def evaluate(
    infile: Annotated[Path, typer.Argument(help="JSONL documents (muster extract input).")],
    gold: Annotated[Path, typer.Argument(help="JSONL gold events, {doc_id, events}.")],
    pred: Annotated[
        Optional[Path], typer.Option("--pred", help="Score this prediction file instead of extracting.")
    ] = None,
    configs: Annotated[Optional[Path], typer.Option("--configs")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Score extractions against gold events exactly as the event spec describes."""
    from extractors.scoring import format_report, score

    from flows.batch import extract_records, read_jsonl

    try:
        gold_records = read_jsonl(gold)
        if pred is not None:
            predicted = read_jsonl(pred)
        else:
            predicted = extract_records(read_jsonl(infile), _ruleset(configs))
    except (ValueError, OSError) as exc:
        _fail(exc)
        return
    report = score(predicted, gold_records)
    if as_json:
        out.print_json(json.dumps(report, default=str))
    else:
        print(format_report(report))


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL statement.")],
    db: DbOption = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, csv, json, jsonl or parquet (needs --out).")
    ] = "table",
    out_file: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Run read-only SQL on the database; print an aligned table, or CSV/JSON/Parquet for piping."""
    from flows.output import emit, parse_format
    from flows.settings import load_settings
    from flows.user_errors import USER_ERRORS

    try:
        path = Path(db or load_settings().db_path)
        n = emit(path, query, None, parse_format(fmt), out_file, out, err.print)
    except USER_ERRORS as exc:
        _fail(exc)
        return
    if out_file is not None:
        err.print(f"wrote {n} row(s) to {out_file}")


def _ran_without_flow(settings, feed_configs, feed, tag, max_articles, started) -> bool:  # type: ignore[no-untyped-def]
    """Record a run with nothing new without starting Prefect (flows/quick_run.py)."""
    from flows.quick_run import run_if_nothing_new
    from flows.run_report import run_parameters
    from flows.summary import render_summary

    params = run_parameters(settings, feed, tag, max_articles)
    report = run_if_nothing_new(settings, feed_configs, params,
                                max_articles or settings.max_articles_per_feed)
    if report is None:
        return False
    out.print("Nothing new in any feed: the run is recorded without a Prefect flow run "
              "(--always-flow starts one anyway).")
    render_summary(report, out, {"Poll and record": time.perf_counter() - started})
    return True


def _ruleset(configs: Path | None):  # type: ignore[no-untyped-def]
    from flows.rules_cache import cached_ruleset  # `muster run`'s flow then reuses it
    from flows.settings import load_settings

    return cached_ruleset(configs or load_settings().configs_dir)


def _open_input(path: Path):  # type: ignore[no-untyped-def]
    if str(path) == "-":
        import contextlib
        import io

        return contextlib.nullcontext(
            io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="surrogateescape"))
    # A BOM is not data, and one undecodable line must not stop the others (flows/batch.py
    # reports it as a bad line): tests/test_reliability_inputs.py.
    return path.open(encoding="utf-8-sig", errors="surrogateescape")


# Commands of other areas live in their own modules (flows/cli_*.py) and register on `app`
# when imported here. Run the CLI as `muster` or `python -m flows`, not `python -m flows.cli`.
from flows import cli_report  # noqa: E402,F401  (muster report, muster events)
from flows import cli_warehouse  # noqa: E402,F401  (muster reextract, muster export)
from flows import cli_serve  # noqa: E402,F401  (muster serve)
