"""Hebrew-script words: strip niqqud, cantillation and geresh/gershayim; unify final letters.

``צָהֳרַיִם`` -> ``צהרימ``, ``צה"ל`` / ``צה״ל`` / ``צה''ל`` -> ``צהל``, ``ג'ורג'`` -> ``גורג``.
Gershayim are dropped rather than unified to ASCII ``"`` because people often type the
acronym without them (``צהל``, hashtags), and a quote inside a term would clash with
phrase quotes in query syntax. Final forms map to the regular letters (ך ם ן ף ץ ->
כ מ נ פ צ) so that a word and its prefix or inflected forms share letters.
No stemming here yet (prefix handling belongs to a later stage).
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
