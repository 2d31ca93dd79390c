"""Best-passage snippets with the matched words marked; engine-free.

The passage is chosen by re-analysing the stored text with the same analysis as the
index, so a match is exactly what the query matched (Goïta marks "Goita", "coups"
marks "coup"). Plain snippets mark with ``[[`` ``]]``; :func:`make_snippet_html`
escapes all article text and marks with ``<mark>``.
"""
from __future__ import annotations

import functools
import heapq
import html
import operator
import re
import unicodedata
from typing import AbstractSet, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from .analysis import find_terms, token_terms
from .analysis.arabic import fold_arabic
from .analysis.hebrew import fold_hebrew
from .model import SNIPPET_MARK_END, SNIPPET_MARK_START

__all__ = ["make_snippet", "make_snippet_html", "make_snippets", "SNIPPET_WIDTH"]

SNIPPET_WIDTH = 240
"""Target length of a snippet in characters (before marks are added)."""

_ELLIPSIS = "\u2026"


_CHUNK = 800
"""Characters analysed at a time while looking for matches."""
_ENOUGH = 800
"""Once this much is read and something matched, stop: a snippet needs one good window."""
_HINT_AFTER = 400
"""Characters analysed after the hinted match."""
_GIVE_UP = 2400
"""Read no further than this when nothing matched (the match was in the title)."""


# what may sit inside a word between the letters a term is made of: quote marks (gershayim
# in צה"ל, an apostrophe), Latin combining accents, Hebrew points (niqqud), Arabic harakat
_INSIDE = "[\"'\u05f3\u05f4\u2019\u0300-\u036f\u0591-\u05c7\u064b-\u065f\u0670]*"
_FOLDS: Dict[str, str] = {}


def _fold_char(ch: str) -> str:
    """*ch* as one folded character (ï -> i, Arabic and Hebrew letter forms unified), else itself."""
    if ch not in _FOLDS:
        folded = ch
        if "\u0600" <= ch <= "\u06ff":
            folded = fold_arabic(ch)
        elif "\u05d0" <= ch <= "\u05ea":
            folded = fold_hebrew(ch)
        else:
            base = unicodedata.normalize("NFD", ch)[:1]
            folded = base if base.isalpha() else ch
        _FOLDS[ch] = folded if len(folded) == 1 else ch
    return _FOLDS[ch]


def _hints(text: str, terms: AbstractSet[str], low: str) -> Optional[List[Iterator[int]]]:
    """Where in *text* query terms probably occur, by cheap C-level searches: passes of
    positions, each in order; None when the searches cannot say (no term long enough,
    offsets that would drift).

    Terms are folded and stemmed ("compani"), surfaces are not ("Companies"), but a
    term minus its last two characters is nearly always a prefix of the folded surface.
    The first pass looks for those prefixes in the lower-cased text (``str.find``, the
    fast path); a second, for text with other letters, folds accents and letter forms and
    allows niqqud and gershayim between letters (Goïta, צה"ל). This only guides where to
    analyse; what gets marked is decided by the real analysis, so a wrong hint (a prefix
    inside "organising" for "gantz") costs time, never a match. *low* is ``text.lower()``.
    """
    prefixes = _prefixes(terms if isinstance(terms, frozenset) else frozenset(terms))
    if not prefixes:
        return None
    if len(low) != len(text):  # a few characters lower-case to two; offsets would drift
        return None
    passes: List[Iterator[int]] = [_occurrences(low, prefixes)]
    if not low.isascii():
        passes.append(_folded_occurrences(low, prefixes))
    return passes


@functools.lru_cache(maxsize=256)
def _prefixes(terms: "frozenset[str]") -> Tuple[str, ...]:
    """What :func:`_hints` looks for: each term but its last two characters (three at least), longest first."""
    return tuple(sorted({t[: max(3, len(t) - 2)] for t in terms if len(t) >= 2}, key=len, reverse=True))


