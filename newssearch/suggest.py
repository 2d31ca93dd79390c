"""Did-you-mean: correct query words that the index has never seen; engine-free.

A word whose analysed term is in no article is replaced by the closest real word of the
texts: index terms near its term (sharing the first letter) are turned back into words
as written, folded to lower case, and ranked by edit distance to the typed word (at most
1 for words of up to four letters, else 2), then by frequency (``Goitta`` -> ``goita``). The engine
supplies the vocabulary through three small calls (:class:`Vocabulary`).
"""
from __future__ import annotations

import re
from typing import List, Optional, Protocol, Tuple

from .analysis import fold, query_terms
from .query import And, AnyOf, Node, Or, Word

__all__ = ["Vocabulary", "suggest", "SUGGEST_BELOW"]

SUGGEST_BELOW = 3
"""A suggestion is looked for when a search finds fewer articles than this."""


class Vocabulary(Protocol):
    def term_frequency(self, term: str) -> int: ...

    def similar_terms(self, term: str, max_distance: int = 2, limit: int = 5) -> List[Tuple[int, int, str]]: ...

    def surface_of(self, term: str) -> Optional[str]: ...


def _words(node: Node) -> List[Word]:
    if isinstance(node, Word):
        return [node] if node.field in (None, "title", "body") else []
    if isinstance(node, (And, Or, AnyOf)):
        out: List[Word] = []
        for child in node.children:
            out.extend(_words(child))
        return out
    return []


CANDIDATES = 12
"""Index terms near an unknown one that are looked at as surface words."""


def edit_distance(a: str, b: str, cap: int = 3) -> int:
    """Levenshtein distance of *a* and *b*, or *cap* when it is at least that."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) >= cap:
            return cap
        prev = cur
    return min(prev[-1], cap)


def _best_word(typed: str, term: str, vocab: Vocabulary) -> Optional[str]:
    """The real word (as written in the texts, folded) closest to what was *typed*.

    Index terms are stems, so near terms are only candidates: each is turned back into
    a word some article holds, and those words are ranked by their edit distance to the
    typed word, then by frequency. A stem no article spells (``inflato``) is never offered,
    and ``opek`` gets ``opec``, not ``operations`` (whose stem ``oper`` is as near).
    """
    limit = 1 if len(typed) <= 4 else 2
    ranked = []
    for _dist, neg_freq, candidate in vocab.similar_terms(term, max_distance=2, limit=CANDIDATES):
        surface = vocab.surface_of(candidate)
        if not surface:
            continue
        word = fold(surface)
        distance = edit_distance(typed, word)
        if word != typed and distance <= limit:
            ranked.append((distance, neg_freq, word))
    return min(ranked)[2] if ranked else None


def suggest(text: str, tree: Node, vocab: Vocabulary) -> Optional[str]:
    """*text* with unknown words corrected, or None when nothing could be corrected."""
    corrected = text
    changed = False
    for word in _words(tree):
        terms = query_terms(word.text)
        if len(terms) != 1 or len(terms[0]) < 3 or terms[0].isdigit():
            continue
        term = terms[0]
        if vocab.term_frequency(term) > 0:
            continue
        replacement = _best_word(fold(word.text), term, vocab)
        if not replacement:
            continue
        pattern = re.compile(r"(?<![\w])" + re.escape(word.text) + r"(?![\w])", re.IGNORECASE)
        new, n = pattern.subn(replacement, corrected, count=1)
        if n:
            corrected, changed = new, True
    return corrected if changed else None
