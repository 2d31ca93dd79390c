"""Latin-script words: case, compatibility and accent folding to plain ASCII.

``Goïta`` -> ``goita``, ``Zürich`` -> ``zurich``, ``straße`` -> ``strasse``,
``Æsir`` -> ``aesir``, ``ﬁnance`` -> ``finance``, ``Mali's`` -> ``mali``,
``Jama'at`` -> ``jamaat``. Stemming happens after this, in ``stem.py``, so a stemmer
always sees the folded form whatever accents the writer or the searcher typed.
"""

from __future__ import annotations

import re
import unicodedata

from unidecode import unidecode

from newssearch.analysis.tokenize import APOSTROPHES, JOINERS

_POSSESSIVE_ENDINGS = tuple(a + "s" for a in APOSTROPHES)
_DROP = str.maketrans("", "", APOSTROPHES + JOINERS)
# unidecode turns a few rare letters into punctuation ("ǂ" -> "|="): keep only what a
# search term can sensibly hold.
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def fold_latin(token: str) -> str:
    """Fold one Latin token to lowercase ASCII letters (may be empty for odd letters)."""
    if token.isalpha() and token.isascii():  # most words of news text: nothing to fold but case
        return token.lower()
    word = unicodedata.normalize("NFKC", token).casefold()
    # English possessive: "Mali's" and "Mali" must be one term; other apostrophes
    # ("Jama'at", "O'Brien", "don't") just vanish, keeping the word whole.
    if word.endswith(_POSSESSIVE_ENDINGS):
        word = word[:-2]
    word = word.translate(_DROP)
    if not word.isascii():
        word = unidecode(word).lower()
    if word.isalnum():  # the common case: skip the regex
        return word
    return _NOT_ALNUM.sub("", word)
