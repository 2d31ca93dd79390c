"""Did-you-mean: correct query words that the index has never seen; engine-free.

A word whose analysed term is in no article is replaced by the closest index term (edit
distance 1, else 2, sharing the first letter; ties go to the more frequent term), shown
as a real word of the texts folded to lower case (``Goitta`` -> ``goita``). The engine
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
        candidates = vocab.similar_terms(term, max_distance=1 if len(term) <= 4 else 2, limit=1)
        if not candidates:
            continue
        best = candidates[0][2]
        surface = vocab.surface_of(best)
        replacement = fold(surface) if surface else best
        if not replacement or replacement == fold(word.text):
            continue
        pattern = re.compile(r"(?<![\w])" + re.escape(word.text) + r"(?![\w])", re.IGNORECASE)
        new, n = pattern.subn(replacement, corrected, count=1)
        if n:
            corrected, changed = new, True
    return corrected if changed else None
