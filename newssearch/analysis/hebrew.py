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
MAX_PREFIXES = 3
"""Up to this many prefix letters are stripped (ושכש... beyond three is not Hebrew)."""
MIN_BARE = 3
"""A stripped form keeps at least this many letters: with 2, most short words (משה ->
שה, שלום -> לום -> ום) would collide with unrelated two-letter stems. Measured on the
Israeli headlines corpus (benchmarks/analysis_quality.py): 3 keeps recall of the
reference lemmas and cuts unrelated hits compared with 2."""


def hebrew_forms(word: str) -> tuple[str, ...]:
    """``word`` (already folded) and its forms without 1..3 leading prefix letters.

    ``ולנצח`` -> ``(ולנצח, לנצח, נצח)``; ``שוב`` -> ``(שוב,)`` (``וב`` would be too short).
    Index and query both use all forms, so a prefixed word and its bare form share a
    form whichever side carries the prefix, without a dictionary: the letters stripped
    may also belong to the word (``מבזבז`` -> ``בזבז``), which costs some precision and
    is why the full form comes first (the primary term) and the bare length has a floor.
    """
    forms = [word]
    for _ in range(MAX_PREFIXES):
        if len(word) <= MIN_BARE or word[0] not in PREFIX_LETTERS:
            break
        word = word[1:]
        forms.append(word)
    return tuple(forms)
