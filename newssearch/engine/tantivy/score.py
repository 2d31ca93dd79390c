"""Whoosh's score of one article for a plan (:mod:`.plan`), from what is stored with it.

The searcher loads the candidates tantivy ranks, and scores each again here with the
Whoosh engine's BM25F (field boost, k1, b, length steps of :mod:`..lengths`), so both
engines order their results alike; and says which plans tantivy alone ranks exactly
(constants only) or alike for every match (then the date decides).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Set

from ..arrays import B, K1
from ..documents import TITLE_BOOST
from ..lengths import rounded_length
from .plan import AllOf, AnyOfPlan, Butnot, Dates, Every, Keyword, Nothing, PhrasePlan, Plan, Term

__all__ = ["DocView", "norm_of", "scorer", "whoosh_idf", "counts_keywords", "uniform", "constant_only",
           "required_phrases", "phrases_of"]


@dataclass
class DocView:
    """What a candidate's score needs (the searcher's :class:`.stored.Row` has the same
    attributes): term frequencies, length norms and keyword fields."""

    id: str
    tf: Callable[[str, str], int]
    """(field, term) -> how often the term is in the field."""
    norms: Dict[str, float]
    """field -> its BM25 length norm (:func:`norm_of`)."""
    keywords: Mapping[str, Sequence[str]]
    pub: Optional[int]
    """Publication time in microseconds, None when undated."""


def norm_of(length: int, avg: Optional[float]) -> float:
    """A field's ``k1 * ((1 - b) + b * dl / avgdl)`` with dl the rounded length: the part of
    BM25's denominator an article has for every term of that field (a searcher keeps them
    by length; an article's are its :attr:`DocView.norms`)."""
    return K1 * ((1 - B) + B * rounded_length(length) / (avg or 1.0))


Idf = Callable[[str, str], float]


Scorer = Callable[[DocView], Optional[float]]
"""A compiled plan: a document's score, or None when it does not match."""
_Part = Callable[[DocView, Dict[str, float]], Optional[float]]
"""A compiled part of a plan, given the document and its fields' length norms."""


def scorer(plan: Plan, idf: Idf, phrase_ok: Callable[[int, str], bool]) -> Scorer:
    """*plan* compiled once for a window of documents: each term's idf and field boost
    looked up here, each document's length norms computed once (:func:`norm_of`).
    The score is Whoosh's BM25F, ``idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * dl / avgdl)))``
    with the title's tf doubled and dl the rounded length, computed in that order (so equal
    to the Whoosh engine's to the last bit).

    *phrase_ok(key, id)* says whether phrase *key*'s positions hold in the document
    (the searcher asks tantivy once per phrase for the whole window).
    """
    root = _compile(plan, idf, phrase_ok)
    return lambda doc: root(doc, doc.norms)


def _compile(plan: Plan, idf: Idf, phrase_ok: Callable[[int, str], bool]) -> _Part:
    if isinstance(plan, Term):
        return _term(plan.field, plan.term, idf, plan.weight)
    if isinstance(plan, Keyword):
        field, value = plan.field, plan.value

        def keyword(doc: DocView, _norms: Dict[str, float]) -> Optional[float]:
            n = sum(1 for v in doc.keywords.get(field, ()) if v == value)
            return float(n) if n else None
        return keyword
    if isinstance(plan, Dates):
        start, end = plan.start, plan.end

        def dates(doc: DocView, _norms: Dict[str, float]) -> Optional[float]:
            pub = doc.pub
            ok = pub is not None and (start is None or pub >= start) and (end is None or pub <= end)
            return 1.0 if ok else None
        return dates
    if isinstance(plan, PhrasePlan):
        parts = [[[_term(fieldname, t, idf, None) for t in alts] for alts in slots] for fieldname, slots in plan.parts]
        key = plan.key

        def phrase(doc: DocView, norms: Dict[str, float]) -> Optional[float]:
            score = 0.0
            cand = False
            for slots in parts:
                fscore = 0.0
                present = True
                for alts in slots:
                    here = False
                    for term in alts:
                        s = term(doc, norms)
                        if s is not None:
                            here = True
                            fscore += s
                    present = present and here
                if present:
                    cand = True
                    score += fscore
            if not cand or not phrase_ok(key, doc.id):
                return None
            return score
        return phrase
    if isinstance(plan, AllOf):
        kids = [_compile(k, idf, phrase_ok) for k in plan.children]

        def all_of(doc: DocView, norms: Dict[str, float]) -> Optional[float]:
            total = 0.0
            for kid in kids:
                s = kid(doc, norms)
                if s is None:
                    return None
                total += s
            return total
        return all_of
    if isinstance(plan, AnyOfPlan):
        kids = [_compile(k, idf, phrase_ok) for k in plan.children]
        need = plan.need

        def any_of(doc: DocView, norms: Dict[str, float]) -> Optional[float]:
            hits, total = 0, 0.0
            for kid in kids:
                s = kid(doc, norms)
                if s is not None:
                    hits += 1
                    total += s
            return total if hits >= need else None
        return any_of
    if isinstance(plan, Butnot):
        keep, drop = _compile(plan.keep, idf, phrase_ok), _compile(plan.drop, idf, phrase_ok)

        def butnot(doc: DocView, norms: Dict[str, float]) -> Optional[float]:
            s = keep(doc, norms)
            return None if s is None or drop(doc, norms) is not None else s
        return butnot
    if isinstance(plan, Every):
        return lambda doc, norms: 1.0
    return lambda doc, norms: None


