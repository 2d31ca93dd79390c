"""Text analysis: raw text -> search terms, identically at index time and query time.

Pure functions, engine-free (never imports whoosh or ``newssearch.engine``); the engine
wraps ``analyze`` in its own tokenizer. The pipeline, per token:

1. ``tokenize``: Unicode words, one script per token, offsets into the original text;
2. per-script folding: ``latin`` (NFKC, casefold, unidecode), ``hebrew`` (niqqud,
   gershayim, final letters), ``arabic`` (tashkeel, tatweel, alef/yeh/teh marbuta),
   ``other`` (other scripts and numbers);
3. ``stem``: a Snowball stemmer chosen by language and script (English by default);
   Hebrew prefix-stripped forms (``hebrew``) and Arabic light stems (``arabic``) as
   extra terms at the same position;
4. ``langid``: the language of a whole article when its input gives none.

Stop words are kept. Change ``ANALYSIS_VERSION`` whenever any step changes its output.
"""

from newssearch.analysis.langid import detect_language
from newssearch.analysis.pipeline import (
    ANALYSIS_VERSION,
    Token,
    analyze,
    find_terms,
    fold,
    index_terms,
    index_terms_words,
    query_alternatives,
    query_terms,
    token_terms,
)

__all__ = [
    "ANALYSIS_VERSION",
    "Token",
    "analyze",
    "detect_language",
    "find_terms",
    "fold",
    "index_terms",
    "index_terms_words",
    "query_alternatives",
    "query_terms",
    "token_terms",
]
