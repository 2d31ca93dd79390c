"""Words of other scripts (Cyrillic, Greek, CJK, Indic ...) and numbers.

Other scripts are only NFKC-normalised and casefolded, and kept whole (a run of CJK
ideographs is one token: word segmentation is out of scope for now). Russian ``ё`` is
folded to ``е`` because Russian text usually writes ``е`` for both.

Numbers become ASCII digits (Arabic-Indic and other decimal digits too); thousands
commas are removed when the grouping is exactly thousands (``1,500`` -> ``1500``, so it
matches a typed ``1500``), otherwise separators are kept as written (``3.5``, ``1,5``).
"""

from __future__ import annotations

import re
import unicodedata

from newssearch.analysis._unicode import MARK
from newssearch.analysis.tokenize import JOINERS

_DROP_JOINERS = str.maketrans("", "", JOINERS)
_YO = str.maketrans("ё", "е")
# NFKC can turn a letter into mark + letter (Thai SARA AM -> NIKHAHIT + SARA AA): a mark
# cannot start a token, so a term starting with one would tokenise differently when
# analysed again; dropping it keeps folding stable.
_LEADING_MARKS = re.compile(f"^[{MARK}]+")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def fold_other(token: str) -> str:
    """Fold a token of a script without special rules: NFKC, casefold, no joiners."""
    word = unicodedata.normalize("NFKC", token).casefold()
    word = word.translate(_DROP_JOINERS).translate(_YO)
    return _LEADING_MARKS.sub("", word) if word and not word[0].isalpha() else word


def fold_number(token: str) -> str:
    """Fold a number token to ASCII digits with normalised separators."""
    chars = []
    for ch in token:
        if ch.isdecimal():
            chars.append(str(unicodedata.decimal(ch, 0)))
        elif ch == "\u066b":  # Arabic decimal separator
            chars.append(".")
        elif ch == "\u066c":  # Arabic thousands separator
            chars.append(",")
        else:
            chars.append(ch)
    number = "".join(chars)
    if _THOUSANDS.fullmatch(number):
        number = number.replace(",", "")
    return number