def _occurrences(low: str, prefixes: Tuple[str, ...]) -> Iterator[int]:
    """Every position of any of *prefixes* in *low*, in order (merged ``str.find`` scans)."""
    heap = [(i, p) for p in prefixes if (i := low.find(p)) != -1]
    heapq.heapify(heap)
    while heap:
        i, p = heap[0]
        yield i
        nxt = low.find(p, i + 1)
        if nxt == -1:
            heapq.heappop(heap)
        else:
            heapq.heapreplace(heap, (nxt, p))


def _folded_occurrences(low: str, prefixes: Tuple[str, ...]) -> Iterator[int]:
    """The second pass, lazily: folding costs more than the plain scan, so it only runs
    when that found no real match."""
    for m in _pattern(prefixes).finditer(_folded(low)):
        yield m.start()


@functools.lru_cache(maxsize=256)
def _pattern(prefixes: Tuple[str, ...]) -> "re.Pattern[str]":
    return re.compile("|".join(_INSIDE.join(map(re.escape, p)) for p in prefixes))


def _folded(low: str) -> str:
    """*low* with every letter folded to one character (same length, same offsets)."""
    return low.translate({ord(ch): _fold_char(ch) for ch in set(low) if ord(ch) > 127})


# the terms of each ASCII word surface, per language, for _Finder: a new dict when one is
# full, all dropped past _MAX_LANGS languages (lang comes from the data)
_FORMS: Dict[Optional[str], Dict[str, Tuple[str, ...]]] = {}
_MAX_CACHED_WORDS = 100_000
_MAX_LANGS = 20


def _find(text: str, terms: AbstractSet[str], lang: Optional[str]) -> List[Tuple[int, int, str]]:
    """``find_terms(text, terms, lang=lang)``, the same list, at a fraction of its cost on
    ASCII text (nearly all news text); other text goes to ``find_terms``."""
    return _Finder(terms, lang)(text)


class _Finder:
    """``find_terms(text, terms, lang=lang)`` for the pieces of a page's articles, its set-up
    done once (see :func:`_finder`).

    ``find_terms`` analyses the tokens whose first character, lower-cased, some term starts
    with; on ASCII text this finds the same tokens with a regex per such character that
    only stops there (:func:`_head_finder`), and remembers each word's terms.
    """

    __slots__ = ("terms", "lang", "passes", "forms_of")

    def __init__(self, terms: AbstractSet[str], lang: Optional[str]) -> None:
        self.terms = terms
        self.lang = lang
        self.passes = _passes(frozenset(t[:1] for t in terms))
        forms_of = _FORMS.get(lang)
        if forms_of is None or len(forms_of) >= _MAX_CACHED_WORDS:
            if len(_FORMS) >= _MAX_LANGS:
                _FORMS.clear()
                _FINDERS.clear()  # nor do kept finders hold on to the dropped caches
            forms_of = _FORMS[lang] = {}
        self.forms_of = forms_of

    def __call__(self, text: str, offset: int = 0, low: Optional[str] = None) -> List[Tuple[int, int, str]]:
        """The matches in *text*, their offsets plus *offset*; *low* is ``text.lower()`` if known."""
        if not text.isascii():
            found = find_terms(text, self.terms, lang=self.lang)
            return [(s + offset, e + offset, t) for s, e, t in found] if offset else found
        passes = self.passes
        if low is None:
            low = text.lower()  # same offsets (ASCII); a literal first character is found fastest
        if len(passes) == 1:
            spans: Iterable[Tuple[int, int]] = map(_SPAN, passes[0](low))
        elif passes:  # a pass per first character, merged (no two passes stop at the same place)
            spans = sorted(m.span() for finditer in passes for m in finditer(low))
        else:
            return []
        terms = self.terms
        forms_of = self.forms_of
        out: List[Tuple[int, int, str]] = []
        for start, end in spans:
            if start and low[start - 1] == "'" and low[start].isalpha():
                # "s" in "Mali's": the finder cannot see past the apostrophes, the tokeniser can
                j = start - 1
                while j and low[j - 1] == "'":
                    j -= 1
                if j and low[j - 1].isalpha():
                    continue
            surface = text[start:end]
            forms = forms_of.get(surface)
            if forms is None:
                forms = forms_of[surface] = token_terms(surface, lang=self.lang)
            for form in forms:
                if form in terms:
                    out.append((start + offset, end + offset, form))
                    break
        return out


