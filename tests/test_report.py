"""``muster report``: the numbers it reads, the page it writes, and the page as Chromium renders it.

The warehouse is built from known events (tests/analyst_fixture.py) with
`Warehouse.load_articles`, so no Prefect run is needed.  The browser tests use
Debian's headless chromium on a file:// URL with networking disabled; they are
skipped only when chromium is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lxml_html

from tests.analyst_fixture import EXPECTED, build_db

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                         else None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install -y chromium); the browser checks need it",
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("report") / "m.duckdb")


@pytest.fixture(scope="module")
def report_file(db: Path) -> Path:
    """The report as a user makes it: `python -m flows report --db ... --out ...`."""
    out = db.parent / "out" / "report.html"
    proc = subprocess.run([sys.executable, "-m", "flows", "report", "--db", str(db), "--out",
                           str(out)], cwd=db.parent, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and "8 events" in proc.stdout
    assert out.is_file()
    return out


def test_report_data_has_the_known_numbers(db: Path) -> None:
    from flows.report import load_report_data

    data = load_report_data(db, notify=lambda _m: None)
    assert data.n_events == EXPECTED["events"] and data.n_articles == EXPECTED["articles"]
    assert dict(data.by_type) == EXPECTED["by_type"]
    assert {code: n for code, _, n in data.actors} == EXPECTED["actors"]
    assert {(d.isoformat(), t): n for d, t, n in data.timeline} == EXPECTED["timeline"]
    assert [r["quantity"] for r in data.deployments] == [500, 3000, 12000]  # newest first
    assert {r["weapon_name"] for r in data.weapons} == {"Hwasong-18", "Choe Hyon", None}


def test_since_filters_every_part_of_the_report(db: Path) -> None:
    import datetime as dt

    from flows.report import load_report_data

    data = load_report_data(db, dt.date(2025, 4, 3), notify=lambda _m: None)
    assert data.n_events == 4 and len(data.events) == 4
    assert dict(data.by_type) == {"military_deployment": 2, "attack": 1, "weapons_test": 1}
    assert {code: n for code, _, n in data.actors} == {"RUS": 2, "USA": 1, "PRK": 1}
    assert [r["quantity"] for r in data.deployments] == [500, 3000]


def test_report_is_one_self_contained_file(report_file: Path) -> None:
    page = report_file.read_text(encoding="utf-8")
    dom = lxml_html.fromstring(page)
    # No element loads anything: no script src, stylesheet link, image, frame or font.
    assert dom.xpath("//script[@src] | //link | //img | //iframe | //object | //embed") == []
    scripts = dom.xpath("//script")
    assert len(scripts) >= 3 and "Plotly" in scripts[0].text  # plotly.js itself is inline
    css = " ".join(s.text or "" for s in dom.xpath("//style"))
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    # Text from articles is escaped, and evidence links to its article.
    assert "struck Kharkiv &lt;overnight&gt; &amp; killed nobody" in page
    assert 'href="https://news.example.test/world/1"' in page


def _chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    assert CHROMIUM is not None
    profile = tmp / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
         # No network at all: a page that needed one would render without its charts.
         "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp)},
    )


@needs_chromium
def test_chromium_renders_charts_and_tables_with_the_right_numbers(
        report_file: Path, tmp_path: Path) -> None:
    proc = _chromium("--virtual-time-budget=10000", "--dump-dom", report_file.as_uri(),
                     tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = lxml_html.fromstring(proc.stdout)

    def texts(xpath: str) -> list[str]:
        return [" ".join(t.text_content().split()) for t in dom.xpath(xpath)]

    assert texts("//*[@id='n-events']") == ["8"]
    assert texts("//*[@id='n-articles']") == ["4"]
    # The timeline was drawn by plotly.js: one legend entry per type, one bar per (day, type).
    timeline = "//div[@id='timeline']"
    assert dom.xpath(f"{timeline}//*[local-name()='svg' and contains(@class, 'main-svg')]")
    assert sorted(texts(f"{timeline}//*[contains(@class, 'legendtext')]")) == sorted(
        EXPECTED["by_type"])
    bars = dom.xpath(f"{timeline}//*[contains(@class, 'barlayer')]"
                     "//*[contains(@class, 'point')]/*[local-name()='path']")
    assert len(bars) == len(EXPECTED["timeline"])
    # The tallest stack (3 events on 2025-04-03) sets the y axis: its top tick is 3.
    y_ticks = [float(t) for t in texts(f"{timeline}//*[contains(@class, 'ytick')]")]
    assert max(y_ticks) == 3
    # The actors chart: labels and the counts printed on the bars.
    actors = "//div[@id='actors']"
    ticks = texts(f"{actors}//*[contains(@class, 'ytick')]")
    assert {t.split(" · ")[0] for t in ticks} == set(EXPECTED["actors"])
    values = texts(f"{actors}//*[contains(@class, 'bartext')]")
    assert sorted(int(v) for v in values) == sorted(EXPECTED["actors"].values())
    # Tables: every event with its evidence link; the deployments with their quantities.
    assert len(dom.xpath("//table[@id='events']/tbody/tr")) == 8
    links = dom.xpath("//table[@id='events']//a[@class='evidence']/@href")
    assert sorted(set(links)) == [f"https://news.example.test/world/{n}" for n in (1, 2, 3, 4)]
    deployments = texts("//table[@id='deployments']/tbody/tr/td[6]")
    assert deployments == ["500 troops", "3,000 troops", "about 12,000 troops"]
    weapons = texts("//table[@id='weapons']/tbody/tr/td[6]")
    assert "5,000 tons" in weapons


@needs_chromium
def test_chromium_screenshot_is_a_real_picture(report_file: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    proc = _chromium("--window-size=1280,2200", "--virtual-time-budget=10000",
                     f"--screenshot={shot}", report_file.as_uri(), tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2200)
    # A blank or error page compresses to a few KB; charts, badges and text do not.
    assert len(data) > 60_000, len(data)
    if os.environ.get("MUSTER_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["MUSTER_KEEP_SCREENSHOT"])


def test_report_of_an_empty_database_says_so(tmp_path: Path) -> None:
    from warehouse import Warehouse

    from flows.report import load_report_data, write_report

    db = tmp_path / "empty.duckdb"
    with Warehouse(db):
        pass
    out = write_report(load_report_data(db, notify=lambda _m: None), tmp_path / "r.html")
    page = out.read_text(encoding="utf-8")
    assert "No events in this period." in page and 'id="timeline"' not in page
