"""Re-extraction: run the current rules over the article text already stored, without refetching.

A plain function so that `muster reextract`, the Prefect flow (muster-reextract)
and tests share one implementation.  Articles are read a page at a time,
extracted outside any transaction, and written one page per transaction
(`Warehouse.replace_events`): each article's events change as a unit, clusters
follow in the same transaction, and `reextract_log` records which extractor
version produced what.  Articles already produced by the current rule set are
skipped without being read, so a second run right after the first does nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from extractors import RuleSet, extract
from extractors.loader import load_ruleset
from extractors.model import EVENT_TYPES, Event
from flows.crawl_steps import extraction_skip_reason
from flows.settings import MusterSettings
from flows.progress import current
from warehouse import Warehouse, WarehouseNotFoundError
from warehouse.rewrite import EventReplacement, StoredArticle

PAGE_SIZE = 200


@dataclass
class ReextractReport:
    """What one re-extraction did; stored in ``runs.counts`` and printed by the CLI."""

    run_id: str
    db_path: str
    extractor_version: str
    since: date | None = None
    types: list[str] | None = None
    articles_skipped_current: int = 0
    articles_considered: int = 0
    articles_replaced: int = 0
    articles_restamped: int = 0
    articles_stale: int = 0
    articles_unchanged: int = 0
    events_added: int = 0
    events_removed: int = 0
    previous_versions: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    snapshot: str | None = None

    def as_counts(self) -> dict[str, object]:
        """JSON-ready counters for the ``runs`` table and Prefect artifacts."""
        return {
            "kind": "reextract",
            "extractor_version": self.extractor_version,
            "articles_skipped_current": self.articles_skipped_current,
            "articles_considered": self.articles_considered,
            "articles_replaced": self.articles_replaced,
            "articles_restamped": self.articles_restamped,
            "articles_stale": self.articles_stale,
            "articles_unchanged": self.articles_unchanged,
            "events_added": self.events_added,
            "events_removed": self.events_removed,
            "previous_versions": dict(self.previous_versions),
        }


def check_types(types: list[str] | None) -> list[str] | None:
    """Refuse unknown event types with the list of known ones (a typo must not match nothing)."""
    if not types:
        return None
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; "
                         f"known: {', '.join(EVENT_TYPES)}")
    return sorted(set(types))


def _events(article: StoredArticle, rules: RuleSet) -> list[Event]:
    """The current rules' events for a stored article; none where its language is not theirs.

    The same decision as the pipeline's (``crawl_steps.extraction_skip_reason``), so a
    re-extraction never gives a German article the English rules' events.
    """
    if extraction_skip_reason(article.language):
        return []
    return extract(article.text, article.published, rules, title=article.title)


def reextract(settings: MusterSettings, since: date | None = None,
              types: list[str] | None = None, *, ruleset: RuleSet | None = None,
              run_id: str | None = None, flow_run_id: str | None = None,
              publish_snapshot: bool = True) -> ReextractReport:
    """Re-run the current rules over stored articles (published on/after `since`).

    `types`: only events of these types are replaced; the others, and the
    article's extractor_version, stay as they are.  The run is recorded in
    ``runs`` (status completed/failed) and, per changed article, in
    ``reextract_log``.  Raises `ValueError` for unknown types, `RuleFileError`
    for bad rules and `WarehouseError` if the file cannot be written.
    """
    wanted = check_types(types)
    if not Path(settings.db_path).expanduser().is_file():
        raise WarehouseNotFoundError(Path(settings.db_path))  # a typo must not create a new file
    rules = ruleset or load_ruleset(settings.configs_dir)
    report = ReextractReport(run_id=run_id or f"reextract-{uuid.uuid4()}",
                             db_path=str(settings.db_path), extractor_version=rules.version,
                             since=since, types=wanted)
    wh = Warehouse(settings.db_path)
    wh.start_run(report.run_id, flow_run_id, {"kind": "reextract", "since": since,
                                              "types": wanted, "extractor_version": rules.version})
    status = "failed"
    shown = current()  # the CLI's live display or plain lines; nothing by default
    try:
        report.articles_skipped_current = wh.count_current(rules.version, since=since)
        shown.total("reextract", wh.count_pending(rules.version, since=since))
        after: str | None = None
        while True:
            page = wh.articles_to_reextract(rules.version, since=since, after=after,
                                            limit=PAGE_SIZE)
            if not page:
                break
            after = page[-1].article_id
            report.articles_considered += len(page)
            report.previous_versions.update(a.extractor_version for a in page)
            updates = [EventReplacement(a.article_id, a.content_hash, _events(a, rules))
                       for a in page]
            counts = wh.replace_events(updates, rules.version, report.run_id, wanted)
            report.articles_replaced += counts.replaced
            report.articles_restamped += counts.restamped
            report.articles_stale += counts.stale
            report.articles_unchanged += counts.unchanged
            report.events_added += counts.events_added
            report.events_removed += counts.events_removed
            report.warnings.extend(counts.warnings)
            shown.advance("reextract", len(page))
        status = "completed"
    finally:
        wh.finish_run(report.run_id, status, report.as_counts())
        if publish_snapshot and status == "completed":
            report.snapshot = str(wh.publish_snapshot())
    return report
