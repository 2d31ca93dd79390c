"""Best-passage snippets with the matched words marked; engine-free.

The passage is chosen by re-analysing the stored text with the same analysis as the
index, so a match is exactly what the query matched (Goïta marks "Goita", "coups"
marks "coup"). Plain snippets mark with ``[[`` ``]]``; :func:`make_snippet_html`
escapes all article text and marks with ``<mark>``.
"""
from __future__ import annotations

import html
import re
from typing import AbstractSet, Callable, List, Optional, Tuple

from .analysis import find_terms
from .model import SNIPPET_MARK_END, SNIPPET_MARK_START

__all__ = ["make_snippet", "make_snippet_html", "make_snippets", "SNIPPET_WIDTH"]

SNIPPET_WIDTH = 240
"""Target length of a snippet in characters (before marks are added)."""

_SPACES = re.compile(r"\s+")
_ELLIPSIS = "\u2026"


_CHUNK = 800
"""Characters analysed at a time while looking for matches."""
_ENOUGH = 800
"""Once this much is read and something matched, stop: a snippet needs one good window."""
_HINT_AFTER = 400
"""Characters analysed after the hinted match."""
_GIVE_UP = 2400
"""Read no further than this when nothing matched (the match was in the title)."""


def _hint(text: str, terms: AbstractSet[str]) -> int:
    """Where in *text* a query term probably occurs, by a cheap C-level search; -1 if unsure.

    Terms are folded and stemmed ("compani"), surfaces are not ("Companies"), but a
    term minus its last two characters is nearly always a prefix of the lower-cased
    surface. This only guides where to analyse; what gets marked is decided by the
    real analysis, so a wrong hint costs time, never correctness.
    """
    prefixes = [t[: max(3, len(t) - 2)] for t in terms if len(t) >= 3]
    if not prefixes:
        return -1
    low = text.lower()
    if len(low) != len(text):  # a few characters lower-case to two; offsets would drift
        return -1
    found = [i for i in (low.find(p) for p in prefixes) if i != -1]
    return min(found) if found else -1


