"""Numbers as news writes them, with the hedge around them.

"as many as 12,000" -> (12000, upper); "about 4,000" -> approx; "at least 156"
-> lower; "5,000-ton" -> 5000 with the unit glued on; "dozens" -> 12 approx
(ACLED's conservative reading of vague counts); "400-odd" -> approx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SMALL = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "a dozen": 12, "a hundred": 100, "a thousand": 1000,
}
_SCALE = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_VAGUE = {
    "tens of thousands": 10000, "hundreds of thousands": 100000, "dozens": 12, "scores": 20,
    "hundreds": 100, "thousands": 1000, "tens": 10, "a dozen": 12,
}

_WORDNUM = r"(?:" + "|".join(sorted((re.escape(k) for k in _SMALL), key=len, reverse=True)) + r")"
_DIGITS = r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?"
_NUM = (rf"(?:{_DIGITS}|{_WORDNUM}(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?)"
        rf"(?:\s+(?:hundred|thousand|million|billion))?")
_QUAL_UPPER = r"as\s+many\s+as|up\s+to|as\s+much\s+as|no\s+more\s+than|a\s+maximum\s+of"
_QUAL_APPROX = (r"about|around|some|nearly|almost|approximately|roughly|an\s+estimated|estimated|"
                r"close\s+to|or\s+so|just\s+under|just\s+over|upwards\s+of")
_QUAL_LOWER = r"at\s+least|more\s+than|over|in\s+excess\s+of|a\s+minimum\s+of|no\s+fewer\s+than|no\s+less\s+than"
_VAGUE_RX = r"tens\s+of\s+thousands|hundreds\s+of\s+thousands|dozens|scores|hundreds|thousands|a\s+dozen"

QUANTITY = re.compile(
    rf"(?<![\w.,-])(?:(?P<qual>{_QUAL_UPPER}|{_QUAL_APPROX}|{_QUAL_LOWER})\s+)?"
    rf"(?:between\s+)?"
    rf"(?:(?P<num>{_NUM})(?:\s*(?:-|to|and)\s*(?P<num2>{_NUM}))?(?P<odd>-odd)?"
    rf"|(?P<vague>{_VAGUE_RX})(?:\s+of)?"
    rf"|(?P<one>an?)(?=\s+(?:[\w-]+\s+){{0,3}}?(?:child|man|woman|boy|girl|soldier|civilian|person|policeman|"
    rf"police\s+officer|journalist|reporter|photographer|cameraman|doctor|nurse|teenager|worker|student|"
    rf"protester|resident|guard|officer|serviceman|pilot|sailor|marine|militant|hostage|commander|leader|"
    rf"official|diplomat|priest|farmer|fisherman|driver|settler|activist|tourist|contractor)\b))"
    rf"(?P<glue>-(?:ton|tonne|strong|man|member))?(?![\w])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    start: int
    end: int
    value: int
    qualifier: str
    glued: str | None  # unit glued with a hyphen: "ton", "strong"


def parse_number(tok: str) -> int | None:
    """'12,000' -> 12000, 'three' -> 3, '1.5 million' -> 1500000, 'twenty-five' -> 25."""
    t = tok.strip().lower().replace(",", "")
    parts = t.split()
    scale = 1
    if len(parts) > 1 and parts[-1] in _SCALE:
        scale = _SCALE[parts[-1]]
        t = " ".join(parts[:-1])
    try:
        return int(round(float(t) * scale))
    except ValueError:
        pass
    if t in _SMALL:
        return _SMALL[t] * scale
    m = re.fullmatch(r"(\w+)[- ](\w+)", t)
    if m and m.group(1) in _SMALL and m.group(2) in _SMALL:
        return (_SMALL[m.group(1)] + _SMALL[m.group(2)]) * scale
    return None


def _qualifier(q: str | None) -> str:
    if not q:
        return "exact"
    q = " ".join(q.lower().split())
    if re.fullmatch(_QUAL_UPPER, q):
        return "upper"
    if re.fullmatch(_QUAL_LOWER, q):
        return "lower"
    return "approx"


def _is_year_or_date(s: str, m: re.Match[str], value: int) -> bool:
    before = s[max(0, m.start() - 12):m.start()].lower()
    after = s[m.end():m.end() + 12].lower()
    raw = m.group("num") or ""
    if re.fullmatch(r"(1[89]|20)\d\d", raw.strip()) and "," not in raw:
        return True
    if re.search(r"(january|february|march|april|may|june|july|august|september|october|november|december|"
                 r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?\s*$", before):
        return True
    if re.match(r"\s*(?:%|percent|per\s+cent|-year|years?\s+old|a\.m|p\.m|o'clock|km|kilomet|mile|"
                r"meters?|metres?|miles|dollars|euros|pounds|\$)", after):
        return True
    return bool(re.search(r"[$€£]\s*$", before))


def find_quantities(s: str) -> list[Quantity]:
    """All counts in a sentence, years/dates/percentages/money left out."""
    out: list[Quantity] = []
    for m in QUANTITY.finditer(s):
        if m.group("one"):
            out.append(Quantity(m.start(), m.end(), 1, "exact", None))
            continue
        if m.group("vague"):
            key = " ".join(m.group("vague").lower().split())
            out.append(Quantity(m.start(), m.end(), _VAGUE[key], "approx", None))
            continue
        v1 = parse_number(m.group("num"))
        if v1 is None or _is_year_or_date(s, m, v1):
            continue
        qual = _qualifier(m.group("qual"))
        value = v1
        if m.group("num2"):
            v2 = parse_number(m.group("num2"))
            if v2 is not None and v2 > v1:
                value, qual = v2, "upper"
        if m.group("odd"):
            qual = "approx"
        glue = m.group("glue")[1:].lower() if m.group("glue") else None
        out.append(Quantity(m.start(), m.end(), value, qual, glue))
    return out
