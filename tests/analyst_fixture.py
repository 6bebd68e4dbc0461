"""A small warehouse with known events, for the report and `muster events` tests.

Built with `Warehouse.load_articles` directly (no Prefect, no network: fast).
The numbers the tests expect are written out by hand in EXPECTED, not derived
from ARTICLES, so a bug in counting cannot hide behind the same bug here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from extractors.model import Event
from warehouse import ArticleRecord, Warehouse


def _event(text: str, sentence: str, **slots: Any) -> Event:
    start = text.index(sentence)
    return Event(sentence=sentence, char_start=start, char_end=start + len(sentence),
                 rule_id=f"test.{slots['type']}", confidence=0.9, **slots)


def _article(n: int, day: str, feed: str,
             sentences: list[tuple[str, dict[str, Any]]]) -> ArticleRecord:
    text = " ".join(s for s, _ in sentences)
    return ArticleRecord(
        url=f"https://news.example.test/world/{n}", feed=feed, title=f"Story {n}",
        published=dt.date.fromisoformat(day), text=text, extractor_version="test-v1",
        fetched_at=dt.datetime(2025, 4, 10, 12, 0),
        events=[_event(text, s, **slots) for s, slots in sentences],
    )


ARTICLES = [
    _article(1, "2025-04-01", "wire", [
        ("Russia sent about 12,000 troops to Belarus near Minsk, officials reported.",
         {"type": "military_deployment", "actor": "RUS", "actor_name": "Russia", "target": "BLR",
          "target_name": "Belarus", "location": "Minsk", "location_country": "BLR",
          "quantity": 12000, "unit": "troops", "quantity_qualifier": "approx",
          "direction": "deploy", "status": "reported"}),
        ("The United States condemned the move.",
         {"type": "condemnation", "actor": "USA", "actor_name": "The United States",
          "target": "RUS", "target_name": "Russia"}),
    ]),
    _article(2, "2025-04-02", "wire", [
        ("North Korea test-fired a Hwasong-18 ballistic missile, KCNA said.",
         {"type": "weapons_test", "actor": "PRK", "actor_name": "North Korea",
          "weapon_class": "ballistic_missile", "weapon_name": "Hwasong-18", "status": "claimed",
          "attributed_to": "KCNA"}),
        ("North Korea unveiled the 5,000-ton destroyer Choe Hyon at Nampho.",
         {"type": "weapons_unveiling", "actor": "PRK", "actor_name": "North Korea",
          "weapon_class": "destroyer", "weapon_name": "Choe Hyon", "quantity": 5000,
          "unit": "tons", "quantity_qualifier": "exact", "location": "Nampho",
          "location_country": "PRK"}),
    ]),
    _article(3, "2025-04-03", "gazette", [
        ("The United States will deploy 3,000 troops to Poland at Rzeszow.",
         {"type": "military_deployment", "actor": "USA", "actor_name": "The United States",
          "target": "POL", "target_name": "Poland", "location": "Rzeszow",
          "location_country": "POL", "quantity": 3000, "unit": "troops",
          "quantity_qualifier": "exact", "direction": "deploy", "status": "planned"}),
        ("Russian forces struck Kharkiv <overnight> & killed nobody, Kyiv said.",
         {"type": "attack", "actor": "RUS", "actor_name": "Russian forces", "target": "UKR",
          "target_name": "Ukraine", "location": "Kharkiv", "location_country": "UKR",
          "status": "reported", "attributed_to": "Kyiv"}),
        ("North Korea launched another missile.",
         {"type": "weapons_test", "actor": "PRK", "actor_name": "North Korea",
          "weapon_class": "ballistic_missile"}),
    ]),
    _article(4, "2025-04-05", "gazette", [
        ("Moscow denied sending 500 troops to Syria.",
         {"type": "military_deployment", "actor": "RUS", "actor_name": "Moscow", "target": "SYR",
          "target_name": "Syria", "quantity": 500, "unit": "troops",
          "quantity_qualifier": "exact", "direction": "deploy", "status": "denied"}),
    ]),
]

EXPECTED = {
    "events": 8,
    "articles": 4,
    "actors": {"RUS": 3, "PRK": 3, "USA": 2},
    "by_type": {"military_deployment": 3, "weapons_test": 2, "weapons_unveiling": 1,
                "attack": 1, "condemnation": 1},
    # events per article day and type (the timeline)
    "timeline": {("2025-04-01", "military_deployment"): 1, ("2025-04-01", "condemnation"): 1,
                 ("2025-04-02", "weapons_test"): 1, ("2025-04-02", "weapons_unveiling"): 1,
                 ("2025-04-03", "military_deployment"): 1, ("2025-04-03", "attack"): 1,
                 ("2025-04-03", "weapons_test"): 1, ("2025-04-05", "military_deployment"): 1},
}


def build_db(path: Path) -> Path:
    """Write ARTICLES into a new warehouse file at `path` and return the path."""
    with Warehouse(path) as wh:
        counts = wh.load_articles(ARTICLES)
    assert counts.articles_new == 4 and counts.events_written == 8, counts
    return path