def _term(fieldname: str, term: str, idf: Idf, weight: Optional[float]) -> _Part:
    """BM25F of one term in one field (times *weight* when given); None when the field lacks it."""
    term_idf = idf(fieldname, term)
    boost = TITLE_BOOST if fieldname == "title" else 1.0
    k1_1 = K1 + 1

    def one(doc: DocView, norms: Dict[str, float]) -> Optional[float]:
        tf = doc.tf(fieldname, term)
        if not tf:
            return None
        w = tf * boost
        s = term_idf * ((w * k1_1) / (w + norms[fieldname]))
        return s if weight is None else weight * s
    return one


def whoosh_idf(n: int, df: int) -> float:
    """Whoosh's BM25F idf."""
    return math.log(n / (df + 1)) + 1 if n else 0.0


def counts_keywords(plan: Plan, fieldname: str) -> bool:
    """Whether *plan* holds a keyword clause on *fieldname* (scored by a count tantivy does not see)."""
    if isinstance(plan, Keyword):
        return plan.field == fieldname
    if isinstance(plan, (AllOf, AnyOfPlan)):
        return any(counts_keywords(k, fieldname) for k in plan.children)
    if isinstance(plan, Butnot):
        return counts_keywords(plan.keep, fieldname)
    return False


_SINGLE_VALUED = ("source_key", "lang")


def uniform(plan: Plan) -> bool:
    """Whether every match of *plan* gets the same score (no scored term, constants only):
    then relevance order is date order, newest first, as ties are broken."""
    if isinstance(plan, (Keyword, Dates, Every)):
        return not (isinstance(plan, Keyword) and plan.field == "urlwords")  # urlwords score their count
    if isinstance(plan, AllOf):
        return all(uniform(k) for k in plan.children)
    if isinstance(plan, Butnot):
        return uniform(plan.keep)
    if isinstance(plan, AnyOfPlan):
        if len(plan.children) == 1:
            return uniform(plan.children[0])
        # an article holds one source and one language: it matches one of these at most
        fields = {k.field for k in plan.children if isinstance(k, Keyword)}
        return plan.need == 1 and len(fields) == 1 and fields <= set(_SINGLE_VALUED) and all(
            isinstance(k, Keyword) for k in plan.children)
    return False


def constant_only(plan: Plan) -> bool:
    """Whether *plan* scores only by constants (keywords but url words, dates, match-all):
    tantivy's score of a match is then exactly Whoosh's."""
    if isinstance(plan, Keyword):
        return plan.field != "urlwords"
    if isinstance(plan, (Dates, Every, Nothing)):
        return True
    if isinstance(plan, (AllOf, AnyOfPlan)):
        return all(constant_only(k) for k in plan.children)
    if isinstance(plan, Butnot):
        return constant_only(plan.keep)
    return False


def required_phrases(plan: Plan) -> Set[int]:
    """Keys of the phrases every match of *plan* holds (their positions need no second check)."""
    if isinstance(plan, PhrasePlan):
        return {plan.key}
    if isinstance(plan, AllOf):
        return set().union(*(required_phrases(k) for k in plan.children))
    if isinstance(plan, AnyOfPlan) and len(plan.children) == 1:
        return required_phrases(plan.children[0])
    if isinstance(plan, Butnot):
        return required_phrases(plan.keep)
    return set()


def phrases_of(plan: Plan) -> List[PhrasePlan]:
    if isinstance(plan, PhrasePlan):
        return [plan]
    if isinstance(plan, (AllOf, AnyOfPlan)):
        return [p for kid in plan.children for p in phrases_of(kid)]
    if isinstance(plan, Butnot):
        return phrases_of(plan.keep) + phrases_of(plan.drop)
    return []