_FINDERS: Dict[Tuple["frozenset[str]", Optional[str]], _Finder] = {}


def _finder(terms: "frozenset[str]", lang: Optional[str]) -> _Finder:
    """The :class:`_Finder` of *terms* and *lang*, kept for the other hits of a page."""
    found = _FINDERS.get((terms, lang))
    if found is None or len(found.forms_of) >= _MAX_CACHED_WORDS:
        if len(_FINDERS) >= 256:
            _FINDERS.clear()
        found = _FINDERS[terms, lang] = _Finder(terms, lang)
    return found


@functools.lru_cache(maxsize=1024)
def _passes(heads: "frozenset[str]") -> "Tuple[Callable[[str], Iterator[re.Match[str]]], ...]":
    """The ``finditer`` of :func:`_head_finder` for each ASCII letter or digit in *heads*."""
    return tuple(_head_finder(h).finditer for h in sorted(heads & _ASCII_HEADS))


_ASCII_HEADS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_SPAN = operator.methodcaller("span")


@functools.lru_cache(maxsize=None)
def _head_finder(head: str) -> "re.Pattern[str]":
    """On lower-cased ASCII text: each token (as the tokeniser splits it) starting with
    *head*; and, after an apostrophe, a letter that only continues a word ("s" in "mali's"),
    which the caller drops. One pattern per letter or digit (36 at most), so no query
    compiles a regex.

    A literal first character is what the regex engine scans for fastest; the look-behind
    after it drops the letters inside words and the digits inside numbers ("5" in "1.5").
    """
    if head.isdigit():
        return re.compile(f"{head}(?<![0-9]{head})(?<![0-9][.,]{head})[0-9]*(?:[.,][0-9]+)*")
    return re.compile(f"{head}(?<![a-z]{head})[a-z]*(?:'+[a-z]+)*")


def _word_at(text: str, i: int) -> Tuple[int, int]:
    """[start, end) of the whitespace-delimited word holding position *i* of *text*."""
    start = max(text.rfind(" ", 0, i), text.rfind("\n", 0, i)) + 1
    ends = [e for e in (text.find(" ", i), text.find("\n", i)) if e != -1]
    return start, min(ends) if ends else len(text)


