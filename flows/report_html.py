"""Draw ``ReportData`` as one self-contained HTML page (no network needed to open it).

Charts are Plotly figures with plotly.js inlined once in the page (about 4.8 MB):
heavier than static SVG, but analysts get hover values, zoom on the timeline and
click-to-hide event types, which is what they expect from a report.  No CDN
script, no web font (system font stack), no image fetched: the page works from
a USB stick on a plane.  Every text from the warehouse is HTML-escaped and only
http(s)/file links are made clickable, because article text comes from the web.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from flows.report import ReportData

# One colour per event type, shared by both charts and the table badges.
TYPE_COLOURS: dict[str, str] = {
    "military_deployment": "#1f77b4",
    "weapons_unveiling": "#9467bd",
    "weapons_test": "#d62728",
    "attack": "#ff7f0e",
    "territorial_control": "#8c564b",
    "casualties": "#7f7f7f",
    "agreement": "#2ca02c",
    "arms_transfer": "#17becf",
    "condemnation": "#bcbd22",
}
_PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def e(value: object) -> str:
    """HTML-escape any value; None is an empty cell."""
    return "" if value is None else html.escape(str(value), quote=True)


def safe_href(url: str | None) -> str | None:
    """Only links a browser can open harmlessly (no ``javascript:`` from a hostile feed)."""
    if url and url.split(":", 1)[0].lower() in ("http", "https", "file"):
        return url
    return None


def country(code: str | None) -> str:
    """``RUS`` -> ``Russia`` (pycountry's common name when it has one)."""
    if not code:
        return ""
    import pycountry

    found = pycountry.countries.get(alpha_3=code)
    if found is None:
        return code
    return str(getattr(found, "common_name", None) or found.name)


def _figure_html(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(
        margin={"l": 10, "r": 30, "t": 32, "b": 10},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13},
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config=_PLOT_CONFIG)


def _count_ticks(top: int) -> dict[str, Any]:
    """Whole-number ticks for counts (no "2.5 events"); plotly picks the step for big counts."""
    return {"dtick": 1, "tick0": 0} if top <= 10 else {"tickformat": ",d"}


def timeline_figure(data: ReportData) -> go.Figure:
    """Stacked bars: events per day, one colour per type (click a legend entry to hide it)."""
    fig = go.Figure()
    types = [t for t, _ in data.by_type]
    stacks: dict[dt.date, int] = {}
    for day, _, n in data.timeline:
        stacks[day] = stacks.get(day, 0) + n
    tallest = max(stacks.values(), default=0)
    for etype in types:
        days = [(day, n) for day, t, n in data.timeline if t == etype]
        fig.add_bar(
            name=etype, x=[d.isoformat() for d, _ in days], y=[n for _, n in days],
            marker_color=TYPE_COLOURS.get(etype, "#444"),
            hovertemplate="%{x}<br>" + etype + ": %{y}<extra></extra>",
        )
    fig.update_layout(barmode="stack",
                      legend={"orientation": "h", "y": -0.25, "traceorder": "normal"},
                      xaxis={"type": "date", "title": "article day"},
                      yaxis={"title": "events", "rangemode": "tozero", **_count_ticks(tallest)},
                      bargap=0.15, height=360)
    return fig


def actors_figure(data: ReportData) -> go.Figure:
    """Horizontal bars of the most active actors, largest on top, with their counts."""
    actors = list(reversed(data.actors))
    labels = [f"{code} · {country(code)}" for code, _, _ in actors]
    fig = go.Figure(go.Bar(
        x=[n for _, _, n in actors], y=labels, orientation="h", text=[n for _, _, n in actors],
        textposition="outside", marker_color="#1f77b4", cliponaxis=False,
        hovertemplate="%{y}: %{x} events<extra></extra>",
    ))
    top = max((n for _, _, n in actors), default=0)
    fig.update_layout(xaxis={"title": "events", "rangemode": "tozero", **_count_ticks(top)},
                      yaxis={"automargin": True},
                      height=max(160, 28 * len(actors) + 60))
    return fig


def quantity(row: dict[str, Any]) -> str:
    """``12,000 troops (about)`` from quantity, unit and qualifier."""
    if row.get("quantity") is None:
        return ""
    words = {"approx": "about", "upper": "up to", "lower": "at least"}
    qualifier = words.get(row.get("quantity_qualifier") or "")
    text = f"{row['quantity']:,} {row.get('unit') or ''}".strip()
    return f"{qualifier} {text}" if qualifier else text


def _badge(etype: str) -> str:
    colour = TYPE_COLOURS.get(etype, "#444")
    return f'<span class="badge" style="background:{colour}">{e(etype)}</span>'


def _evidence(row: dict[str, Any]) -> str:
    href = safe_href(row.get("url"))
    sentence = e(row.get("sentence"))
    if href is None:
        return sentence
    return (f'<a class="evidence" href="{e(href)}" title="{e(row.get("title") or href)}" '
            f'target="_blank" rel="noopener noreferrer">{sentence}</a>')


def _party(code: str | None, name: str | None) -> str:
    if not code and not name:
        return ""
    label = e(code or name)
    hint = e(country(code) if code else "")
    return f'<abbr title="{hint}">{label}</abbr>' if code else label


def _date(row: dict[str, Any]) -> str:
    day = row.get("date") or row.get("day")
    return e(day.isoformat() if isinstance(day, dt.date) else day)


def _table(table_id: str, headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="empty" id="{table_id}-empty">{e(empty)}</p>'
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (f'<table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>\n{body}\n</tbody></table>")


def deployments_table(data: ReportData) -> str:
    rows = [[_date(r), _party(r["actor"], r["actor_name"]), e(r.get("direction") or "deploy"),
             _party(r["target"], r["target_name"]), e(r.get("location")),
             f'<span class="num">{e(quantity(r))}</span>', e(r.get("status")), _evidence(r)]
            for r in data.deployments]
    return _table("deployments", ["date", "actor", "move", "to/with", "where", "how many",
                                  "status", "evidence"], rows, "No deployments in this period.")


def weapons_table(data: ReportData) -> str:
    rows = [[_date(r), _badge(r["type"]), _party(r["actor"], r["actor_name"]),
             e(r.get("weapon_class")), e(r.get("weapon_name")),
             f'<span class="num">{e(quantity(r))}</span>', e(r.get("location")),
             e(r.get("status")), _evidence(r)] for r in data.weapons]
    return _table("weapons", ["date", "what", "actor", "weapon", "name", "quantity", "where",
                              "status", "evidence"], rows,
                  "No weapons unveilings or tests in this period.")


def events_table(data: ReportData) -> str:
    rows = [[_date(r), _badge(r["type"]), _party(r["actor"], r["actor_name"]),
             _party(r["target"], r["target_name"]), e(r.get("location")),
             f'<span class="num">{e(quantity(r))}</span>', e(r.get("status")), _evidence(r)]
            for r in data.events]
    return _table("events", ["date", "type", "actor", "target", "where", "quantity", "status",
                             "evidence (links to the article)"], rows, "No events in this period.")


def _stat(stat_id: str, value: object, label: str) -> str:
    return (f'<div class="stat"><div class="value" id="{stat_id}">{e(value)}</div>'
            f'<div class="label">{e(label)}</div></div>')


def render_html(data: ReportData) -> str:
    """The whole page as one string: CSS, plotly.js, figures, tables and a filter box."""
    period = (f"{data.first_day} – {data.last_day}" if data.first_day else "no events yet")
    since = f" since {data.since}" if data.since else ""
    has_events = data.n_events > 0
    charts = ""
    if has_events:
        charts = (
            '<section><h2>Timeline of events by type</h2><div class="chart">'
            + _figure_html(timeline_figure(data), "timeline") + "</div></section>"
            + '<section><h2>Most active actors</h2><div class="chart">'
            + _figure_html(actors_figure(data), "actors") + "</div></section>"
        )
    counts = "".join(f'<li>{_badge(t)} <b data-type="{e(t)}">{n:,}</b></li>'
                     for t, n in data.by_type)
    truncated = (f'<p class="note">Showing the latest {len(data.events):,} of {data.n_events:,} '
                 "events; narrow with <code>--since</code>, or use <code>muster events</code>.</p>"
                 if data.events_truncated else "")
    source_note = ("" if data.source_path == data.db_path else
                   f" (read from the snapshot <code>{e(data.source_path)}</code>)")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="muster report">
<title>Muster report{e(since)}</title>
<style>{_CSS}</style>
<script>{get_plotlyjs()}</script>
</head><body><main>
<header><h1>Muster report{e(since)}</h1>
<p class="meta">Database <code>{e(data.db_path)}</code>{source_note} · generated
{e(data.generated_at.isoformat())} UTC · days are article publication days</p></header>
<section class="stats">{_stat("n-events", f"{data.n_events:,}", "events")}
{_stat("n-articles", f"{data.n_articles:,}", "articles with events")}
{_stat("n-actors", f"{data.n_actors:,}", "actor states")}
{_stat("period", period, "period")}</section>
<section><ul class="types" id="by-type">{counts}</ul></section>
{charts}
<section><h2>Latest deployments</h2>{deployments_table(data)}</section>
<section><h2>Latest weapons unveilings and tests</h2>{weapons_table(data)}</section>
<section><h2>Every event, with its evidence</h2>
<input id="filter" type="search" placeholder="Filter events: type, actor, place, words…"
 aria-label="Filter events">
{truncated}{events_table(data)}</section>
<footer>Made by <code>muster report</code>. Ask more with <code>muster events --help</code> or
<code>muster sql "SELECT …"</code>.</footer>
</main><script>{_FILTER_JS}</script></body></html>
"""


_CSS = """
:root { color-scheme: light; --fg:#1d2330; --muted:#5b6475; --line:#e3e6ec; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--fg); background:#f5f6f8; }
main { max-width:1200px; margin:0 auto; padding:24px; }
h1 { margin:0 0 4px; font-size:24px; } h2 { font-size:17px; margin:0 0 10px; }
.meta, .note, footer { color:var(--muted); } footer { margin:24px 0; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px;
  margin:16px 0; overflow-x:auto; }
.stats { display:flex; gap:32px; flex-wrap:wrap; }
.stat .value { font-size:22px; font-weight:600; } .stat .label { color:var(--muted); }
.types { list-style:none; margin:0; padding:0; display:flex; gap:16px; flex-wrap:wrap; }
.badge { display:inline-block; color:#fff; border-radius:4px; padding:1px 6px; font-size:12px;
  white-space:nowrap; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { position:sticky; top:0; background:#fafbfc; font-weight:600; }
td:first-child { white-space:nowrap; }
.num { white-space:nowrap; font-variant-numeric:tabular-nums; }
a.evidence { color:#1a4fa0; text-decoration:none; } a.evidence:hover { text-decoration:underline; }
abbr { text-decoration:none; border-bottom:1px dotted var(--muted); }
#filter { width:100%; padding:8px; margin:0 0 10px; border:1px solid var(--line); border-radius:6px;
  font:inherit; }
.chart { width:100%; }
"""

_FILTER_JS = """
(function () {
  var box = document.getElementById('filter'), table = document.getElementById('events');
  if (!box || !table) return;
  box.addEventListener('input', function () {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    table.querySelectorAll('tbody tr').forEach(function (row) {
      var text = row.textContent.toLowerCase();
      row.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    });
  });
})();
"""


def summary_json(data: ReportData) -> str:
    """The headline numbers as JSON (for artifacts and scripts)."""
    return json.dumps({"events": data.n_events, "articles": data.n_articles,
                       "by_type": dict(data.by_type)}, default=str)
