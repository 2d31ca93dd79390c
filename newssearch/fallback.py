"""Long natural-language queries: when not every word is found, fall back to "most of them".

A pasted sentence or question rarely has all its words in one article. Whole-query AND
then finds nothing, or a handful of accidental matches. This module, engine-free, spots
such queries (plain words only: no operators, fields, phrases or dates) and builds the
fallback tree: an :class:`~newssearch.query.AnyOf` of the content words (English stop
words dropped unless nothing else is left) with a minimum number that must match. BM25
then ranks articles matching more (and rarer) words higher.
"""
from __future__ import annotations

import math
from typing import FrozenSet, List, Optional

from .analysis import query_terms
from .query import And, AnyOf, Node, Word

__all__ = ["STOP_WORDS", "loose_words", "fallback_tree", "min_should_match", "wants_fallback", "FALLBACK_BELOW", "LONG_QUERY"]

FALLBACK_BELOW = 10
"""A sentence (LONG_QUERY words or more) falls back when all-words finds fewer articles than this."""
LONG_QUERY = 4
"""Words from which a query counts as a sentence; three words fall back only when all-words
finds nothing, and one or two never (a short query means exactly what it says)."""


def wants_fallback(words: List[Word], found: int) -> bool:
    """Whether an all-words search of *words* that found *found* articles should be widened."""
    if len(words) < 3:
        return False
    return found < (FALLBACK_BELOW if len(words) >= LONG_QUERY else 1)

# Function words of English news prose and questions (folded, unstemmed). Kept in the
# index (phrases need them) but dropped from the loose fallback, where they match everything.
STOP_WORDS: FrozenSet[str] = frozenset(
    """a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can cannot could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just let me more most my myself no nor not now of off on once only
    or other ought our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t said says say new news latest report reports according
    identify find document documents discuss discusses discussing describe describes article
    articles mention mentions mentioned relevant regarding concerning whether please tell
    example examples""".split()
)
"""Also the framing words of a question put to a search box ("find articles that discuss ...")."""


def loose_words(tree: Node) -> Optional[List[Word]]:
    """The words of a query made only of plain, unscoped words (a sentence), else None."""
    if isinstance(tree, Word) and tree.field is None:
        return [tree]
    if isinstance(tree, And) and all(isinstance(c, Word) and c.field is None for c in tree.children):
        return list(tree.children)  # type: ignore[arg-type]
    return None


def min_should_match(n: int) -> int:
    """How many of *n* content words an article must hold in the fallback.

    Two or three words: one; more: a third of them (rounded down), so a question of nine
    content words needs three, and one missing or misspelt word never empties the result.
    """
    if n <= 3:
        return 1
    return max(1, math.floor(n / 3))


def fallback_tree(words: List[Word]) -> Optional[AnyOf]:
    """The ranked, minimum-should-match fallback for *words*; None when it would add nothing."""
    content: List[Word] = []
    seen = set()
    for w in words:
        folded = query_terms(w.text, stem=False)
        if not folded:
            continue
        key = " ".join(folded)
        if key in seen:
            continue
        seen.add(key)
        if all(t in STOP_WORDS for t in folded):
            continue
        content.append(w)
    if not content:
        # a query of stop words only ("to be or not to be"): all of them, loosely
        content = [w for w in dict.fromkeys(words) if query_terms(w.text)]
    if len(content) < 2 and len(content) == len(words):
        return None  # one word: nothing looser to try
    return AnyOf(tuple(content), min_should_match(len(content)))
