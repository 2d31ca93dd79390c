"""The query tree (:mod:`newssearch.query`) and a search's filters as OpenSearch query DSL.

Scores are made to equal the Whoosh wing's BM25F. Each scored term is a ``term`` query
on the ``title``/``body`` bag fields, whose BM25 differs from Whoosh's only in the idf
(Lucene: ln(1 + (N - df + 0.5) / (df + 0.5)); Whoosh: ln(N / (df + 1)) + 1) and in how
each quantizes document lengths (one byte each, different steps: near-equal scores may
swap); so every term query carries the boost that turns the one idf into the other, from the document frequencies of that searcher (:meth:`Compiler.finish`).
Boolean structure is kept as Whoosh sums it: And and Or add their children's scores,
a phrase adds its terms' scores and is checked by a span query used as a filter, dates
and keyword fields score a constant 1.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from ... import analysis
from ...query import MIN_PREFIX, Node
from ..base import SearchSpec
from ..documents import MAX_SCAN, author_words, choose_expansion, clean_domain, source_key, url_words
from ..walk import TreeWalk
from .mapping import LAYERS, clip

__all__ = ["Compiler", "filters", "millis", "MATCH_NONE"]

MATCH_NONE: Dict[str, Any] = {"match_none": {}}
_REGEX_SPECIAL = re.compile(r'([.?+*|{}\[\]()"\\#@&<>~])')

Vocabulary = Callable[[str, str, int], List[Tuple[str, int]]]
"""(field, Lucene regexp, size) -> (term, document frequency), in term order."""


def millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _should(clauses: List[Dict[str, Any]], minimum: int = 1) -> Dict[str, Any]:
    if len(clauses) == 1 and minimum == 1:
        return clauses[0]
    return {"bool": {"should": clauses, "minimum_should_match": minimum}}


def filters(spec: SearchSpec) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """A search's filters as (filter, must_not) clauses."""
    keep: List[Dict[str, Any]] = []
    drop: List[Dict[str, Any]] = []
    if spec.sources:
        keep.append({"terms": {"source_key": [source_key(s) for s in spec.sources]}})
    if spec.since is not None or spec.until is not None:
        bounds = {}
        if spec.since is not None:
            bounds["gte"] = millis(spec.since)
        if spec.until is not None:
            bounds["lte"] = millis(spec.until)
        keep.append({"range": {"published": bounds}})
    if spec.lang:
        keep.append({"term": {"lang": spec.lang.lower()}})
    if spec.domains:
        keep.append({"terms": {"domains": [clean_domain(d) for d in spec.domains]}})
    if spec.authors:
        names = [author_words(a) for a in spec.authors]
        keep.append({"bool": {"should": [{"bool": {"filter": [{"term": {"authorwords": w}} for w in n]}}
                                         for n in names if n] or [{"match_none": {}}], "minimum_should_match": 1}})
    if spec.exclude_domains:
        drop.append({"terms": {"domains": [clean_domain(d) for d in spec.exclude_domains]}})
    if spec.exclude_sources:
        drop.append({"terms": {"source_key": [source_key(s) for s in spec.exclude_sources]}})
    if spec.exclude_ids:
        drop.append({"ids": {"values": list(spec.exclude_ids)}})
    return keep, drop


