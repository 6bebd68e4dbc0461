"""Resolve date expressions against the publication date.

Each expression resolves to ``(date, precision)``; expressions that are finer
than a month but not a day ("last week") or open ranges ("since July") are
still *found* (so they win the nearest-date contest for their trigger) but
resolve to ``None`` as the contract asks.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], 1)}
_MON_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
             "sept": 9, "oct": 10, "nov": 11, "dec": 12}
WEEKDAYS = {d: i for i, d in enumerate(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
SEASON_MONTH = {"spring": 4, "summer": 7, "fall": 10, "autumn": 10, "winter": 1}

_MONTH = (r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|"
          r"December|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)")
_WD = r"(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_SEASON = r"(?P<season>spring|summer|fall|autumn|winter)"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("null", re.compile(r"\b(?:last|this|next|previous|earlier\s+this|later\s+this)\s+(?:week|weekend)\b"
                        r"|\bsince\s+(?:" + _MONTH.replace("?P<month>", "") + r"|\d{4})\b"
                        r"|\b(?:recently|in\s+recent\s+(?:days|weeks|months))\b"
                        r"|\b(?:\w+|\d+)\s+weeks?\s+ago\b", re.I)),
    ("month_rel_year", re.compile(r"\b" + _MONTH + r"\s+(?:of\s+)?(?P<which>last|this|next)\s+year\b")),
    ("year_start", re.compile(r"\b(?:since\s+the\s+(?:start|beginning)\s+of\s+(?:this|the)\s+year"
                              r"|so\s+far\s+this\s+year|earlier\s+this\s+year)\b", re.I)),
    ("rel_year", re.compile(r"\b(?:(?:early|late|mid|earlier|later)[- ])?(?P<which>last|this|next)\s+year\b", re.I)),
    ("rel_season", re.compile(r"\b(?P<which>last|this|next|past)\s+" + _SEASON + r"\b", re.I)),
    ("season_year", re.compile(r"\b(?:the\s+)?" + _SEASON + r"\s+(?:of\s+)?(?P<year>(?:19|20)\d\d)\b", re.I)),
    ("mdy", re.compile(r"\b" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<year>(?:19|20)\d\d))?\b")),
    ("dmy", re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(?P<year>(?:19|20)\d\d))?\b")),
    ("my", re.compile(r"\b" + _MONTH + r",?\s+(?P<year>(?:19|20)\d\d)\b")),
    ("rel_month", re.compile(r"\b(?P<which>last|this|next|earlier\s+this|later\s+this)\s+month\b", re.I)),
    # the cue word may open a sentence ("In October, Beijing denied ..."); the month stays case-sensitive ("may")
    ("month", re.compile(r"\b(?:(?P<which>[Ll]ast|[Tt]his|[Nn]ext|[Ii]n|[Ee]arly|[Ll]ate|[Mm]id-?)\s+)" + _MONTH + r"\b")),
    ("weekday", re.compile(r"\b(?:(?P<which>last|on|this|next|late|early)\s+)?" + _WD
                           + r"(?:\s+(?:night|morning|evening|afternoon))?\b")),
    ("days_ago", re.compile(r"\b(?P<n>\w+)\s+days?\s+ago\b", re.I)),
    ("yesterday", re.compile(r"\b(?:yesterday|today|tonight|this\s+morning|last\s+night)\b", re.I)),
    ("year", re.compile(r"\b(?:in|since|during|of|early|late|mid-?)\s+(?P<year>(?:19|20)\d\d)\b(?!\s*(?:-|to)\s*\d)", re.I)),
    ("year", re.compile(r"\b[Tt]he\s+(?P<year>(?:19|20)\d\d)\s+(?=[A-Za-z])")),
]


@dataclass(frozen=True)
class DateExpr:
    start: int
    end: int
    date: dt.date | None
    precision: str | None


def _month_num(tok: str) -> int:
    t = tok.lower().rstrip(".")
    return MONTHS.get(t) or _MON_ABBR.get(t, 0)


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _resolve(kind: str, m: re.Match[str], pub: dt.date | None) -> tuple[dt.date | None, str | None]:
    g = m.groupdict()
    if kind == "null":
        return None, None
    if kind in ("mdy", "dmy", "my", "season_year") and g.get("year"):
        y = int(g["year"])
        if kind == "season_year":
            return _safe_date(y, SEASON_MONTH[g["season"].lower()], 1), "season"
        if kind == "my":
            return _safe_date(y, _month_num(g["month"]), 1), "month"
        return _safe_date(y, _month_num(g["month"]), int(g["day"])), "day"
    if kind == "year":
        return _safe_date(int(g["year"]), 1, 1), "year"
    if pub is None:
        return None, None
    if kind in ("mdy", "dmy"):
        mon = _month_num(g["month"])
        d = _safe_date(pub.year, mon, int(g["day"]))
        if d and d > pub + dt.timedelta(days=7):
            d = _safe_date(pub.year - 1, mon, int(g["day"]))
        return d, "day"
    if kind == "month_rel_year":  # "in April last year"
        off = {"last": -1, "this": 0, "next": 1}[g["which"].lower()]
        return dt.date(pub.year + off, _month_num(g["month"]), 1), "month"
    if kind == "year_start":
        return dt.date(pub.year, 1, 1), "year"
    if kind == "rel_year":
        off = {"last": -1, "this": 0, "next": 1}[g["which"].lower()]
        return dt.date(pub.year + off, 1, 1), "year"
    if kind == "rel_season":
        mon = SEASON_MONTH[g["season"].lower()]
        which = g["which"].lower()
        cand = dt.date(pub.year, mon, 1)
        in_it = cand <= pub < _add_months(cand, 3)
        if which in ("last", "past"):
            if cand > pub or in_it:
                cand = dt.date(pub.year - 1, mon, 1)
        elif which == "next" and cand <= pub:
            cand = dt.date(pub.year + 1, mon, 1)
        elif which == "this" and cand > _add_months(pub, 9):
            cand = dt.date(pub.year - 1, mon, 1)
        return cand, "season"
    if kind == "rel_month":
        which = g["which"].lower().split()[-1]
        off = {"last": -1, "this": 0, "next": 1}[which]
        return _add_months(dt.date(pub.year, pub.month, 1), off), "month"
    if kind == "month":
        mon = _month_num(g["month"])
        which = (g.get("which") or "").lower()
        y = pub.year
        if which == "next":
            y = pub.year + (1 if mon <= pub.month else 0)
        elif mon > pub.month or (which == "last" and mon == pub.month):
            y = pub.year - 1
        return dt.date(y, mon, 1), "month"
    if kind == "weekday":
        which = (g.get("which") or "").lower()
        if which == "next":
            return None, None
        target = WEEKDAYS[g["wd"].lower()]
        back = (pub.weekday() - target) % 7
        if which == "last" and back == 0:
            back = 7
        return pub - dt.timedelta(days=back), "day"
    if kind == "days_ago":
        n = _small_int(g["n"])
        return (pub - dt.timedelta(days=n), "day") if n is not None else (None, None)
    if kind == "yesterday":
        word = m.group(0).lower()
        off = 1 if word in ("yesterday", "last night") else 0
        return pub - dt.timedelta(days=off), "day"
    return None, None


def _small_int(tok: str) -> int | None:
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    t = tok.lower()
    if t.isdigit():
        return int(t)
    return words.index(t) if t in words else None


def _add_months(d: dt.date, n: int) -> dt.date:
    idx = d.year * 12 + d.month - 1 + n
    return dt.date(idx // 12, idx % 12 + 1, min(d.day, 28))


def find_dates(s: str, pub: dt.date | None) -> list[DateExpr]:
    """Date expressions of a sentence, earliest pattern wins on overlap."""
    taken: list[tuple[int, int]] = []
    out: list[DateExpr] = []
    for kind, rx in PATTERNS:
        for m in rx.finditer(s):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if kind == "month" and m.group("month").lower().rstrip(".") == "may" and not (
                    m.group("which") or "").strip():
                continue
            try:
                d, p = _resolve(kind, m, pub)
            except (ValueError, KeyError, OverflowError):
                d, p = None, None
            taken.append((m.start(), m.end()))
            out.append(DateExpr(m.start(), m.end(), d, p if d else None))
    out.sort(key=lambda e: e.start)
    return out


_DATELINE = re.compile(r"^\s*(?:[A-Z][A-Za-z.'/ -]{1,40},\s+){0,2}" + _MONTH + r"\s+(?P<day>\d{1,2})(?:,\s+(?P<year>(?:19|20)\d\d))?"
                       r"\s*(?:\([A-Za-z .]+\))?\s*[-\u2013\u2014]")


def dateline_date(text: str, pub: dt.date | None) -> dt.date | None:
    """The date of a wire dateline ("BEIRUT, March 7 (Reuters) -"), which the
    contract prefers over the publication date for resolving weekday names."""
    m = _DATELINE.match(text[:200])
    if not m:
        return None
    mon, day = _month_num(m.group("month")), int(m.group("day"))
    if m.group("year"):
        return _safe_date(int(m.group("year")), mon, day)
    if pub is None:
        return None
    d = _safe_date(pub.year, mon, day)
    if d and d > pub + dt.timedelta(days=2):
        d = _safe_date(pub.year - 1, mon, day)
    return d


def as_date(published: object) -> dt.date | None:
    """A publication date from a date, a datetime or an ISO string; None when it is none of them."""
    if published is None:
        return None
    if isinstance(published, dt.datetime):
        return published.date()
    if isinstance(published, dt.date):
        return published
    try:
        return dt.date.fromisoformat(str(published)[:10])
    except ValueError:
        return None
