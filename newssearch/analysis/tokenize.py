"""Split raw text into word tokens, one script per token, with offsets into the original.

Tokenisation runs on the text exactly as given (no normalisation of the whole text), so
match offsets are offsets into the caller's string; each token is normalised on its own
afterwards. One compiled regex does all the work: an alternation of one branch per token
kind, whose character classes are disjoint, so a token never mixes scripts and the kind
of a token is the kind of its first character.

Rules, by kind:

* LATIN, HEBREW, ARABIC, OTHER: a letter, then letters and combining marks of any script
  (so niqqud, tashkeel or a decomposed accent never split a word). Soft hyphen, ZWNJ, ZWJ
  and word joiner may sit between two letters (they are dropped when folding).
* LATIN words may contain apostrophes between letters: ``Mali's``, ``Jama'at``,
  ``O’Brien`` are one token each (folding removes the apostrophe, and a final ``'s``).
* HEBREW words may contain geresh/gershayim (ASCII ``'``/``"``, U+05F3/U+05F4, curly
  quotes) between letters: ``צה"ל``, ``ג'ורג'`` (its trailing geresh is not part of it).
* NUMBER: digits of any script with ``.``/``,`` (and the Arabic separators) between
  digits: ``1,500``, ``3.5``; a ``%`` or currency sign is not part of the token.
* Everything else (spaces, punctuation, hyphens, maqaf, symbols, emoji, controls, lone
  marks, lone surrogates) separates tokens and is never part of one.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from newssearch.analysis._unicode import ARABIC, HEBREW, LATIN, MARK, OTHER

LATIN_SCRIPT: Final = "latin"
HEBREW_SCRIPT: Final = "hebrew"
ARABIC_SCRIPT: Final = "arabic"
OTHER_SCRIPT: Final = "other"
NUMBER: Final = "number"

# Invisible format characters that may occur inside a word (HTML &shy;, Persian ZWNJ,
# Indic ZWJ): splitting there would break one word into two fragments.
JOINERS: Final = "\u00ad\u200c\u200d\u2060"
# Apostrophes inside Latin words, incl. modifier letters used for ayn/hamza ("Jamaʿat").
APOSTROPHES: Final = "'\u2019\u2018\u02bb\u02bc\u02bd\u02be\u02bf"
# Geresh/gershayim as typed in practice: the proper marks, ASCII quotes, curly quotes.
GERESH_MARKS: Final = "'\"\u05f3\u05f4\u2019\u2018\u201d\u201c"
# Decimal/thousands separators allowed between digits (ASCII and Arabic).
NUMBER_SEPARATORS: Final = ".,\u066b\u066c"


def _bmp(charset: str) -> str:
    """The part of a generated set body below U+10000 (drops the \\U ranges)."""
    return re.sub(r"\\U[0-9a-f]{8}(?:-\\U[0-9a-f]{8})?", "", charset)


def _token_re(latin: str, hebrew: str, arabic: str, other: str, mark: str) -> re.Pattern[str]:
    def word(letters: str, inner: str) -> str:
        # letter, letters/marks, then groups of (inner separators, letter, letters/marks)
        return rf"[{letters}][{letters}{mark}]*(?:[{inner}]+[{letters}][{letters}{mark}]*)*"

    joiners = re.escape(JOINERS)
    # The first characters of the branches are disjoint, so their order does not matter.
    return re.compile(
        "|".join(
            (
                word(latin, re.escape(APOSTROPHES) + joiners),
                rf"\d+(?:[{re.escape(NUMBER_SEPARATORS)}]\d+)*",
                word(hebrew, re.escape(GERESH_MARKS) + joiners),
                word(arabic, joiners),
                word(other, joiners),
            )
        )
    )


@functools.lru_cache(maxsize=None)
def full_token_re() -> re.Pattern[str]:
    """The tokeniser: each match is one token (also ``TOKEN_RE``).

    Compiled on first use: its character sets take ~50 ms to compile, and only text with
    characters above U+FFFF needs it (see ``token_re_for``)."""
    return _token_re(LATIN, HEBREW, ARABIC, OTHER, MARK)


def __getattr__(name: str) -> re.Pattern[str]:
    if name == "TOKEN_RE":
        return full_token_re()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# Python's re compiles the BMP part of a set into a fast bitmap but tests characters above
# U+FFFF as a linear list of ranges, for every character tried; this pattern without them
# is about 5x faster and gives identical matches on text without astral characters.
BMP_TOKEN_RE: Final = _token_re(*(_bmp(c) for c in (LATIN, HEBREW, ARABIC, OTHER, MARK)))
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")

# The grammar restricted to ASCII text (no marks, joiners or other scripts there): Latin
# words with inner apostrophes, numbers with inner "." or ",". Possessive (nothing follows
# a token, so no match changes): findall is ~15% faster than BMP_TOKEN_RE's on English news.
try:
    ASCII_TOKEN_RE: Final = re.compile(r"[A-Za-z]++(?:'+[A-Za-z]++)*+|[0-9]++(?:[.,][0-9]++)*+")
except re.error:  # pragma: no cover - possessive quantifiers came with Python 3.11
    ASCII_TOKEN_RE = BMP_TOKEN_RE


def token_re_for(text: str) -> re.Pattern[str]:
    """The fastest pattern that tokenises ``text`` exactly like ``TOKEN_RE``."""
    if text.isascii():
        return ASCII_TOKEN_RE
    if _ASTRAL.search(text) is None:
        return BMP_TOKEN_RE
    return full_token_re()


_FIRST_CHAR_SCRIPT = (
    (re.compile(f"[{LATIN}]"), LATIN_SCRIPT),
    (re.compile(f"[{HEBREW}]"), HEBREW_SCRIPT),
    (re.compile(f"[{ARABIC}]"), ARABIC_SCRIPT),
    (re.compile(r"\d"), NUMBER),
)


def script_of(token: str) -> str:
    """The kind of a token found by ``TOKEN_RE``: one of the ``*_SCRIPT`` names or NUMBER."""
    first = token[:1]
    if first.isascii():  # the common case; an ASCII token start is a letter or a digit
        return NUMBER if first.isdigit() else LATIN_SCRIPT
    for pattern, script in _FIRST_CHAR_SCRIPT:
        if pattern.match(first):
            return script
    return OTHER_SCRIPT
