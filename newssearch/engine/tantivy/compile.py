"""A plan (:mod:`.plan`) and a search's filters as tantivy queries.

The tantivy query picks the candidates and ranks them close to Whoosh's BM25F: each
scored term is boosted by the ratio of Whoosh's idf to tantivy's (the two BM25s then
differ only in how they round field lengths), keyword and date clauses score 1 as
Whoosh scores them, filters score nothing. The searcher re-scores the ranked window
exactly (:func:`.score.scorer`).

Phrases: tantivy's phrase query takes one term per offset and, with a slop, also
accepts words out of order; ours are ordered, each word within *slop* positions of the
previous one, and a word may have alternative terms. So a phrase is the disjunction of
exact phrase queries over every choice of alternatives and gaps, bounded by
MAX_VARIANTS (past it tantivy's own sloppy phrase, or, with too many word forms, the
words anywhere in the field; either with a warning).
"""
from __future__ import annotations

import itertools
import math
from typing import Callable, List, Optional, Sequence, Tuple

import tantivy

from ...errors import NewsSearchError
from ..base import SearchSpec
from ..documents import author_words, clean_domain, source_key
from .plan import (AllOf, AnyOfPlan, Butnot, Dates, Every, Keyword, Nothing, PhrasePlan, Plan, Term, micros)

__all__ = ["MAX_VARIANTS", "Compiler", "filters"]

MAX_VARIANTS = 256
"""Most exact phrase queries one phrase in one field becomes (choices of alternatives x gaps)."""

Occur = tantivy.Occur
Q = tantivy.Query


def _bool(clauses: List[Tuple["tantivy.Occur", "tantivy.Query"]], need: Optional[int] = None) -> "tantivy.Query":
    if need is not None and need > 1:
        return Q.boolean_query(clauses, need)
    return Q.boolean_query(clauses)


def _any(queries: List["tantivy.Query"]) -> "tantivy.Query":
    if not queries:
        return Q.empty_query()
    return queries[0] if len(queries) == 1 else Q.boolean_query([(Occur.Should, q) for q in queries])


FEW_TERMS = 64
"""Up to this many values, "any of these terms" is a disjunction of term queries, past it a
term set: tantivy's term set reads every posting of its terms into a bit set first (~270 us
for a source held by 50,000 articles), where a disjunction skips along the other clauses
(~16 us); 40 ids: 335 vs 69 us."""


def one_of(schema, fieldname: str, values: Sequence[str]) -> "tantivy.Query":  # noqa: ANN001
    """Documents holding any of *values* in *fieldname* (a raw, untokenized field)."""
    values = list(values)
    if len(values) > FEW_TERMS:
        return Q.term_set_query(schema, fieldname, values)
    if not values:
        return Q.empty_query()
    if len(values) == 1:
        return Q.term_query(schema, fieldname, values[0])
    return Q.boolean_query([(Occur.Should, Q.term_query(schema, fieldname, v)) for v in values])


def filters(schema, spec: SearchSpec) -> List[Tuple["tantivy.Occur", "tantivy.Query"]]:  # noqa: ANN001
    """A search's filters as clauses scoring nothing (Must) and exclusions (MustNot)."""
    out: List[Tuple["tantivy.Occur", "tantivy.Query"]] = []

    def keep(q: "tantivy.Query") -> None:
        out.append((Occur.Must, Q.const_score_query(q, 0.0)))

    def terms(fieldname: str, values: Sequence[str]) -> "tantivy.Query":
        return one_of(schema, fieldname, values)

    if spec.sources:
        keep(terms("source_key", [source_key(s) for s in spec.sources]))
    if spec.since is not None or spec.until is not None:
        keep(dates(schema, micros(spec.since) if spec.since else None, micros(spec.until) if spec.until else None))
    if spec.lang:
        keep(Q.term_query(schema, "lang", spec.lang.lower()))
    if spec.domains:
        keep(terms("domains", [clean_domain(d) for d in spec.domains]))
    if spec.authors:
        names = [author_words(a) for a in spec.authors]
        keep(_any([_bool([(Occur.Must, Q.term_query(schema, "authorwords", w)) for w in n]) for n in names if n]))
    if spec.exclude_domains:
        out.append((Occur.MustNot, terms("domains", [clean_domain(d) for d in spec.exclude_domains])))
    if spec.exclude_sources:
        out.append((Occur.MustNot, terms("source_key", [source_key(s) for s in spec.exclude_sources])))
    if spec.exclude_ids:
        out.append((Occur.MustNot, terms("id", list(spec.exclude_ids))))
    return out