def _analysed(text: str, start: int, end: int, terms: AbstractSet[str], lang: Optional[str]):
    if end < len(text):  # cut at a space so no word is split
        space = text.rfind(" ", start + (end - start) // 2, end)
        end = space if space != -1 else end
    if start > 0:
        space = text.find(" ", start, start + 40)
        start = space + 1 if space != -1 else start
    # only the words that can match are analysed (most of a window's words are not)
    spans = [(start + s, start + e, t) for s, e, t in find_terms(text[start:end], terms, lang=lang)]
    return spans, end


def _spans(text: str, terms: AbstractSet[str], lang: Optional[str]) -> List[Tuple[int, int, str]]:
    """(start, end, term) of matched words, analysing only as much text as a snippet needs.

    Analysing a whole 3,000-word article for every hit would cost more than the search
    itself. First a cheap hint says where a term probably is and only a window there is
    analysed; failing that, the text is analysed a chunk at a time from the start,
    stopping once every query term was seen, or enough was read and something matched.
    """
    hint = _hint(text, terms)
    if hint != -1:
        # a window twice a snippet's width around the hint: enough to pick the best passage
        spans, _end = _analysed(text, max(0, hint - 100), hint + _HINT_AFTER, terms, lang)
        if spans:
            return spans
    spans = []
    seen: set = set()
    start, n = 0, len(text)
    while start < min(n, _GIVE_UP):
        found, start = _analysed(text, start, min(n, start + _CHUNK), terms, lang)
        spans += found
        seen.update(t for _s, _e, t in found)
        if seen and (len(seen) == len(terms) or start >= _ENOUGH):
            break
    return spans


def _window(text: str, spans: List[Tuple[int, int, str]], width: int) -> Tuple[int, int]:
    """The [start, end) window of about *width* chars holding the most distinct matched terms."""
    if not spans:
        return 0, min(len(text), width)
    best, best_start = -1, spans[0][0]
    j = 0
    for i, (s, _e, _t) in enumerate(spans):
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] - s <= width:
            j += 1
        distinct = len({t for _s, _e, t in spans[i : j + 1]})
        score = distinct * 1000 + (j - i)  # distinct terms first, then total matches
        if score > best:
            best, best_start = score, s
    # open a little before the first match so it reads in context, at a word boundary
    start = max(0, best_start - width // 5)
    sentence = max(text.rfind(". ", start, best_start), text.rfind("\n", start, best_start))
    if sentence != -1:
        start = sentence + 1
    elif start > 0:
        space = text.find(" ", start, best_start)
        start = space + 1 if space != -1 else best_start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start + width // 2, end)
        if space != -1:
            end = space
    return start, end


def _render(
    text: str,
    terms: AbstractSet[str],
    lang: Optional[str],
    width: int,
    esc: Callable[[str], str],
    open_mark: str,
    close_mark: str,
    spans: Optional[List[Tuple[int, int, str]]] = None,
) -> str:
    if not text:
        return ""
    if spans is None:
        spans = _spans(text, terms, lang) if terms else []
    start, end = _window(text, spans, width)
    out: List[str] = []
    pos = start
    for s, e, _t in spans:
        if s < start or e > end:
            continue
        out.append(esc(text[pos:s]))
        out.append(open_mark + esc(text[s:e]) + close_mark)
        pos = e
    out.append(esc(text[pos:end]))
    return _trim("".join(out), text, start, end)


def make_snippet(
    text: str, terms: AbstractSet[str], *, lang: Optional[str] = None, width: int = SNIPPET_WIDTH
) -> str:
    """The passage of *text* (about *width* chars) that holds most of *terms*,
    each matched word wrapped in ``[[`` and ``]]``; the opening of the text when nothing matches.

    *terms* are analysed terms (as :func:`newssearch.analysis.query_terms` returns them).
    """
    return _render(text, terms, lang, width, lambda s: s, SNIPPET_MARK_START, SNIPPET_MARK_END)


def make_snippet_html(
    text: str, terms: AbstractSet[str], *, lang: Optional[str] = None, width: int = SNIPPET_WIDTH
) -> str:
    """Like :func:`make_snippet`, but HTML: all article text escaped, matches in ``<mark>``."""
    return _render(text, terms, lang, width, lambda s: html.escape(s, quote=True), "<mark>", "</mark>")


def make_snippets(
    text: str, terms: AbstractSet[str], *, lang: Optional[str] = None, width: int = SNIPPET_WIDTH
) -> Tuple[str, str]:
    """(:func:`make_snippet`, :func:`make_snippet_html`) of the same passage, analysing *text* once."""
    if not text:
        return "", ""
    # analysis of a long body is most of a snippet's cost: the two forms share it, and the passage
    spans = _spans(text, terms, lang) if terms else []
    start, end = _window(text, spans, width)
    pieces: List[str] = []  # plain text and matched words, alternating, the first plain
    pos = start
    for s, e, _t in spans:
        if s < start or e > end:
            continue
        pieces.append(text[pos:s])
        pieces.append(text[s:e])
        pos = e
    pieces.append(text[pos:end])
    plain = "".join(p if i % 2 == 0 else SNIPPET_MARK_START + p + SNIPPET_MARK_END for i, p in enumerate(pieces))
    marked = "".join(
        html.escape(p, quote=True) if i % 2 == 0 else "<mark>" + html.escape(p, quote=True) + "</mark>"
        for i, p in enumerate(pieces)
    )
    return _trim(plain, text, start, end), _trim(marked, text, start, end)


def _trim(snippet: str, text: str, start: int, end: int) -> str:
    snippet = _SPACES.sub(" ", snippet).strip()
    if start > 0:
        snippet = _ELLIPSIS + snippet
    if end < len(text):
        snippet += _ELLIPSIS
    return snippet
