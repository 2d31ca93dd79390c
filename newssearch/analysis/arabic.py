"""Arabic-script words: strip tashkeel and tatweel; unify alef, yeh and teh marbuta.

``مُحَمَّد`` -> ``محمد``, ``العـــربية`` -> ``العربيه``, ``أ إ آ ٱ`` -> ``ا``, ``ى`` -> ``ي``,
``ة`` -> ``ه``. The Persian/Urdu letters yeh (ی), keheh (ک) and heh with yeh (ۀ) map to
their Arabic counterparts too, as Lucene's Arabic/Persian normalisers do, because the
same name is written either way in news copy. No stemming yet.
"""

from __future__ import annotations

import re
import unicodedata

from newssearch.analysis._unicode import ARABIC

_TATWEEL = "\u0640"
_MAP = str.maketrans(
    {
        "\u0623": "\u0627",  # أ
        "\u0625": "\u0627",  # إ
        "\u0622": "\u0627",  # آ
        "\u0671": "\u0627",  # ٱ wasla
        "\u0672": "\u0627",  # ٲ wavy hamza above
        "\u0673": "\u0627",  # ٳ wavy hamza below
        "\u0649": "\u064a",  # ى alef maksura
        "\u06cc": "\u064a",  # ی Farsi yeh
        "\u0629": "\u0647",  # ة teh marbuta
        "\u06c0": "\u0647",  # ۀ heh with yeh above
        "\u06a9": "\u0643",  # ک keheh
        _TATWEEL: None,
    }
)
# Whatever is not an Arabic letter after NFKC is a mark (harakat U+064B-U+065F, superscript
# alef U+0670, Quranic marks), a joiner, or a space from a ligature such as U+FDFA:
# none of it belongs in the term.
_NOT_ARABIC_LETTER = re.compile(f"[^{ARABIC}]+")


def fold_arabic(token: str) -> str:
    """Fold one Arabic-script token to bare, unified letters."""
    word = unicodedata.normalize("NFKC", token).translate(_MAP)
    return _NOT_ARABIC_LETTER.sub("", word)