def dates(schema, start: Optional[int], end: Optional[int]) -> "tantivy.Query":  # noqa: ANN001
    """Dated articles within inclusive bounds (micros)."""
    if start is None and end is None:
        return Q.exists_query("published")
    return Q.range_query(schema, "published", tantivy.FieldType.Integer, start, end)


class Compiler:
    """Turns plans into tantivy queries for one searcher.

    *df(field, term)* gives document frequencies, *n* the documents tantivy's idf counts.
    """

    def __init__(self, schema, n: int, df: Callable[[str, str], int], whoosh_idf: Callable[[str, str], float]) -> None:  # noqa: ANN001
        self.schema = schema
        self.n = n
        self.df = df
        self.whoosh_idf = whoosh_idf
        self.approximate = ""
        """Set (to the warning a user sees) once a phrase had too many variants to check exactly."""

    def boost(self, fieldname: str, term: str, weight: float) -> float:
        df = self.df(fieldname, term)
        theirs = math.log(1 + (self.n - df + 0.5) / (df + 0.5))
        return weight * self.whoosh_idf(fieldname, term) / theirs if theirs > 0 else 0.0

    def term(self, t: Term) -> "tantivy.Query":
        q = Q.term_query(self.schema, t.field, t.term)
        return Q.boost_query(q, self.boost(t.field, t.term, t.weight))

    def query(self, plan: Plan) -> "tantivy.Query":
        if isinstance(plan, Term):
            return self.term(plan)
        if isinstance(plan, Keyword):
            return Q.const_score_query(Q.term_query(self.schema, plan.field, plan.value), 1.0)
        if isinstance(plan, Dates):
            return Q.const_score_query(dates(self.schema, plan.start, plan.end), 1.0)
        if isinstance(plan, PhrasePlan):
            # as Whoosh scores a phrase: a field's terms count where every word is in it
            fields = [_bool([(Occur.Must, _any([self.term(Term(f, t)) for t in alts])) for alts in slots])
                      for f, slots in plan.parts]
            return _bool([(Occur.Must, Q.const_score_query(self.positions(plan), 0.0)), (Occur.Must, _any(fields))])
        if isinstance(plan, AllOf):
            return _bool([(Occur.Must, self.query(k)) for k in plan.children])
        if isinstance(plan, AnyOfPlan):
            return _bool([(Occur.Should, self.query(k)) for k in plan.children], plan.need)
        if isinstance(plan, Butnot):
            return _bool([(Occur.Must, self.query(plan.keep)), (Occur.MustNot, self.query(plan.drop))])
        if isinstance(plan, Every):
            return Q.all_query()
        if isinstance(plan, Nothing):
            return Q.empty_query()
        raise NewsSearchError(f"tantivy engine: unknown plan node {plan!r}")

    def positions(self, plan: PhrasePlan) -> "tantivy.Query":
        """Documents where the phrase's words follow in order, in any of its fields."""
        out: List["tantivy.Query"] = []
        for fieldname, slots in plan.parts:
            step = 2 if fieldname == "title" else 1  # title terms sit at 2p and 2p+1
            gaps = list(range(1, plan.slop + 2))
            forms = math.prod(len(a) for a in slots)
            if forms * len(gaps) ** (len(slots) - 1) <= MAX_VARIANTS:
                for words in itertools.product(*slots):
                    for steps in itertools.product(gaps, repeat=len(slots) - 1):
                        offsets = [0] + list(itertools.accumulate(g * step for g in steps))
                        out.append(Q.phrase_query(self.schema, fieldname, list(zip(offsets, words)), 0))
            elif forms <= MAX_VARIANTS:
                # tantivy's own slop is the total over the words, in either order: a superset
                self.approximate = (f"phrase ~{plan.slop} has too many word gaps to check each: its words were "
                                    f"matched within {plan.slop * (len(slots) - 1)} extra positions in any order")
                span = plan.slop * (len(slots) - 1) * step
                for words in itertools.product(*slots):
                    offsets = [i * step for i in range(len(slots))]
                    out.append(Q.phrase_query(self.schema, fieldname, list(zip(offsets, words)), span))
            else:
                self.approximate = "a phrase had too many word forms to check word order: its words were searched anywhere"
                out.append(_bool([(Occur.Must, _any([Q.term_query(self.schema, fieldname, t) for t in alts]))
                                  for alts in slots]))
        return _any(out)
