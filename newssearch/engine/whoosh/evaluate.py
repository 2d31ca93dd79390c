"""Evaluating a compiled query over whole posting arrays, phrases checked on demand.

Whoosh walks its matcher tree one posting at a time, several Python calls per posting
and per tree level. Here each segment's posting blocks are read as arrays (ids and
weights; positions only for phrase candidates) and the compiled query is evaluated over
whole arrays (:mod:`newssearch.engine.arrays`). Scores are Whoosh's BM25F, computed the
same way (the tests check it against Whoosh's own matchers).
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from whoosh import query as wq
from whoosh.fields import Schema

from .. import arrays
from ..base import SearchSpec
from .copies import CopyIndex
from .leaves import CACHE_MIN_POSTINGS, POSTINGS_CACHE, _Leaf, _TermPostings
from .schema import NO_DATE

PHRASE_EXACT_DOCS = 20_000
"""Up to this many candidates a phrase is checked in every one (an exact total)."""
PHRASE_SAMPLE = 150
"""Beyond that, how many of the unranked candidates are checked to estimate the total."""


class UnsupportedQuery(TypeError):
    """A compiled query shape the array evaluator has no rule for (a bug in the compiler:
    every query the compiler makes is covered)."""


class _PhraseCheck:
    """A phrase whose positions are checked only for the documents that need it.

    Holds one alternative per field (title, body): a document passes when any of them
    has the slots' terms in order. Built by :meth:`_ArrayEval.run` for phrases that sit
    in a conjunction, so a candidate failing the check simply drops out.
    """

    def __init__(self) -> None:
        self.alternatives: List[Tuple[np.ndarray, List[List["_TermPostings"]], int]] = []
        """(candidate mask, per slot the postings of each of its terms, slop)."""

    def passes(self, docs: np.ndarray) -> np.ndarray:
        """Which of *docs* hold the phrase: a bool array in their order."""
        ok = np.zeros(docs.size, dtype=bool)
        for cand, slots, slop in self.alternatives:
            todo = np.flatnonzero(~ok & cand[docs])
            if not todo.size:
                continue
            sub = np.zeros(cand.size, dtype=bool)
            sub[docs[todo]] = True
            per_slot = []
            seen: Dict[int, Tuple[np.ndarray, np.ndarray]] = {}  # a word repeated in the phrase is read once
            for terms in slots:
                pairs = [seen[id(tp)] if id(tp) in seen else seen.setdefault(id(tp), tp.positions(sub)) for tp in terms]
                per_slot.append((np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])))
            matched = arrays.phrase_match(per_slot, slop)
            ok[todo] = np.isin(docs[todo], matched)
        return ok


class _ArrayEval:
    """Evaluates compiled queries over the segments of one searcher."""

    def __init__(self, searcher, leaves: List[_Leaf], schema: Schema) -> None:  # noqa: ANN001
        self.searcher = searcher
        self.leaves = leaves
        self.schema = schema
        self.ndocs = searcher.doc_count_all()
        self._idf: Dict[Tuple[str, object], float] = {}
        self._avg: Dict[str, float] = {}
        self._postings: Dict[Tuple[int, str, object], "_TermPostings"] = {}

    def idf(self, fieldname: str, term: object) -> float:
        key = (fieldname, term)
        found = self._idf.get(key)
        if found is None:
            # the reader's doc_frequency, from the postings every segment reads anyway
            df = sum(self.postings(leaf, fieldname, term).df for leaf in self.leaves)
            found = self._idf[key] = math.log(self.ndocs / (df + 1)) + 1
        return found

    def avgdl(self, fieldname: str) -> float:
        found = self._avg.get(fieldname)
        if found is None:
            found = self._avg[fieldname] = self.searcher.avg_field_length(fieldname) or 1
        return found

    def postings(self, leaf: _Leaf, fieldname: str, term: object) -> "_TermPostings":
        """One term's postings in one segment; read once per search."""
        key = (id(leaf), fieldname, term)
        found = self._postings.get(key)
        if found is None:
            found = self._postings[key] = leaf.postings(fieldname, term)
        return found

    def term(self, leaf: _Leaf, fieldname: str, term: object, boost: float = 1.0):
        tp = self.postings(leaf, fieldname, term)
        ids, weights = tp.ids, tp.weights
        mask = np.zeros(leaf.n, dtype=bool)
        score = np.zeros(leaf.n)
        if not ids.size:
            return mask, score
        mask[ids] = True
        if self.schema[fieldname].scorable:
            s = arrays.bm25(self.idf(fieldname, term), weights, leaf.lengths(fieldname)[ids], self.avgdl(fieldname))
        else:
            s = weights  # Whoosh's WeightScorer for unscored fields
        score[ids] = s * boost if boost != 1.0 else s
        return mask, score

    def _phrase_parts(self, q: wq.Query) -> Optional[Tuple[str, List[List[str]], int]]:
        """(field, slots, slop) of a Phrase or a Sequence of terms; None for anything else."""
        if isinstance(q, wq.Phrase):
            return q.fieldname, [[w] for w in q.words], q.slop - 1
        if isinstance(q, wq.Sequence):
            slots, fieldname = [], None
            for sub in q.subqueries:
                terms = [sub] if isinstance(sub, wq.Term) else list(getattr(sub, "subqueries", ()))
                if not terms or not all(isinstance(t, wq.Term) for t in terms):
                    raise UnsupportedQuery(repr(q))
                fieldname = terms[0].fieldname
                slots.append([t.text for t in terms])
            return fieldname, slots, q.slop - 1
        return None

    def phrase(self, leaf: _Leaf, parts: Sequence[Tuple[str, List[List[str]], int]], boost: float,
               defer: Optional[List[_PhraseCheck]]):
        """One phrase over one or more fields: candidates (all terms present) and scores.

        With *defer*, positions are left for the caller to check on the documents it needs
        (a :class:`_PhraseCheck` is appended); without, every candidate is checked now.
        """
        mask = np.zeros(leaf.n, dtype=bool)
        score = np.zeros(leaf.n)
        check = _PhraseCheck()
        for fieldname, slots, slop in parts:
            cand = leaf.live.copy()
            fscore = np.zeros(leaf.n)
            slot_terms = []
            for alts in slots:
                m = np.zeros(leaf.n, dtype=bool)
                terms = []
                for t in alts:
                    tm, ts = self.term(leaf, fieldname, t)
                    m |= tm
                    fscore += ts
                    terms.append(self.postings(leaf, fieldname, t))
                cand &= m
                slot_terms.append(terms)
            if len(slots) > 1:  # one word has no positions to check
                check.alternatives.append((cand, slot_terms, slop))
            mask |= cand
            score += fscore * cand
        if check.alternatives:
            if defer is not None:
                defer.append(check)
            else:
                docs = np.flatnonzero(mask)
                keep = check.passes(docs)
                mask = np.zeros(leaf.n, dtype=bool)
                mask[docs[keep]] = True
                score = score * mask
        return mask, (score * boost if boost != 1.0 else score)

    def run(self, q: wq.Query, leaf: _Leaf, defer: Optional[List[_PhraseCheck]] = None):
        """(mask, score) arrays of *q* over one segment.

        *defer* collects phrase checks the caller will do (only where *q* is a
        conjunction down to the phrase, so a failed check can only remove a match).
        """
        if isinstance(q, wq.Term):
            return self.term(leaf, q.fieldname, q.text, q.boost)
        parts = self._phrase_parts(q)
        if parts is not None:
            return self.phrase(leaf, [parts], q.boost, defer)
        if isinstance(q, wq.DateRange):
            pub = leaf.published()
            mask = pub != NO_DATE
            if q.start is not None:
                mask &= (pub > q.start) if q.startexcl else (pub >= q.start)
            if q.end is not None:
                mask &= (pub < q.end) if q.endexcl else (pub <= q.end)
            return mask, mask * float(q.boost)  # constant score, as Whoosh
        if isinstance(q, wq.AndNot):
            mask, score = self.run(q.a, leaf, defer)
            neg, _ = self.run(q.b, leaf)
            mask = mask & ~neg
            return mask, score * mask
        if isinstance(q, wq.Not):
            neg, _ = self.run(q.query, leaf)
            return ~neg, np.zeros(leaf.n)
        if isinstance(q, wq.And):
            mask, score = None, np.zeros(leaf.n)
            for sub in q.subqueries:
                m, s = self.run(sub, leaf, defer)
                mask = m if mask is None else mask & m
                score += s
            if mask is None:
                return np.zeros(leaf.n, dtype=bool), score
            return mask, score * mask
        if isinstance(q, wq.Or):
            fields = [self._phrase_parts(sub) for sub in q.subqueries]
            if fields and all(f is not None for f in fields):
                # one phrase searched in title and body: one check, any field may hold it
                return self.phrase(leaf, fields, q.boost, defer)  # type: ignore[arg-type]
            mask, score = np.zeros(leaf.n, dtype=bool), np.zeros(leaf.n)
            for sub in q.subqueries:
                m, s = self.run(sub, leaf)
                mask |= m
                score += s
            return mask, score
        if isinstance(q, wq.Every):
            return np.ones(leaf.n, dtype=bool), np.ones(leaf.n)
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return np.zeros(leaf.n, dtype=bool), np.zeros(leaf.n)
        raise UnsupportedQuery(type(q).__name__)



