"""text -> terms: tokenise, fold per script, stem per (language, script), cache per word.

Words repeat a lot in news, so the terms of each distinct surface form are computed once
and kept in a plain dict per stemming profile; the hot loop in ``analyze`` is then a
C-level ``findall``, one ``str.find`` and one dict lookup per token.

A token may give several terms at one position (alternatives, like synonyms): a Hebrew
word and its prefix-stripped forms, an Arabic light stem and the word without its
article. Index and query side both get them, so matching needs no dictionary and
phrases still work. Latin and Cyrillic words keep one stem; the query side tries the
stemmers of every language the index holds (``query_alternatives``).
The cache holds a ``str`` for the common one-term case and a tuple otherwise.
"""

from __future__ import annotations

import functools
import re

from collections.abc import Callable

import itertools
from collections.abc import Iterable

from newssearch.analysis.arabic import arabic_forms, fold_arabic
from newssearch.analysis.hebrew import fold_hebrew, hebrew_forms
from newssearch.analysis.latin import fold_latin
from newssearch.analysis.other import fold_number, fold_other
from newssearch.analysis.stem import language_key, stem_function, stemmer_names
from newssearch.analysis.tokenize import (
    ARABIC_SCRIPT,
    HEBREW_SCRIPT,
    LATIN_SCRIPT,
    NUMBER,
    OTHER_SCRIPT,
    script_of,
    token_re_for,
)

ANALYSIS_VERSION = "2"
"""Bumped whenever the terms produced for the same text change; stored in the index."""

Token = tuple[str, int, int, int]
"""(term, position, startchar, endchar); offsets index the original text."""


_FOLDERS: dict[str, Callable[[str], str]] = {
    LATIN_SCRIPT: fold_latin,
    HEBREW_SCRIPT: fold_hebrew,
    ARABIC_SCRIPT: fold_arabic,
    OTHER_SCRIPT: fold_other,
    NUMBER: fold_number,
}

# Bounds memory (roughly 200 bytes an entry); when full the cache restarts empty,
# which is cheaper per token than LRU bookkeeping and loses little on news text.
_MAX_CACHED_WORDS = 200_000


def _plain_single(result: str | tuple[str, ...]) -> str | None:
    """*result* when it is one plain term (non-empty, printable, no space: so no whitespace
    at all), else None."""
    if result.__class__ is str and result and " " not in result and result.isprintable():
        return result  # type: ignore[return-value]
    return None


class _Single(dict):
    """A profile's surface -> its one term when plain (see ``_plain_single``), else None
    (several terms, none, or an odd one); a surface not seen before is computed (and
    cached) on lookup."""

    __slots__ = ("profile",)

    def __init__(self, profile: "_Profile") -> None:
        super().__init__()
        self.profile = profile

    def __missing__(self, surface: str) -> str | None:
        result = self.profile.terms.get(surface)
        if result is None:
            result = self.profile.compute(surface)
        return _plain_single(result)


class _Profile:
    """Term cache for one set of stemmers (one per distinct stemming behaviour)."""

    __slots__ = ("terms", "single", "stemmers", "stem")

    def __init__(self, stemmers: dict[str, str], stem: bool) -> None:
        self.terms: dict[str, str | tuple[str, ...]] = {}
        self.single = _Single(self)
        """``terms`` again, a plain one-term entry as its term, any other as None: a text
        whose tokens all give a term here is already what ``index_terms_words`` returns,
        with no check of each term's type. Filled and cleared with ``terms``."""
        self.stemmers = stemmers
        self.stem = stem

    def forms(self, surface: str) -> tuple[str, ...]:
        """All terms of one token surface, the primary (query_terms) one first."""
        script = script_of(surface)
        term = _FOLDERS[script](surface)
        if not term or not self.stem:
            return (term,) if term else ()
        if script == HEBREW_SCRIPT:
            return hebrew_forms(term)
        if script == ARABIC_SCRIPT:
            return arabic_forms(term)
        name = self.stemmers.get(script)
        if not name:
            return (term,)
        return (stem_function(name)(term) or term,)

    def compute(self, surface: str) -> str | tuple[str, ...]:
        """Fold and stem one token surface, remembering the result."""
        forms = self.forms(surface)
        result: str | tuple[str, ...] = forms if len(forms) > 1 else (forms[0] if forms else "")
        terms = self.terms
        if len(terms) >= _MAX_CACHED_WORDS:
            terms.clear()
            self.single.clear()
        terms[surface] = result
        self.single[surface] = _plain_single(result)
        return result


_profiles: dict[tuple, _Profile] = {}
_profile_by_lang: dict[tuple[str | None, bool], _Profile] = {}


def _profile(lang: str | None, stem: bool) -> _Profile:
    found = _profile_by_lang.get((lang, stem))
    if found is not None:
        return found
    names = stemmer_names(language_key(lang)) if stem else {}
    # Languages that stem alike share a cache ("en", "EN-gb", None, "he" ...).
    key = (stem, *sorted(names.items()))
    profile = _profiles.get(key)
    if profile is None:
        profile = _profiles[key] = _Profile(names, stem)
    if len(_profile_by_lang) > 1000:  # lang comes from input data: keep it bounded
        _profile_by_lang.clear()
    _profile_by_lang[(lang, stem)] = profile
    return profile


