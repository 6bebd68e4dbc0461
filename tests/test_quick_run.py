"""``muster run`` with nothing new records the run without a Prefect flow run (flows/quick_run.py).

Typed as a user types it (a subprocess, Prefect in its no-server mode), against a real
local feed that supports conditional GET. A run that finds nothing to fetch must still be
a row in ``runs`` with its feed poll in ``fetch_log``, change no article or event, and poll
the feed once; a feed that changed, or ``--always-flow``, must go through the flow.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from warehouse import run_readonly

from tests.fixtures_http import LocalHTTPServer, Route, rss
from tests.test_cli_run import SEED_HTML, muster

pytestmark = pytest.mark.slow
NOTE = "Nothing new in any feed"
OTHER = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*.html.gz"))[0]


def _feed(server: LocalHTTPServer, links: list[str], etag: str) -> None:
    server.add("/feed.xml", Route(body=rss(str(server), links), etag=etag,
                                  content_type="application/rss+xml"))


def _runs(db: Path) -> list[tuple]:
    return run_readonly(db, "SELECT flow_run_id, parameters, status FROM runs "
                            "ORDER BY started_at")[1]


def _count(db: Path, table: str) -> int:
    return run_readonly(db, f"SELECT count(*) FROM {table}")[1][0][0]


def test_unchanged_feed_is_recorded_without_a_flow_run(
        tmp_path: Path, http_server: LocalHTTPServer) -> None:
    http_server.add("/n/a.html", Route(body=SEED_HTML.read_bytes()))
    http_server.add("/n/b.html", Route(body=gzip.decompress(OTHER.read_bytes())))
    _feed(http_server, ["/n/a.html"], '"v1"')
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - name: local\n    url: {http_server.url('/feed.xml')}\n")
    db = tmp_path / "m.duckdb"
    run = ["run", "--db", str(db), "--feeds", str(feeds)]

    first = muster(*run, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert NOTE not in first.stdout
    articles, events = _count(db, "articles"), _count(db, "events")
    assert articles == 1 and events > 0

    second = muster(*run, cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert NOTE in second.stdout.replace("\n", " ")
    assert http_server.hits("/feed.xml") == 2  # one poll per run, the second a 304
    (flow_1, _, status_1), (flow_2, params_2, status_2) = _runs(db)
    assert flow_1 is not None and flow_2 is None and status_1 == status_2 == "completed"
    assert json.loads(params_2)["prefect"] == "no flow run: nothing new"
    outcomes = run_readonly(db, "SELECT outcome FROM fetch_log WHERE stage = 'feed' "
                                "ORDER BY logged_at")[1]
    assert [o for (o,) in outcomes] == ["ok", "not_modified"]
    assert (_count(db, "articles"), _count(db, "events")) == (articles, events)

    forced = muster(*run, "--always-flow", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert NOTE not in forced.stdout and _runs(db)[-1][0] is not None

    _feed(http_server, ["/n/a.html", "/n/b.html"], '"v2"')  # the feed changed: the flow runs
    changed = muster(*run, cwd=tmp_path)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert NOTE not in changed.stdout
    assert _runs(db)[-1][0] is not None and _count(db, "articles") == 2
    assert len(_runs(db)) == 4