@dataclass
class Compiler(TreeWalk[Dict[str, Any]]):
    """Compiles one tree; ``warnings``, ``expanded`` and ``terms`` say what it did.

    *vocabulary* reads index terms for prefix and fuzzy words. Scored term queries are
    collected in ``scored`` so :meth:`finish` can set their boosts once the document
    frequencies are known.
    """

    vocabulary: Vocabulary
    lang: Optional[str] = None
    langs: Tuple[str, ...] = ()
    warnings: List[str] = field(default_factory=list)
    expanded: Dict[str, int] = field(default_factory=dict)
    terms: Set[str] = field(default_factory=set)
    scored: List[Tuple[Dict[str, Any], str, str, float, Tuple[str, ...]]] = field(default_factory=list)
    """(term query, field, term, weight, names of the groups that must match for it to count)."""
    groups: int = 0
    _inside: Tuple[str, ...] = ()
    constants: int = 0
    """Constant-score clauses made (named ``c0``, ``c1``...; scored terms are ``t0``...)."""

    def compile(self, node: Node) -> Dict[str, Any]:
        found = self._compile(node)
        return found if found is not None else MATCH_NONE

    def finish(self, idf: Callable[[str, str], Tuple[float, float]]) -> None:
        """Set each scored term's boost: *idf(field, term)* gives (Whoosh idf, Lucene idf)."""
        for leaf, fieldname, term, weight, _groups in self.scored:
            ours, lucene = idf(fieldname, term)
            leaf["boost"] = weight * ours / lucene if lucene > 0 else 0.0

    # ------------------------------------------------------------ leaves

    def term(self, fieldname: str, term: str, weight: float = 1.0) -> Dict[str, Any]:
        """A scored term of title or body."""
        leaf: Dict[str, Any] = {"value": term, "boost": 1.0, "_name": f"t{len(self.scored)}"}
        self.scored.append((leaf, fieldname, term, weight, self._inside))
        return {"term": {fieldname: leaf}}

    def const(self, query: Dict[str, Any]) -> Dict[str, Any]:
        """A clause scoring 1 (dates, names, urls), as Whoosh scores unscored fields."""
        named = {"constant_score": {"filter": query, "boost": 1.0, "_name": f"c{self.constants}"}}
        self.constants += 1
        return named

    def _span(self, fieldname: str, slots: Sequence[Sequence[str]], slop: int) -> Dict[str, Any]:
        """The positions of *slots* in order, each step at most *slop* positions on."""
        base = f"{fieldname}_p0"

        def slot(terms: Sequence[str]) -> Dict[str, Any]:
            options: List[Dict[str, Any]] = []
            for t in terms:
                options.append({"span_term": {base: t}})
                for layer in range(1, LAYERS):
                    options.append({"span_field_masking": {"query": {"span_term": {f"{fieldname}_p{layer}": t}},
                                                           "field": base}})
            return options[0] if len(options) == 1 else {"span_or": {"clauses": options}}

        clauses = [slot(s) for s in slots]
        if slop == 0 or len(clauses) == 2:
            return {"span_near": {"clauses": clauses, "slop": slop, "in_order": True}}
        # a span query's slop is the total of the gaps; ours is per step: nest pairwise
        span = clauses[0]
        for nxt in clauses[1:]:
            span = {"span_near": {"clauses": [span, nxt], "slop": slop, "in_order": True}}
        return span

    def word(self, text: str, fieldname: Optional[str], slop: int) -> Optional[Dict[str, Any]]:
        """A word or phrase (*slop* 0 = adjacent) in one field, or in title and body."""
        if fieldname == "source":
            return self.const({"term": {"source_key": source_key(text.strip())}})
        if fieldname == "lang":
            return self.const({"term": {"lang": text.strip().lower()}})
        if fieldname == "site":
            return self.const({"term": {"domains": clean_domain(text)}})
        if fieldname in ("url", "author"):
            words = url_words(text) if fieldname == "url" else author_words(text)
            if not words:
                return None
            name = "urlwords" if fieldname == "url" else "authorwords"
            parts = [self.const({"term": {name: w}}) for w in words]
            return parts[0] if len(parts) == 1 else {"bool": {"must": parts}}
        alternatives = [tuple(clip(t) for t in a) for a in analysis.query_alternatives(text, lang=self.lang,
                                                                                          langs=self.langs)]
        if not alternatives:
            return None
        fields = (fieldname,) if fieldname else ("title", "body")
        if len(alternatives) == 1:
            return _should([self.term(f, t) for f in fields for t in alternatives[0]])
        # the terms of a field add their scores when all are present there (as Whoosh
        # scores a phrase); positions are checked as a filter
        present = []
        for f in fields:
            name = f"g{self.groups}"
            self.groups += 1
            outer, self._inside = self._inside, self._inside + (name,)
            present.append({"bool": {"must": [_should([self.term(f, t) for t in alts]) for alts in alternatives],
                                     "_name": name}})
            self._inside = outer
        spans = [self._span(f, alternatives, slop) for f in fields]
        return {"bool": {"should": present, "minimum_should_match": 1, "filter": [_should(spans)]}}

    def _expand(self, text: str, fieldname: Optional[str], *, prefix: bool, distance: int = 1) -> Optional[Dict[str, Any]]:
        """A prefix or fuzzy word as an Or of at most MAX_EXPANSION index terms (the most frequent)."""
        folded = analysis.query_terms(text, stem=False)
        stemmed = analysis.query_terms(text)
        if not folded:
            return None
        if fieldname not in (None, "title", "body", "url"):
            return MATCH_NONE  # source:, lang:, site: hold names, not words
        head = [_should([self.term(f, t) for f in ((fieldname,) if fieldname else ("title", "body"))])
                for t in stemmed[:-1]]
        word = folded[-1]
        stem = stemmed[-1] if stemmed else word
        if prefix and len(word) < MIN_PREFIX:
            self.warnings.append(f"prefix {text + '*'!r} is too short: searched {word!r}")
            return self.word(" ".join(folded), fieldname, slop=0)
        fields = ("urlwords",) if fieldname == "url" else ((fieldname,) if fieldname else ("title", "body"))
        base = (stem if word.startswith(stem) else word) if prefix else stem[:1]
        pattern = _REGEX_SPECIAL.sub(r"\\\1", base) + ".*"
        chosen, cut = choose_expansion(
            (self.vocabulary("urlwords" if f == "urlwords" else f"{f}_terms", pattern, MAX_SCAN + 1) for f in fields),
            stem=stem, prefix=prefix, distance=distance)
        label = f"{text}*" if prefix else f"{text}~{distance}"
        if cut:
            self.warnings.append(f"{label!r} matches too many words: searched the {len(chosen)} most frequent")
        self.expanded[label] = len(chosen)
        self.terms.update(chosen)
        if not chosen:
            return MATCH_NONE if not head else None
        if fields == ("urlwords",):
            alts = _should([self.const({"term": {"urlwords": t}}) for t in chosen])
        else:
            alts = _should([self.term(f, t) for t in chosen for f in fields])
        return {"bool": {"must": head + [alts]}} if head else alts

    # ------------------------------------------------------------ structure

    def dates(self, start: Optional[datetime], end: Optional[datetime]) -> Dict[str, Any]:
        bounds: Dict[str, int] = {}
        if start is not None:
            bounds["gte"] = millis(start)
        if end is not None:
            bounds["lte"] = millis(end)
        return self.const({"range": {"published": bounds}} if bounds else {"exists": {"field": "published"}})

    def either(self, kids: List[Dict[str, Any]], need: int) -> Optional[Dict[str, Any]]:
        return _should(kids, need) if kids else None

    def both(self, pos: List[Dict[str, Any]], neg: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        if not pos:
            return None if not neg else {"bool": {"must": [self.const({"match_all": {}})], "must_not": neg}}
        if not neg and len(pos) == 1:
            return pos[0]
        body: Dict[str, Any] = {"must": pos}
        if neg:
            body["must_not"] = neg
        return {"bool": body}
