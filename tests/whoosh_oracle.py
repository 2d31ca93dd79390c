"""The tests' oracle: a search run by Whoosh's own matchers and collectors.

The Whoosh engine evaluates queries over posting arrays (newssearch.engine.whoosh.evaluate);
this runs the same compiled query through Whoosh's matcher tree, scorer, sort and facet
machinery instead, so tests can check that both find, score, order and count the same.
Not shipped: nothing in production takes this path.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

from whoosh import query as wq
from whoosh import sorting

from newssearch.engine.base import Candidate, EngineAnswer, SearchSpec
from newssearch.engine.documents import date_buckets, relevance_key
from newssearch.engine.whoosh.compile import filters
from newssearch.engine.whoosh.schema import NO_DATE, aware
from newssearch.engine.whoosh.searcher import WhooshSearcher
from newssearch.query import AnyOf, Node

__all__ = ["oracle_search"]


class _RawColumnFacet(sorting.FacetType):
    """Groups by a column's raw value (Whoosh's FieldFacet overflows on undated articles)."""

    def __init__(self, fieldname: str) -> None:
        self.fieldname = fieldname
        self.maptype = sorting.Count

    def categorizer(self, global_searcher: object) -> "_RawColumnCategorizer":
        return _RawColumnCategorizer(self.fieldname)


class _RawColumnCategorizer(sorting.Categorizer):
    def __init__(self, fieldname: str) -> None:
        self.fieldname = fieldname
        self._column = None

    def set_searcher(self, segment_searcher, docoffset: int) -> None:  # noqa: ANN001
        self._column = segment_searcher.reader().column_reader(self.fieldname, translate=False)

    def key_for(self, matcher, segment_docnum: int) -> object:  # noqa: ANN001
        return self._column[segment_docnum] if self._column is not None else NO_DATE


class _DateOrderFacet(sorting.FacetType):
    """Newest or oldest first, undated articles last."""

    def __init__(self, newest: bool) -> None:
        self.newest = newest
        self.maptype = None

    def categorizer(self, global_searcher: object) -> "_DateOrderCategorizer":
        return _DateOrderCategorizer(self.newest)


class _DateOrderCategorizer(_RawColumnCategorizer):
    def __init__(self, newest: bool) -> None:
        super().__init__("published")
        self.newest = newest

    def key_for(self, matcher, segment_docnum: int) -> object:  # noqa: ANN001
        raw = super().key_for(matcher, segment_docnum)
        if raw == NO_DATE:
            return (1, 0)
        return (0, -raw if self.newest else raw)


def _facet_spec(names: Sequence[str]):
    spec = {}
    if "source" in names:
        spec["source"] = sorting.FieldFacet("source", maptype=sorting.Count)
    if "lang" in names:
        spec["lang"] = sorting.FieldFacet("lang", maptype=sorting.Count)
    if any(n in names for n in ("day", "week", "month")):
        spec["published"] = _RawColumnFacet("published")
    return spec or None


def _facets(results, names: Sequence[str], schema) -> Dict[str, Dict[str, int]]:  # noqa: ANN001
    out: Dict[str, Dict[str, int]] = {}
    for name in ("source", "lang"):
        if name in names:
            out[name] = {str(k): int(v) for k, v in results.groups(name).items() if k not in (None, "")}
    if "published" in (results._facetmaps or {}):
        stamps = results.groups("published")
        field = schema["published"]
        for unit in ("day", "week", "month"):
            if unit in names:
                out[unit] = date_buckets(
                    ((field.from_column_value(k) if k != NO_DATE else None, v) for k, v in stamps.items()), unit
                )
    return {name: out[name] for name in names if name in out}


def oracle_search(searcher: WhooshSearcher, tree: Node, spec: SearchSpec) -> EngineAnswer:
    """*tree* searched with Whoosh's matchers: total, window, facets (no AnyOf)."""
    assert not isinstance(tree, AnyOf), "the oracle does not count min_match"
    q = searcher.compiler(spec.lang).compile(tree)
    fs = filters(spec)
    if fs:
        q = wq.And([q] + fs)
    ws = searcher._searcher
    sortedby = None
    if spec.sort in ("newest", "oldest"):
        sortedby = sorting.MultiFacet([_DateOrderFacet(newest=spec.sort == "newest"), sorting.FieldFacet("id")])
    results = ws.search(q, limit=spec.size, sortedby=sortedby, groupedby=_facet_spec(spec.facets))
    cands: List[Candidate] = []
    for key, docnum in list(results.top_n)[: spec.size]:
        stored = ws.stored_fields(docnum)
        score = float(key) if sortedby is None else 0.0
        cands.append(Candidate(stored["id"], score, aware(stored.get("published")), searcher.signature(stored["id"]) or ()))
    if sortedby is None:
        cands.sort(key=relevance_key)
    return EngineAnswer(len(results), cands, _facets(results, spec.facets, searcher.schema) if spec.facets else {})