def analyze(text: str, *, lang: str | None = None, stem: bool = True) -> list[Token]:
    """Index-side analysis: ``(term, position, startchar, endchar)`` for each token.

    ``text[startchar:endchar]`` is the token's original surface; positions count the
    tokens that produced a term, 0, 1, 2 ... (hyphenated words take consecutive
    positions, so phrase queries still match). A token may give several terms at the
    same position (see the module docstring); the first is the one ``query_terms``
    gives. ``lang`` selects stemmers (ISO 639-1 code, e.g. "de"; None means English for
    Latin-script words; Hebrew and Arabic words get their forms whatever ``lang`` is,
    so a Hebrew quote in an English article is found too). ``stem=False`` gives the
    folded, unstemmed terms only (as ``fold``), one per token.
    """
    profile = _profile(lang, stem)
    get = profile.terms.get
    compute = profile.compute
    out: list[Token] = []
    append = out.append
    find = text.find
    pos = end = 0
    # findall + str.find beats finditer's match objects by ~25%. find is exact: a token
    # begins with a character that starts a match, so the surface cannot occur earlier in
    # the gap the regex skipped since the previous token.
    for surface in token_re_for(text).findall(text):
        start = find(surface, end)
        end = start + len(surface)
        term = get(surface)
        if term is None:
            term = compute(surface)
        if term.__class__ is str:
            if term:  # a token made only of droppable characters yields no term
                append((term, pos, start, end))
                pos += 1
        else:
            for alternative in term:
                append((alternative, pos, start, end))
            pos += 1
    return out


def find_terms(text: str, terms: "frozenset[str] | set[str]", *, lang: str | None = None) -> list[tuple[int, int, str]]:
    """``(startchar, endchar, term)`` of the tokens of *text* that give one of *terms*.

    What ``analyze`` would say, without analysing every token: a token starting with an
    ASCII letter or digit that no term starts with cannot give one (folding and stemming
    keep that first character, lower-cased), so it is skipped unanalysed; every other
    token is analysed. A token with several terms is reported once, with the
    first of its terms found in *terms*. For snippets, where few words match.
    """
    profile = _profile(lang, True)
    get = profile.terms.get
    compute = profile.compute
    heads = frozenset(t[:1] for t in terms)
    skip = _SKIP.get(heads)
    if skip is None:
        # ASCII letters and digits no term starts with, in either case: tokens starting so are skipped
        if len(_SKIP) > 1000:
            _SKIP.clear()
        skip = _SKIP[heads] = frozenset(c for c in _ASCII_ALNUM if c.lower() not in heads)
    out: list[tuple[int, int, str]] = []
    wanted = heads & _ASCII_HEADS
    if text.isascii() and len(wanted) <= _MAX_ASCII_PASSES:
        # a C-level pass per first letter: match objects only for the words starting with it
        found = [m.span(1) for h in wanted for m in _ascii_finder(h).finditer(text) if m.lastindex]
        if len(wanted) > 1:
            found.sort()
    else:
        found = [m.span() for m in token_re_for(text).finditer(text) if m.group()[0] not in skip]
    for start, end in found:
        surface = text[start:end]
        term = get(surface)
        if term is None:
            term = compute(surface)
        if term.__class__ is str:
            if term in terms:
                out.append((start, end, term))
        else:
            for alternative in term:
                if alternative in terms:
                    out.append((start, end, alternative))
                    break
    return out


def token_terms(surface: str, *, lang: str | None = None) -> tuple[str, ...]:
    """The terms ``analyze(surface, lang=lang)`` gives when *surface* is one whole token (a
    word or number as the tokeniser finds it), in order; from the same cache.

    For callers that find the tokens themselves (snippets): a known word is one dict lookup.
    """
    profile = _profile(lang, True)
    term = profile.terms.get(surface)
    if term is None:
        term = profile.compute(surface)
    if term.__class__ is str:
        return (term,) if term else ()
    return term


# The tokeniser's grammar restricted to ASCII text (no marks, joiners or other scripts there):
# Latin words with inner apostrophes, and numbers with inner "." or ",".
ASCII_WORD = "[A-Za-z]+(?:'+[A-Za-z]+)*"
ASCII_NUMBER = "[0-9]+(?:[.,][0-9]+)*"
_ASCII_HEADS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_MAX_ASCII_PASSES = 3
"""Past this many distinct first letters in the terms, one pass over every token is cheaper."""


