"""Which Snowball stemmer (PyStemmer) applies to a token, by language and script.

A stemmer is chosen per (language, script) pair because one article mixes scripts:
Latin-script names inside Russian text are stemmed as English, Cyrillic words only
with ``lang="ru"``. Hebrew- and Arabic-script words are not Snowball-stemmed: their
prefix and light-stem forms come from ``hebrew.hebrew_forms`` and ``arabic.arabic_forms``
whatever the language (see ``pipeline``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import Stemmer

from newssearch.analysis.tokenize import LATIN_SCRIPT, OTHER_SCRIPT

DEFAULT_LATIN = "english"

# ISO 639-1 code -> Snowball algorithm, for languages written in Latin script.
_LATIN_LANGS = {
    "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "en": "english",
    "eo": "esperanto", "es": "spanish", "et": "estonian", "eu": "basque", "fi": "finnish",
    "fr": "french", "ga": "irish", "hu": "hungarian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "nb": "norwegian", "nl": "dutch", "nn": "norwegian", "no": "norwegian",
    "pl": "polish", "pt": "portuguese", "ro": "romanian", "sr": "serbian", "st": "sesotho",
    "sv": "swedish", "tr": "turkish",
}  # fmt: skip
# Languages in other (non-Hebrew, non-Arabic) scripts. Serbian's stemmer reads both
# Cyrillic and Latin, so "sr" is in both tables.
_OTHER_LANGS = {
    "el": "greek", "hi": "hindi", "hy": "armenian", "ne": "nepali", "ru": "russian",
    "sr": "serbian", "ta": "tamil",
}  # fmt: skip
_AVAILABLE = frozenset(Stemmer.algorithms())


def language_key(lang: str | None) -> str | None:
    """Normalise a language tag ("en-US", "pt_BR", "EN") to its primary subtag."""
    if not lang:
        return None
    return lang.strip().lower().replace("_", "-").split("-", 1)[0] or None


def stemmer_names(lang: str | None) -> dict[str, str]:
    """Snowball algorithm per script for ``lang``; scripts without one are absent.

    Latin-script words are stemmed as English unless ``lang`` names another Latin-script
    language PyStemmer knows: English is what Latin words inside Hebrew, Arabic or
    Russian news usually are, and the query side (``lang=None``) must agree.
    """
    key = language_key(lang)
    names: dict[str, str] = {LATIN_SCRIPT: _LATIN_LANGS.get(key or "en", DEFAULT_LATIN)}
    if key in _OTHER_LANGS:
        names[OTHER_SCRIPT] = _OTHER_LANGS[key]
    return {script: name for script, name in names.items() if name in _AVAILABLE}


# PyStemmer objects are not thread-safe, so each thread gets its own.
_local = threading.local()


def stem_function(name: str) -> Callable[[str], str]:
    """``stemWord`` of this thread's PyStemmer object for algorithm ``name``."""
    cache: dict[str, Callable[[str], str]] | None = getattr(_local, "stemmers", None)
    if cache is None:
        cache = _local.stemmers = {}
    fn = cache.get(name)
    if fn is None:
        # no PyStemmer word cache: the pipeline's own term caches stand in front of it, so it
        # only ever sees new words, where its cache makes a word cost ~1.1 us instead of ~0.3
        fn = cache[name] = Stemmer.Stemmer(name, 0).stemWord
    return fn
