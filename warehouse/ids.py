"""Deterministic ids for articles and events.

Ids are content-derived (sha256 over a canonical JSON encoding), never random
or sequence-based, so that re-running a pipeline over the same inputs produces
the same ids in any process on any machine; that is what makes loads
idempotent (the same batch twice is a no-op) and lets events be joined across
warehouse copies.  Python's ``hash()`` is salted per process and is therefore
never used.
"""

from __future__ import annotations

import hashlib
import json

from extractors.model import Event

ID_LENGTH = 16  # hex chars = 64 bits; collisions are negligible below ~10^9 rows

# The slots that make one event distinct within an article.  Changing this
# tuple changes every event id, so it is part of the storage contract.
EVENT_KEY_FIELDS: tuple[str, ...] = (
    "type", "actor", "target", "location", "quantity", "unit", "char_start",
)


def _digest(payload: object) -> str:
    """sha256 hex prefix over compact, key-sorted JSON (stable across versions)."""
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_LENGTH]


def article_id(canonical_url: str) -> str:
    """Id of an article: its canonical URL hashed.

    The URL should already be canonicalised (``ingest.urls.canonicalize``);
    this function only hashes it, so that the warehouse does not depend on
    ingest's rules.
    """
    if not canonical_url or not canonical_url.strip():
        raise ValueError("article_id needs a non-empty canonical URL")
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:ID_LENGTH]


def event_id(article_id: str, event: Event) -> str:
    """Id of one event of one article, over (article_id, type, key slots, char_start).

    Confidence, rule_id and the sentence are left out on purpose: a rule
    tweak that changes only those keeps the event's identity.
    """
    return _digest([article_id, *(getattr(event, name) for name in EVENT_KEY_FIELDS)])