@functools.lru_cache(maxsize=None)
def _ascii_finder(head: str) -> "re.Pattern[str]":
    """For ASCII text: matches a run of separators and tokens not starting with *head* (either
    case), or (group 1) one token that does.

    Runs are consumed whole by the regex engine, so only the tokens worth analysing cost a
    match object. Token boundaries are those of ``token_re_for`` (tests check it). One
    pattern per first character (36 at most), so no query compiles a regex.
    """
    letters = "".join(c for c in "abcdefghijklmnopqrstuvwxyz" if c != head)
    digits = "".join(c for c in "0123456789" if c != head)
    runs = [f"[{letters}{letters.upper()}][A-Za-z]*(?:'+[A-Za-z]+)*", f"[{digits}][0-9]*(?:[.,][0-9]+)*", "[^A-Za-z0-9]"]
    return re.compile(f"(?:{'|'.join(runs)})+|({ASCII_WORD}|{ASCII_NUMBER})")


_ASCII_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_SKIP: dict[frozenset[str], frozenset[str]] = {}


def index_terms(text: str, *, lang: str | None = None) -> tuple[list[str], list[int] | None]:
    """``analyze`` without offsets, for the indexer's hot path: (terms, positions).

    *positions* is None when term i sits at position i (every token gave one term, the
    common case), else the position of each term (a word with several forms gives them
    all at its position). No tuple per token, no offset search.
    """
    terms, positions, _words, _plain = index_terms_checked(text, lang=lang)
    return terms, positions


def index_terms_words(text: str, *, lang: str | None = None) -> tuple[list[str], list[int] | None, list[str]]:
    """``index_terms`` plus the surface of every token, in order, from the same regex pass.

    The indexer hands the surfaces to :func:`newssearch.dedupe.signature_of_words`, so the
    near-duplicate sketch costs no second tokenisation of the text.
    """
    terms, positions, surfaces, _plain = index_terms_checked(text, lang=lang)
    return terms, positions, surfaces


def index_terms_checked(text: str, *, lang: str | None = None) -> tuple[list[str], list[int] | None, list[str], bool]:
    """``index_terms_words`` and whether every term is known to be plain: printable,
    without whitespace (True only in the common case; False says nothing)."""
    profile = _profile(lang, True)
    surfaces = token_re_for(text).findall(text)
    # the common case: each token gives one plain term (a new token is analysed on lookup)
    terms = list(map(profile.single.__getitem__, surfaces))
    if None not in terms:
        return terms, None, surfaces, True
    # a token gives several terms, none, or one that is not plain
    terms = list(map(profile.terms.get, surfaces))
    if None in terms:  # the cache was cleared meanwhile (it was full)
        compute = profile.compute
        terms = [compute(s) if t is None else t for s, t in zip(surfaces, terms)]
    if tuple not in set(map(type, terms)):
        if "" in terms:  # tokens made only of droppable characters take no position
            terms = [t for t in terms if t]
        return terms, None, surfaces, False
    flat: list[str] = []
    positions: list[int] = []
    pos = 0
    for term in terms:
        if term.__class__ is str:
            if term:
                flat.append(term)
                positions.append(pos)
                pos += 1
        else:
            flat.extend(term)
            positions.extend([pos] * len(term))
            pos += 1
    return flat, positions, surfaces, False


def query_terms(text: str, *, lang: str | None = None, stem: bool = True) -> list[str]:
    """Query-side analysis: the primary term of each query word, in order.

    Exactly the normalisation of ``analyze`` with the same ``lang``, so what the user
    types (with or without accents, niqqud, tashkeel, gershayim) matches what was indexed.
    A query should match any of ``query_alternatives``; this is its first column.
    """
    profile = _profile(lang, stem)
    out: list[str] = []
    for surface in token_re_for(text).findall(text):
        forms = profile.forms(surface)
        if forms:
            out.append(forms[0])
    return out


def query_alternatives(
    text: str, *, lang: str | None = None, langs: Iterable[str | None] | None = ()
) -> list[tuple[str, ...]]:
    """Query-side analysis: for each query word, the terms any of which may match it.

    The union of the word's index-side terms under ``lang`` and under each language of
    ``langs`` (pass the languages the index holds): a query that names no language then
    also tries the German stem of a word, so ``Straßenbahn`` finds German articles with
    ``Straßenbahnen``. Expanding the query this way, rather than indexing each word's
    unstemmed form beside its stem, keeps indexing fast: the folded form added 36% more
    postings to German news. Hebrew words give all their prefix-stripped forms (``לנצח``
    finds ``ולנצח`` and ``נצח``), Arabic words their light stem and their form without
    the article. The first term of each word is ``query_terms``'s.
    """
    main = _profile(lang, True)
    others = [p for p in dict.fromkeys(_profile(other, True) for other in langs or ()) if p is not main]
    out: list[tuple[str, ...]] = []
    for surface in token_re_for(text).findall(text):
        forms = main.forms(surface)
        if not forms:
            continue
        if others:
            forms = tuple(dict.fromkeys(itertools.chain(forms, *(p.forms(surface) for p in others))))
        out.append(forms)
    return out


def fold(word: str) -> str:
    """The normalised but unstemmed form of ``word`` (for prefix/fuzzy queries, did-you-mean).

    ``fold("Goïta") == "goita"``; if ``word`` holds several tokens their forms are joined
    by single spaces (``fold("then-Colonel") == "then colonel"``); "" if it holds none.
    """
    return " ".join(query_terms(word, stem=False))
