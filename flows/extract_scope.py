"""Which cleaned articles the extraction rules run on: the rules' language only.

A module of its own, importing nothing but ``ingest.language``, because two places decide
it: the cleaning workers (``flows/clean_worker.py``, which skip extraction for an article
the run will not extract, instead of extracting it and having the events thrown away) and
the run's own process (``crawl_steps``, which records ``not_english`` in the report).
"""

from __future__ import annotations

from ingest.language import same_language

__all__ = ["RULES_LANGUAGE", "extraction_skip_reason"]

# The language the extraction rules are written in: configs/rules and configs/lexicons are
# English keyword and pattern lists, so on other languages they would only add noise.
RULES_LANGUAGE = "en"


def extraction_skip_reason(language: str | None) -> str | None:
    """Why an article in ``language`` gets no extraction (None: extract it).

    A known language other than :data:`RULES_LANGUAGE` is ``not_english``: the article is
    still stored (with its language), only the rules skip it. An unknown language (no
    declaration, no confident detection, no feed setting) is extracted: dropping it would
    lose English articles from sites that declare nothing, for a few extra non-matches.
    """
    if language is None or same_language(language, RULES_LANGUAGE):
        return None
    return "not_english"