def check_phrases(checks: List[_PhraseCheck], mask: np.ndarray, score: np.ndarray, tiebreak: np.ndarray,
                  window: int, *, exact: bool) -> Optional[int]:
    """Drop from *mask* the candidates failing a phrase check; None when the count is exact.

    Checking positions costs a few microseconds a candidate and common-word phrases
    have tens of thousands: past PHRASE_EXACT_DOCS candidates only the best are checked,
    in ranking order, until the window is full, and the total is estimated from an
    evenly spread sample of the rest (returned).
    """
    cand = np.flatnonzero(mask)

    def passing(docs: np.ndarray) -> np.ndarray:
        ok = np.ones(docs.size, dtype=bool)
        for check in checks:
            todo = np.flatnonzero(ok)
            if todo.size:
                ok[todo] = check.passes(docs[todo])
        return ok

    if exact or cand.size <= PHRASE_EXACT_DOCS:
        mask[cand[~passing(cand)]] = False
        return None
    order = cand[np.lexsort((cand, -tiebreak[cand], -score[cand]))]
    found: List[np.ndarray] = []
    nfound = checked = 0
    while checked < order.size and nfound < window:
        chunk = order[checked : checked + max(32, window - nfound + 8)]
        good = chunk[passing(chunk)]
        found.append(good)
        nfound += good.size
        checked += chunk.size
    rest = order[checked:]
    mask[:] = False
    for good in found:
        mask[good] = True
    if not rest.size:
        return None
    sample = rest[:: max(1, rest.size // PHRASE_SAMPLE)]
    share = float(np.count_nonzero(passing(sample))) / sample.size
    return nfound + int(round(share * rest.size))


class ArrayState:
    """What :meth:`WhooshEngine.search` keeps of one searcher: segments as arrays, filter masks."""

    def __init__(self, searcher, schema: Schema) -> None:  # noqa: ANN001 - whoosh searcher
        self.searcher = searcher
        self.schema = schema
        # an index without segments reads through an EmptyReader: no leaves at all
        self.leaves = [_Leaf(r, off, schema) for r, off in searcher.reader().leaf_readers() if hasattr(r, "_terms")]
        for leaf in self.leaves:  # one budget for the index, shared by its segments
            leaf.cache_budget = max(CACHE_MIN_POSTINGS, POSTINGS_CACHE // len(self.leaves))
        self._filters: Dict[Tuple[object, ...], List[np.ndarray]] = {}
        self.docnums: Dict[str, int] = {}
        """Ids of recent candidates -> docnum, so loading them needs no id lookup."""
        self._copies: Optional[CopyIndex] = None

    def copy_index(self) -> CopyIndex:
        """Every segment's near-copy lookup keys and sketches as one index (built on first use)."""
        if self._copies is None:
            self._copies = CopyIndex(self.leaves)
        return self._copies

    def evaluator(self) -> _ArrayEval:
        return _ArrayEval(self.searcher, self.leaves, self.schema)

    def filter_masks(self, spec: SearchSpec, filters: List[wq.Query]) -> Optional[List[np.ndarray]]:
        """Per segment, the documents passing the search's filters (None: no filter); cached."""
        if not filters:
            return None
        key = (tuple(spec.sources), spec.since, spec.until, spec.lang, tuple(spec.domains),
               tuple(spec.exclude_sources), tuple(spec.exclude_ids), tuple(spec.exclude_domains), tuple(spec.authors))
        found = self._filters.get(key)
        if found is None:
            ev = self.evaluator()
            found = []
            for leaf in self.leaves:
                mask = np.ones(leaf.n, dtype=bool)
                for f in filters:
                    mask &= ev.run(f, leaf)[0]
                found.append(mask)
            if len(self._filters) > 64:
                self._filters.clear()
            self._filters[key] = found
        return found
