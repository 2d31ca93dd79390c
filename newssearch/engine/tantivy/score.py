"""Whoosh's score of one article for a plan (:mod:`.plan`), from what is stored with it.

The searcher loads the candidates tantivy ranks, and scores each again here with the
Whoosh engine's BM25F (field boost, k1, b, length steps of :mod:`..lengths`), so both
engines order their results alike; and says which plans tantivy alone ranks exactly
(constants only) or alike for every match (then the date decides).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from ..arrays import B, K1
from ..documents import TITLE_BOOST
from ..lengths import rounded_length
from .plan import AllOf, AnyOfPlan, Butnot, Dates, Every, Keyword, Nothing, PhrasePlan, Plan, Term

__all__ = ["DocView", "evaluate", "whoosh_idf", "counts_keywords", "uniform", "constant_only", "required_phrases",
           "phrases_of"]


@dataclass
class DocView:
    """What a candidate's score needs: term frequencies, lengths and keyword fields."""

    id: str
    tf: Callable[[str, str], int]
    """(field, term) -> how often the term is in the field."""
    lengths: Dict[str, int]
    keywords: Mapping[str, Sequence[str]]
    published: Optional[int]


Idf = Callable[[str, str], float]


def _bm25(idf: float, tf: float, dl: int, avgdl: float) -> float:
    return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * dl / avgdl)))


def _term_score(fieldname: str, term: str, doc: DocView, idf: Idf, avgdl: Dict[str, float]) -> Optional[float]:
    """BM25F of one term in one field of *doc*; None when the field lacks it."""
    tf = doc.tf(fieldname, term)
    if not tf:
        return None
    w = tf * (TITLE_BOOST if fieldname == "title" else 1.0)
    dl = rounded_length(doc.lengths.get(fieldname, 0))
    return _bm25(idf(fieldname, term), w, dl, avgdl.get(fieldname) or 1.0)


def evaluate(plan: Plan, doc: DocView, idf: Idf, avgdl: Dict[str, float],
             phrase_ok: Callable[[int, str], bool]) -> Tuple[bool, float]:
    """(matches, Whoosh's BM25F score) of *plan* for one document.

    *phrase_ok(key, id)* says whether phrase *key*'s positions hold in the document
    (the searcher asks tantivy once per phrase for the whole window).
    """
    if isinstance(plan, Term):
        s = _term_score(plan.field, plan.term, doc, idf, avgdl)
        return s is not None, plan.weight * s if s is not None else 0.0
    if isinstance(plan, Keyword):
        n = sum(1 for v in doc.keywords.get(plan.field, ()) if v == plan.value)
        return bool(n), float(n)
    if isinstance(plan, Dates):
        pub = doc.published
        ok = pub is not None and (plan.start is None or pub >= plan.start) and (plan.end is None or pub <= plan.end)
        return ok, 1.0 if ok else 0.0
    if isinstance(plan, PhrasePlan):
        score = 0.0
        cand = False
        for fieldname, slots in plan.parts:
            fscore = 0.0
            present = True
            for alts in slots:
                here = False
                for t in alts:
                    s = _term_score(fieldname, t, doc, idf, avgdl)
                    if s is not None:
                        here = True
                        fscore += s
                present = present and here
            if present:
                cand = True
                score += fscore
        if not cand or not phrase_ok(plan.key, doc.id):
            return False, 0.0
        return True, score
    if isinstance(plan, AllOf):
        total = 0.0
        for kid in plan.children:
            ok, s = evaluate(kid, doc, idf, avgdl, phrase_ok)
            if not ok:
                return False, 0.0
            total += s
        return True, total
    if isinstance(plan, AnyOfPlan):
        hits, total = 0, 0.0
        for kid in plan.children:
            ok, s = evaluate(kid, doc, idf, avgdl, phrase_ok)
            if ok:
                hits += 1
                total += s
        return (hits >= plan.need, total) if hits >= plan.need else (False, 0.0)
    if isinstance(plan, Butnot):
        ok, s = evaluate(plan.keep, doc, idf, avgdl, phrase_ok)
        if not ok or evaluate(plan.drop, doc, idf, avgdl, phrase_ok)[0]:
            return False, 0.0
        return True, s
    if isinstance(plan, Every):
        return True, 1.0
    return False, 0.0


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
