"""text -> terms: tokenise, fold per script, stem per (language, script), cache per word.

Words repeat a lot in news, so the folded and stemmed term of each distinct surface
form is computed once and kept in a plain dict per stemming profile; the hot loop in
``analyze`` is then a C-level ``findall``, one ``str.find`` and one dict lookup per token.
"""

from __future__ import annotations

from collections.abc import Callable

from newssearch.analysis.arabic import fold_arabic
from newssearch.analysis.hebrew import fold_hebrew
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

ANALYSIS_VERSION = "1"
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


class _Profile:
    """Term cache for one set of stemmers (one per distinct stemming behaviour)."""

    __slots__ = ("terms", "stemmers")

    def __init__(self, stemmers: dict[str, str]) -> None:
        self.terms: dict[str, str] = {}
        self.stemmers = stemmers

    def compute(self, surface: str) -> str:
        """Fold and stem one token surface, remembering the result."""
        script = script_of(surface)
        term = _FOLDERS[script](surface)
        name = self.stemmers.get(script)
        if term and name:
            term = stem_function(name)(term) or term
        terms = self.terms
        if len(terms) >= _MAX_CACHED_WORDS:
            terms.clear()
        terms[surface] = term
        return term


_profiles: dict[tuple[tuple[str, str], ...], _Profile] = {}
_profile_by_lang: dict[tuple[str | None, bool], _Profile] = {}


def _profile(lang: str | None, stem: bool) -> _Profile:
    found = _profile_by_lang.get((lang, stem))
    if found is not None:
        return found
    names = stemmer_names(language_key(lang)) if stem else {}
    # Languages that stem alike share a cache ("en", "EN-gb", None, "he" ...).
    key = tuple(sorted(names.items()))
    profile = _profiles.get(key)
    if profile is None:
        profile = _profiles[key] = _Profile(names)
    if len(_profile_by_lang) > 1000:  # lang comes from input data: keep it bounded
        _profile_by_lang.clear()
    _profile_by_lang[(lang, stem)] = profile
    return profile


def analyze(text: str, *, lang: str | None = None, stem: bool = True) -> list[Token]:
    """Index-side analysis: ``(term, position, startchar, endchar)`` for each token.

    ``text[startchar:endchar]`` is the token's original surface; positions count the
    tokens that produced a term, 0, 1, 2 ... (hyphenated words take consecutive
    positions, so phrase queries still match). ``lang`` selects stemmers (ISO 639-1
    code, e.g. "de"; None means English for Latin-script words). ``stem=False`` gives
    the folded, unstemmed terms (as ``fold``), for prefix and fuzzy fields.
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
        if term:  # a token made only of droppable characters yields no term
            append((term, pos, start, end))
            pos += 1
    return out


def index_terms(text: str, *, lang: str | None = None) -> list[str]:
    """The terms of ``text`` in order, position i being term i: ``analyze`` without
    offsets, for the indexer's hot path (no tuple per token, no offset search).
    """
    profile = _profile(lang, True)
    get = profile.terms.get
    surfaces = token_re_for(text).findall(text)
    terms = [get(s) for s in surfaces]
    if None in terms:
        compute = profile.compute
        terms = [compute(s) if t is None else t for s, t in zip(surfaces, terms)]
    if "" in terms:  # tokens made only of droppable characters take no position
        terms = [t for t in terms if t]
    return terms


def query_terms(text: str, *, lang: str | None = None, stem: bool = True) -> list[str]:
    """Query-side analysis: the terms of a query word or phrase, in order.

    Exactly the normalisation of ``analyze`` with the same ``lang``, so what the user
    types (with or without accents, niqqud, tashkeel, gershayim) matches what was indexed.
    """
    return [token[0] for token in analyze(text, lang=lang, stem=stem)]


def fold(word: str) -> str:
    """The normalised but unstemmed form of ``word`` (for prefix/fuzzy queries, did-you-mean).

    ``fold("Goïta") == "goita"``; if ``word`` holds several tokens their forms are joined
    by single spaces (``fold("then-Colonel") == "then colonel"``); "" if it holds none.
    """
    return " ".join(query_terms(word, stem=False))