def _analysed(text: str, start: int, end: int, find: _Finder, low: Optional[str]):
    if end < len(text):  # cut at a space so no word is split
        space = text.rfind(" ", start + (end - start) // 2, end)
        end = space if space != -1 else end
    if start > 0:
        space = text.find(" ", start, start + 40)
        start = space + 1 if space != -1 else start
    # only the words that can match are analysed (most of a window's words are not)
    return find(text[start:end], start, low and low[start:end]), end


def _spans(text: str, terms: AbstractSet[str], lang: Optional[str]) -> List[Tuple[int, int, str]]:
    """(start, end, term) of matched words, analysing only as much text as a snippet needs.

    Analysing a whole 3,000-word article for every hit would cost more than the search
    itself. First a cheap hint says where a term probably is and only a window there is
    analysed; failing that, the text is analysed a chunk at a time from the start,
    stopping once every query term was seen, or enough was read and something matched.
    """
    terms = frozenset(terms)
    find = _finder(terms, lang)
    low: Optional[str] = text.lower()
    hinted = _hints(text, terms, low)
    if len(low) != len(text):  # a few characters lower-case to two: its slices are no help
        low = None
    checked = set()  # words already analysed, by their start
    for hints in hinted or ():
        for hint in hints:  # every likely place in turn, until one holds a real match
            start, end = _word_at(text, hint)
            if start in checked:
                continue
            checked.add(start)
            if not find(text[start:end], 0, low and low[start:end]):
                continue  # a prefix inside another word: one word analysed, not a window
            # a window twice a snippet's width around the match: enough to pick the best passage
            spans, _end = _analysed(text, max(0, hint - 100), hint + _HINT_AFTER, find, low)
            if spans:
                return spans
    spans = []
    seen: set = set()
    start, n = 0, len(text)
    while start < min(n, _GIVE_UP):
        found, start = _analysed(text, start, min(n, start + _CHUNK), find, low)
        spans += found
        seen.update(t for _s, _e, t in found)
        if seen and (len(seen) == len(terms) or start >= _ENOUGH):
            break
    return spans


def _window(text: str, spans: List[Tuple[int, int, str]], width: int) -> Tuple[int, int]:
    """The [start, end) window of about *width* chars holding the most distinct matched terms."""
    if not spans:
        return 0, min(len(text), width)
    best_start = spans[0][0]
    n = len(spans)
    if n > 1:
        best = -1
        terms = [t for _s, _e, t in spans]
        one_term = len(set(terms)) == 1
        j = 0
        for i, (s, _e, _t) in enumerate(spans):
            if j < i:
                j = i
            while j + 1 < n and spans[j + 1][1] - s <= width:
                j += 1
            distinct = 1 if one_term else len(set(terms[i : j + 1]))
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
    # text, open mark, matched word, close mark, text, ... text
    parts: List[str] = []
    pos = start
    for s, e, _t in spans:
        if s < start or e > end:
            continue
        parts += (text[pos:s], SNIPPET_MARK_START, text[s:e], SNIPPET_MARK_END)
        pos = e
    parts.append(text[pos:end])
    plain = _trim("".join(parts), text, start, end)
    if _SWAP_MARKS and _MARK_CHARS.search(text, start, end) is None:
        # the marks are the only brackets in the plain snippet: escaping it (which leaves
        # whitespace and the marks alone) and swapping the marks gives the HTML snippet
        return plain, html.escape(plain, quote=True).replace(SNIPPET_MARK_START, "<mark>").replace(
            SNIPPET_MARK_END, "</mark>")
    if _TO_ESCAPE.search(text, start, end) is not None:
        parts[::2] = [html.escape(p, quote=True) for p in parts[::2]]  # the text and the words
    marks = len(parts) // 4
    parts[1::4] = ("<mark>",) * marks
    parts[3::4] = ("</mark>",) * marks
    return plain, _trim("".join(parts), text, start, end)


_TO_ESCAPE = re.compile("[&<>\"']")
"""What ``html.escape(s, quote=True)`` changes: a passage without these is its own HTML."""
_MARK_CHARS = re.compile("[" + re.escape("".join(sorted(set(SNIPPET_MARK_START + SNIPPET_MARK_END)))) + "]")
"""Characters of the plain marks."""
_SWAP_MARKS = html.escape(SNIPPET_MARK_START + SNIPPET_MARK_END, quote=True) == SNIPPET_MARK_START + SNIPPET_MARK_END
"""The shortcut needs marks that html.escape leaves alone ("[[" and "]]" are)."""


def _trim(snippet: str, text: str, start: int, end: int) -> str:
    # runs of whitespace to one space, none at the ends: what ``re.sub(r"\s+", " ", s).strip()``
    # gives (str.split and re's \s agree on what is whitespace), at a fifth of its cost
    snippet = " ".join(snippet.split())
    if start > 0:
        snippet = _ELLIPSIS + snippet
    if end < len(text):
        snippet += _ELLIPSIS
    return snippet
