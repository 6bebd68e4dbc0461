"""Text normalisation and sentence splitting that never moves a character.

Every offset the engine reports must point into the caller's original text, so
normalisation is a 1:1 character translation (curly quotes to straight ones,
exotic spaces and dashes to ASCII) and the splitter returns spans, not copies.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

_NORMAL = {
    "\u2019": "'", "\u2018": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ", "\u200a": " ", "\u3000": " ",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-",
    "\t": " ", "\r": "\n", "\u2028": "\n", "\u2029": "\n",
}
# One regex pass that stops only at the few characters to replace: str.translate looked up
# every character in a dict, 12x slower on article text (~0.25 ms of a 5 KB article).
_TO_NORMALISE = re.compile("[" + "".join(map(re.escape, _NORMAL)) + "]")


def normalize(text: str) -> str:
    """Same-length normalised copy of ``text`` (offsets stay valid): typographic quotes,
    dashes and spaces as their ASCII forms, tabs as spaces, other line breaks as newlines."""
    return _TO_NORMALISE.sub(lambda m: _NORMAL[m.group()], text)


@dataclass(frozen=True)
class Sentence:
    """A span of the original text; ``norm`` is its normalised copy."""

    start: int
    end: int
    text: str
    norm: str
    index: int


_ABBREV = {
    "mr", "mrs", "ms", "dr", "gen", "lt", "col", "sgt", "capt", "adm", "maj", "sen", "rep",
    "gov", "st", "jr", "sr", "no", "jan", "feb", "mar", "apr", "aug", "sep", "sept", "oct",
    "nov", "dec", "inc", "co", "corp", "ltd", "vs", "etc", "prof", "rev", "gens", "cmdr",
    "u.s", "u.n", "u.k", "e.u", "a.m", "p.m", "fig", "approx", "dept", "est", "mt", "ft",
}

# end punctuation, optional closing quotes/brackets, whitespace, then something
# that can start a sentence
_BOUNDARY = re.compile(r"[.!?]++[\"')\]]*+(?=\s+[\"'(\[]?[A-Z0-9])")
MAX_SENTENCE = 800  # longer runs (tables, unpunctuated dumps) are cut at spaces to keep work linear
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.*$")


def _is_abbreviation(norm: str, dot_pos: int) -> bool:
    m = _LAST_WORD.search(norm, max(0, dot_pos - 12), dot_pos)
    if not m:
        return False
    word = m.group(1).lower().rstrip(".")
    if word in _ABBREV:
        return True
    # single capital initial ("John F. Kennedy"), but not a sentence-final pronoun "I"
    return len(word) == 1 and norm[dot_pos - 1].isupper() and word != "i"


def _cut_long(norm: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split an over-long span at whitespace (or hard) every ~MAX_SENTENCE chars."""
    out = []
    while end - start > MAX_SENTENCE:
        cut = norm.rfind(" ", start + MAX_SENTENCE // 2, start + MAX_SENTENCE)
        cut = cut if cut > start else start + MAX_SENTENCE
        out.append((start, cut))
        start = cut
    out.append((start, end))
    return out


def split_sentences(text: str, norm: str | None = None) -> list[Sentence]:
    """Split on line breaks and sentence-final punctuation; spans are stripped."""
    norm = normalize(text) if norm is None else norm
    cuts: list[int] = []
    for m in _BOUNDARY.finditer(norm):
        if norm[m.start()] == "." and _is_abbreviation(norm, m.start()):
            continue
        cuts.append(m.end())
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in re.finditer(r"[^\n]+", norm):
        ls, le = line.span()
        inner = cuts[bisect_right(cuts, ls):bisect_left(cuts, le)]
        pos = ls
        for c in [*inner, le]:
            spans.append((pos, c))
            pos = c
    out: list[Sentence] = []
    spans = [piece for span in spans for piece in _cut_long(norm, *span)]
    for s, e in spans:
        while s < e and norm[s].isspace():
            s += 1
        while e > s and norm[e - 1].isspace():
            e -= 1
        if e > s:
            out.append(Sentence(s, e, text[s:e], norm[s:e], len(out)))
    return out


_HEADLINE = re.compile(r"[^\n]{8,250}?(?<![.!?\"\u201d])\n(?=\s*\S)")


def headline_end(text: str) -> int:
    """End of a headline on the text's first line ("Israeli strike kills nine in north Gaza town"
    above its lead), else 0.  A headline names the region where the lead names the town, so its
    events merge with the lead's despite the different place (see merge._compatible)."""
    m = _HEADLINE.match(text)
    return m.end() - 1 if m else 0


_MONTH = re.compile(r"Jan(?:uary)?|Feb(?:ruary)?|March|Apr(?:il)?|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
                    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?")


def proper_name_trigger(s: str, ts: int) -> bool:
    """A capitalised trigger mid-sentence ("Red Dead Redemption", "Attack on Titan") is a name."""
    first = re.match(r"[A-Za-z]+", s[ts:])
    if ts == 0 or not first or not first.group(0).istitle() or re.search(r"[.:\"'\u2014(-]\s*$", s[:ts]) \
            or _MONTH.fullmatch(first.group(0)):  # "the Oct. 7 attacks": a date, not a title
        return False
    words = re.findall(r"[A-Za-z][\w'-]*", s)
    caps = sum(w[0].isupper() for w in words)
    return caps < 0.6 * max(1, len(words))
