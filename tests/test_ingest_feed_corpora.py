"""Robustness and correctness of feed parsing over the shared feed corpora.

feedparser's own test suite (about 2,100 small feeds: ill-formed XML, odd encodings,
entities, every dialect) checks that each feed is parsed or cleanly rejected and never
raises; the feed-rs captures (real feeds with an independent expected parse) check that the
links we find are the ones another parser finds.
"""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest

from ingest.feeds import FeedConfig
from ingest.fetch import FetchLimits, make_client
from ingest.poll import parse_feed_bytes, poll_feed
from ingest.urls import canonicalize

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"
FP_DIR = FEEDS / "feedparser" / "tests"
RS_DIR = FEEDS / "feed-rs" / "feed-rs" / "fixture"


def _sample(n: int) -> list[Path]:
    if not FP_DIR.is_dir():
        return []
    files = sorted(p for p in FP_DIR.rglob("*") if p.is_file())
    return sorted(random.Random(20261127).sample(files, min(n, len(files))))


SAMPLE = _sample(200)


@pytest.mark.skipif(not SAMPLE, reason="shared feedparser corpus not available")
@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(FP_DIR)))
def test_feedparser_corpus_parsed_or_rejected(path: Path) -> None:
    body = path.read_bytes()
    parsed = parse_feed_bytes(body, "http://example.org/feed.xml")
    assert parsed.error in (None, "feed_parse_error")
    assert (parsed.error is None) or parsed.detail
    if parsed.error is None:
        for link, title, published in parsed.entries:
            assert isinstance(link, str) and link
            assert title is None or isinstance(title, str)


@pytest.mark.skipif(not SAMPLE, reason="shared feedparser corpus not available")
def test_feedparser_corpus_through_poll_feed() -> None:
    """The same sample through the whole local path (file read, sniff, parse, collect)."""
    limits = FetchLimits(retries=0)

    async def go():
        async with make_client(limits) as client:
            return [
                await poll_feed(client, FeedConfig(name=f"fp{i}", url=str(p)), limits=limits)
                for i, p in enumerate(SAMPLE)
            ]

    results = asyncio.run(go())
    for path, res in zip(SAMPLE, results):
        assert res.error in (None, "feed_parse_error", "binary", "too_large"), (path, res.error)
        for item in res.items:
            assert item.url.split(":", 1)[0] in ("http", "https", "file"), (path, item.url)
    # Most of these feeds are well-formed: the sample must not be rejected wholesale.
    assert sum(r.error is None for r in results) >= 0.6 * len(results)


RS_CASES = (
    sorted(p for p in RS_DIR.rglob("*.xml") if p.with_name(p.stem + ".serde.json").exists())
    if RS_DIR.is_dir()
    else []
)


def _expected_links(serde: dict) -> list[str]:
    links = []
    for entry in serde.get("entries", []):
        hrefs = [
            lk.get("href")
            for lk in entry.get("links", [])
            if lk.get("href") and lk.get("rel") in (None, "alternate")
        ]
        if hrefs:
            links.append(hrefs[0])
    return links


@pytest.mark.skipif(not RS_CASES, reason="shared feed-rs corpus not available")
@pytest.mark.parametrize("path", RS_CASES, ids=lambda p: p.name)
def test_feed_rs_links_agree(path: Path) -> None:
    serde = json.loads(path.with_name(path.stem + ".serde.json").read_text(encoding="utf-8"))
    parsed = parse_feed_bytes(path.read_bytes(), "http://example.org/feed.xml")
    assert parsed.error is None, parsed.detail
    ours = {canonicalize(link) for link, _, _ in parsed.entries}
    expected = [
        canonicalize(u) for u in _expected_links(serde) if u.startswith(("http://", "https://"))
    ]
    missing = [u for u in expected if u not in ours]
    assert not missing, missing
