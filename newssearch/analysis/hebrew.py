"""Hebrew-script words: strip niqqud, cantillation and geresh/gershayim; unify final letters.

``צָהֳרַיִם`` -> ``צהרימ``, ``צה"ל`` / ``צה״ל`` / ``צה''ל`` -> ``צהל``, ``ג'ורג'`` -> ``גורג``.
Gershayim are dropped rather than unified to ASCII ``"`` because people often type the
acronym without them (``צהל``, hashtags), and a quote inside a term would clash with
phrase quotes in query syntax. Final forms map to the regular letters (ך ם ן ף ץ ->
כ מ נ פ צ) so that a word and its prefix or inflected forms share letters.

``hebrew_forms`` adds the prefix-stripped forms of a folded word (see its docstring).
"""

from __future__ import annotations

import re
import unicodedata

# After NFKC (which splits presentation forms like U+FB2A into letter + point), keep the
# Hebrew letters (and Yiddish digraphs U+05F0-U+05F2) and drop everything else the token
# may hold: points, cantillation, geresh marks, joiners.
_NOT_HEBREW_LETTER = re.compile(r"[^\u05d0-\u05ea\u05ef-\u05f2]+")
_FINALS = str.maketrans("ךםןףץ", "כמנפצ")


def fold_hebrew(token: str) -> str:
    """Fold one Hebrew token to bare letters with final forms unified."""
    word = _NOT_HEBREW_LETTER.sub("", unicodedata.normalize("NFKC", token))
    return word.translate(_FINALS)


# The one-letter prefixes (and, the, in, to, from, that, as) that attach to a Hebrew word.
PREFIX_LETTERS = frozenset("\u05d5\u05d4\u05d1\u05dc\u05de\u05e9\u05db")  # ו ה ב ל מ ש כ
# Which prefix letter may follow which, reading from the start of the word: ו comes
# first; ש and כש ("that", "when") before the others; ה (the article) comes last and is
# absorbed after ב ל כ (בבית, not בהבית); מ takes only ה after it. A stripped letter
# outside this order is taken to belong to the word (מבזבז keeps בזבז, not זבז), which
# cut unrelated matches on the Israeli headlines from 48% to 41% at the same recall.
_NEXT_PREFIX = {
    None: frozenset("\u05d5\u05e9\u05db\u05de\u05d1\u05dc\u05d4"),  # ו ש כ מ ב ל ה
    "\u05d5": frozenset("\u05e9\u05db\u05de\u05d1\u05dc\u05d4"),  # ו -> ש כ מ ב ל ה
    "\u05e9": frozenset("\u05de\u05d1\u05dc\u05db\u05d4"),  # ש -> מ ב ל כ ה
    "\u05db": frozenset("\u05e9"),  # כ -> ש
    "\u05de": frozenset("\u05d4"),  # מ -> ה
    "\u05d1": frozenset(),
    "\u05dc": frozenset(),
    "\u05d4": frozenset(),
}
MAX_PREFIXES = 3
"""Up to this many prefix letters are stripped."""
MIN_BARE = 3
"""A stripped form keeps at least this many letters, so short words do not match
everything (שוב is not וב, משה not שה). Measured on the Israeli headlines corpus
(benchmarks/analysis_quality.py), querying the dataset's lemmas: a floor of 2 finds
58.8% with 53% of hits unrelated, 3 finds 57.5% with 41%, 4 finds 53.9% with 32%
but loses three-letter roots (נצח in ולנצח)."""


def hebrew_forms(word: str) -> tuple[str, ...]:
    """``word`` (already folded) and its forms without 1..3 leading prefix letters.

    ``ולנצח`` -> ``(ולנצח, לנצח, נצח)``; ``שוב`` -> ``(שוב,)`` (``וב`` would be too short).
    Index and query both use all forms, so a prefixed word and its bare form share a
    form whichever side carries the prefix, without a dictionary. The letters stripped
    may also belong to the word (``משטרה`` -> ``שטרה``), which costs some precision; a
    document with the exact form matches more of the query's forms and ranks higher.
    """
    forms = [word]
    previous = None
    for _ in range(MAX_PREFIXES):
        first = word[:1]
        if len(word) <= MIN_BARE or first not in _NEXT_PREFIX[previous]:
            break
        previous = first
        word = word[1:]
        forms.append(word)
    return tuple(forms)
