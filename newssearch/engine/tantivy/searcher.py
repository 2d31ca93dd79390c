"""The EngineSearcher of the tantivy engine: one committed state of the index.

A search runs the compiled tantivy query for the total, the facets and a ranking; the
records of the ranked articles (:mod:`.rows`: id, term counts) are read in tantivy's
order and scored again with Whoosh's BM25F (:func:`.score.scorer`), until no later one
can reach the window (tantivy's score is an upper bound of Whoosh's: :meth:`_ranked`).
A page's hits read their text from the same records. So
the order is the Whoosh engine's, ties by date then id, which tantivy does not know.
Date orders are exact: a descending sort on a fast field, the articles sharing the last
date of the window read by id. Copies of a page's hits come from every sketch held as
arrays (:class:`CopyIndex`), a filtered page's then checked by one search.
"""
from __future__ import annotations

import bisect
import json
import math
import struct
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, List, NamedTuple, Optional, Sequence, Set, Tuple

import numpy as np
import tantivy

from ... import analysis
from ...errors import RebuildNeeded
from ...query import Node
from ..base import Candidate, CompiledQuery, EngineAnswer, EngineStats, SearchSpec, SourceCount, StoredArticle
from ..documents import date_buckets, nearest_terms
from .compile import Compiler, filters, one_of
from .copies import CopyIndex
from .plan import AnyOfPlan, Plan, Planner, Term, describe
from .rows import FOLDER as ROWS, RowStore
from .schema import FORMAT, UNDATED
from .score import constant_only, counts_keywords, norm_of, phrases_of, required_phrases, scorer, uniform, whoosh_idf
from .stored import Row, addr_key, from_micros

__all__ = ["TantivySearcher", "NAME", "RESCORE_EXTRA"]

NAME = "tantivy"
RESCORE_EXTRA = 40
"""How many candidates beyond the asked-for window tantivy ranks first (more when needed)."""
RESCORE_TOLERANCE = 1e-4
"""Slack on the bound "tantivy's score >= Whoosh's" for float rounding (tantivy sums in f32)..."""
RESCORE_TOLERANCE_DELETED = 0.02
"""...and where deleted articles still count in tantivy's average field lengths."""
CHUNK = 16
"""Candidates loaded and scored at a time past the first window (which is loaded at once)."""
MORE_LIKE_TERMS = 20
MAX_BUCKETS = 65_000
CACHE = 4_096
"""Records kept per searcher (a page's hits are ranked, then fetched)."""
DAY_US = 86_400 * 1_000_000

Occur = tantivy.Occur
Q = tantivy.Query


class TantivySearcher:
    """Read-only views of one committed state (made by :meth:`TantivyEngine.searcher`)."""

    def __init__(self, index: "tantivy.Index", where: Path) -> None:
        self.index = index
        self.schema = index.schema
        self.where = where
        self.s = index.searcher()
        self.n = self.s.num_docs
        self.max_docs = _max_docs(where, self.n)
        """Documents tantivy's idf counts: deleted ones too, until their segment is merged."""
        self._df: Dict[Tuple[str, str], int] = {}
        self._avgdl: Optional[Dict[str, float]] = None
        self._langs: Optional[Tuple[str, ...]] = None
        self.store = RowStore(where / ROWS)
        self._rows: Dict[Tuple[int, int], Row] = {}
        """Records read, by address."""
        self._row_of: Dict[str, Row] = {}
        """The same, by id."""
        self._copy_index: Optional[CopyIndex] = None
        self._exact_window = False
        self._plans: Dict[Tuple[Node, Optional[str]], _Compiled] = {}
        """Trees planned and compiled lately (:meth:`_compiled`)."""
        self._norms: Tuple[Dict[int, float], Dict[int, float]] = ({}, {})
        """Each title and body length's norm (:func:`.score.norm_of`; the average lengths are the searcher's)."""
        self._passing: Tuple[Tuple[Any, ...], Set[Tuple[int, int]]] = ((), set())
        """The filters of the last search and the articles it loaded, all of which pass
        them (a page's copies found among those need no search to check them)."""

    # ------------------------------------------------------------ statistics

    def df(self, fieldname: str, term: str) -> int:
        key = (fieldname, term)
        found = self._df.get(key)
        if found is None:
            if len(self._df) > 100_000:
                self._df.clear()
            found = self._df[key] = self.s.doc_freq(fieldname, term)
        return found

    def idf(self, fieldname: str, term: str) -> float:
        return whoosh_idf(self.n, self.df(fieldname, term))

    def avgdl(self) -> Dict[str, float]:
        if self._avgdl is None:
            if not self.n:
                self._avgdl = {"title": 1.0, "body": 1.0}
            else:
                r = self.s.aggregate(Q.all_query(), {"t": {"sum": {"field": "tlen"}}, "b": {"sum": {"field": "blen"}}})
                self._avgdl = {"title": float(r["t"]["value"] or 0) / self.n or 1.0,
                               "body": float(r["b"]["value"] or 0) / self.n or 1.0}
        return self._avgdl

    def languages(self) -> Tuple[str, ...]:
        if self._langs is None:
            self._langs = tuple(sorted(self._terms_agg(Q.all_query(), "lang"))) if self.n else ()
        return self._langs

    def vocabulary(self, fieldname: str, prefix: str) -> List[Tuple[str, int]]:
        if not self.n:
            return []
        return [(t, int(c)) for t, c in self.s.terms_with_prefix(fieldname, prefix)]

    # ------------------------------------------------------------ loading

    def copy_index(self) -> CopyIndex:
        """Every live article's sketch as arrays (made on first use)."""
        if self._copy_index is None:
            self._copy_index = CopyIndex(self)
        return self._copy_index

    def sigs(self, addrs: Sequence["tantivy.DocAddress"]) -> List[Tuple[int, ...]]:
        """The sketches of these articles, from their columns (no stored field read): rows
        of the arrays of every sketch (one lookup, not a column read per hash)."""
        if not addrs:
            return []
        addrs = list(addrs)
        if self.n:
            return self.copy_index().sigs([addr_key(a) for a in addrs])
        lens = self.s.fast_field_values("siglen", addrs)
        width = max((n or 0) for n in lens)
        if not width:
            return [() for _ in addrs]
        # a missing value (past an article's own length) reads as None: never kept
        cols = [[v or 0 for v in self.s.fast_field_values(f"sig{i}", addrs)] for i in range(width)]
        rows = np.array(cols, dtype=np.uint64).T.tolist()
        return [tuple(row[: n or 0]) for row, n in zip(rows, lens)]

    def with_sigs(self, loaded: Sequence[Row]) -> None:
        """Read the sketches of these articles that have none yet."""
        todo = [d for d in loaded if d.sig is None]
        if todo and self.n:  # (sigs() with the keys the records know)
            found = self.copy_index().sigs([d.key for d in todo])
        else:
            found = self.sigs([d.addr for d in todo])
        for d, sig in zip(todo, found):
            d.sig = sig

    def _records(self, addrs: Sequence["tantivy.DocAddress"]) -> List[Row]:
        """The records of these articles (:mod:`.rows`), those read before from the cache."""
        cache = self._rows
        if len(cache) > CACHE:
            cache.clear()
            self._row_of.clear()
        keys = [(a.segment_ord, a.doc) for a in addrs]  # addr_key, inlined
        todo = [(a, k) for a, k in zip(addrs, keys) if k not in cache]
        if todo:
            rows = self.s.fast_field_values("row", [a for a, _k in todo])
            for (a, k), row, head in zip(todo, rows, self.store.heads(rows)):
                if head is None:
                    raise RebuildNeeded(f"the tantivy index at {self.where} lacks an article's record "
                                        f"(row {row}): rebuild needed")
                try:
                    r = cache[k] = Row(head[0], a, head[1], head[2])
                except (struct.error, UnicodeDecodeError) as exc:
                    raise RebuildNeeded(f"the tantivy index at {self.where} holds a damaged record "
                                        f"(row {row}: {exc}): rebuild needed") from exc
                self._row_of[r.id] = r
        return [cache[k] for k in keys]

    def _addrs_of(self, ids: Sequence[str]) -> Dict[str, "tantivy.DocAddress"]:
        """The address of each of these ids that is live (one search for those not seen yet)."""
        out: Dict[str, "tantivy.DocAddress"] = {}
        todo = []
        for i in ids:
            r = self._row_of.get(i)
            if r is not None:
                out[i] = r.addr
            else:
                todo.append(i)
        if todo and self.n:
            hits = self.s.search(one_of(self.schema, "id", todo), len(todo), count=False).hits
            for r in self._records([a for _s, a in hits]):
                out[r.id] = r.addr
        return out

    def _by_ids(self, ids: Sequence[str]) -> Dict[str, Row]:
        known = self._row_of
        if all(i in known for i in ids):  # a page's hits, read when they were ranked
            return {i: known[i] for i in ids}
        addrs = self._addrs_of(ids)
        return {r.id: r for r in self._records(list(addrs.values()))}

    def metas(self, ids: Sequence[str]) -> Dict[str, Dict[str, Any]]:
        """The stored ``meta`` record (content hash...) of each known id (for the writer)."""
        return {i: r.meta for i, r in self._by_ids(ids).items()}

    # ------------------------------------------------------------ compiling

    def planner(self, lang: Optional[str]) -> Planner:
        return Planner(self.vocabulary, lang.lower() if lang else None, self.languages())

    def compiler(self) -> Compiler:
        return Compiler(self.schema, self.max_docs, self.df, self.idf)

    def _filtered(self, q: "tantivy.Query", spec: SearchSpec) -> "tantivy.Query":
        """*q* with the search's filters (itself when there are none)."""
        clauses = filters(self.schema, spec)
        return Q.boolean_query([(Occur.Must, q)] + clauses) if clauses else q

    # ------------------------------------------------------------ searching

    def doc_count(self) -> int:
        return self.n

    def search(self, tree: Node, spec: SearchSpec) -> EngineAnswer:
        compiled = self._compiled(tree, spec.lang)
        total, cands, facets, comp = self._run(compiled.plan, spec, compiled)
        warnings = list(compiled.warnings)
        if comp.approximate:
            warnings.append(comp.approximate)
        return EngineAnswer(total, cands, facets, tuple(warnings), dict(compiled.expanded), compiled.terms)

    def _compiled(self, tree: Node, lang: Optional[str]) -> "_Compiled":
        """*tree* planned and compiled for this searcher, kept for a while (the pages of one
        query, a sentence searched then counted when few articles hold every word)."""
        key = (tree, lang)
        try:
            found = self._plans.get(key)
        except TypeError:  # a tree holding something unhashable: not kept
            key, found = None, None
        if found is None:
            planner = self.planner(lang)
            plan = planner.compile_top(tree)
            comp = self.compiler()
            found = _Compiled(plan, tuple(planner.warnings), dict(planner.expanded), frozenset(planner.terms), comp,
                              comp.query(plan))
            if key is not None:
                if len(self._plans) >= 64:
                    self._plans.clear()
                self._plans[key] = found
        return found

    def _run(self, plan: Plan, spec: SearchSpec, compiled: Optional["_Compiled"] = None):
        comp = compiled.comp if compiled is not None else self.compiler()
        query = self._filtered(compiled.query if compiled is not None else comp.query(plan), spec)
        # a url word scores its count in Whoosh, 1 in tantivy: the whole window is re-scored
        self._exact_window = counts_keywords(plan, "urlwords")
        size = spec.size
        if spec.sort in ("newest", "oldest") or uniform(plan):
            # every match scoring alike (source:, date: alone) ranks newest first: no window
            # of ties to load, however many match
            total, loaded = self._by_date(query, spec.sort if spec.sort in ("newest", "oldest") else "newest", size)
            scored = self._rescore(plan, loaded, comp)
        elif constant_only(plan):
            total, loaded = self._by_constant(query, size)
            scored = self._rescore(plan, loaded, comp)
        else:
            total, scored = self._ranked(plan, query, size, comp)
        self._passing = (_filter_key(spec), {d.key for _s, d in scored})
        scored.sort(key=_row_order(spec.sort))
        kept = scored[:size]
        self.with_sigs([d for _s, d in kept])
        cands = [Candidate(d.id, sc, d.published, d.sig or ()) for sc, d in kept]
        facets = self._facets(query, spec.facets) if spec.facets and total else {n: {} for n in spec.facets}
        return total, cands, facets, comp

    def _ranked(self, plan: Plan, query: "tantivy.Query", size: int,
                comp: Compiler) -> Tuple[int, List[Tuple[float, Row]]]:
        """The total and the candidates that can reach the top *size*, scored exactly.

        tantivy's score of an article is never below Whoosh's (same idf; tantivy keeps a
        length rounded down, Whoosh one rounded up, and a shorter field scores higher),
        so once the next article's tantivy score is below the size-th exact score found
        so far, nothing after it can enter (ties included: they are broken by date and
        id, which tantivy does not know). Records are read in tantivy's order until then,
        the window growing past its RESCORE_EXTRA when needed.
        """
        # deep enough at once that dense scores (common-word phrases) rarely need a second search
        want = max(size + RESCORE_EXTRA, 4 * size)
        tolerance = RESCORE_TOLERANCE if self.max_docs == self.n else RESCORE_TOLERANCE_DELETED
        seen: Set[Tuple[int, int]] = set()
        scored: List[Tuple[float, Row]] = []
        best: List[float] = []  # exact scores, ascending
        while True:
            r = self.s.search(query, want, count=True)
            hits, total = r.hits, r.count
            stop = False
            fresh = [(sc, a) for sc, a in hits if addr_key(a) not in seen] if seen else hits
            start = 0
            while start < len(fresh):
                # the window's first *size* at once (all of them are needed), then by chunks
                # of those still above the floor (loading past it only to drop them cost
                # ~8 articles a query)
                take = size - len(best) if len(best) < size and not self._exact_window else CHUNK
                chunk = fresh[start : start + take]
                start += take
                if len(best) >= size and not self._exact_window:
                    floor = best[-size] * (1 - tolerance)
                    chunk = [h for h in chunk if h[0] >= floor]
                    if not chunk:
                        stop = True
                        break
                seen.update(addr_key(a) for _sc, a in chunk)
                for sc, d in self._rescore(plan, self._records([a for _sc, a in chunk]), comp):
                    scored.append((sc, d))
                    bisect.insort(best, sc)
            if stop or len(hits) >= total or len(hits) < want:
                return total, scored
            want = min(total, want * 4)

    def _by_constant(self, query: "tantivy.Query", size: int) -> Tuple[int, List[Row]]:
        """The top *size* of a query scored by constants only (tantivy's scores are exact):
        every match's score and date from columns, sorted, and only the window loaded
        (with the articles tied with its last on both, which the id orders)."""
        total = self.s.search(query, 1, count=True).count
        if not total:
            return 0, []
        hits = self.s.search(query, total, count=False).hits
        addrs = [a for _s, a in hits]
        score = np.asarray([sc for sc, _a in hits], dtype=np.float64)
        newest = np.asarray(self.s.fast_field_values("newest", addrs), dtype=np.float64)
        order = np.lexsort((-newest, -score))
        if order.size > size:
            last = order[size - 1]
            tied = (score[order] == score[last]) & (newest[order] == newest[last])
            cut = size + int(np.count_nonzero(tied[size:]))
            order = order[:cut]
        return total, self._records([addrs[int(i)] for i in order])

    def _by_date(self, query: "tantivy.Query", sort: str, size: int) -> Tuple[int, List[Row]]:
        key = "newest" if sort == "newest" else "oldest"
        r = self.s.search(query, size + 1, count=True, order_by_field=key, order=tantivy.Order.Desc)
        hits = r.hits
        if len(hits) > size and hits[size][0] == hits[size - 1][0]:
            # the window ends inside a run of equal dates: those go by id
            last = hits[size - 1][0]
            before = [h for h in hits if h[0] > last]
            tie = Q.boolean_query([(Occur.Must, query), (Occur.Must, Q.const_score_query(
                Q.range_query(self.schema, key, tantivy.FieldType.Integer, last, last), 0.0))])
            tied = self.s.search(tie, size - len(before), count=False, order_by_field="id", order=tantivy.Order.Asc).hits
            hits = before + tied
        return r.count, self._records([a for _k, a in hits[:size]])

    def _rescore(self, plan: Plan, loaded: List[Row], comp: Compiler) -> List[Tuple[float, Row]]:
        """Each loaded article with Whoosh's score."""
        if not loaded:
            return []
        ids = [d.id for d in loaded]
        passing: Dict[int, Set[str]] = {}
        required = required_phrases(plan)
        for ph in phrases_of(plan):
            if ph.key in required:  # every match holds it
                passing[ph.key] = set(ids)
                continue
            q = Q.boolean_query([(Occur.Must, comp.positions(ph)),
                                 (Occur.Must, one_of(self.schema, "id", ids))])
            where = {addr_key(a) for _s, a in self.s.search(q, len(ids), count=False).hits}
            passing[ph.key] = {d.id for d in loaded if d.key in where}
        self._with_cols(loaded)
        score = scorer(plan, self.idf, lambda key, i: i in passing.get(key, ()))
        out = []
        for d in loaded:
            s = score(d)
            out.append((0.0 if s is None else s, d))
        return out

    def _with_cols(self, loaded: Sequence[Row]) -> None:
        """Read the lengths and dates of these articles from their columns (three reads for
        all, where each article's ``meta`` would be decoded on its own), and their length norms."""
        todo = [d for d in loaded if d.cols is None]
        if not todo:
            return
        addrs = [d.addr for d in todo]
        cols = zip(self.s.fast_field_values("tlen", addrs), self.s.fast_field_values("blen", addrs),
                   self.s.fast_field_values("newest", addrs))
        avgdl = self.avgdl()
        t_avg, b_avg = avgdl.get("title"), avgdl.get("body")
        t_norms, b_norms = self._norms
        for d, (tl, bl, newest) in zip(todo, cols):
            tl, bl = tl or 0, bl or 0
            d.cols = (tl, bl, None if newest is None or newest == UNDATED else newest)
            nt = t_norms.get(tl)
            if nt is None:
                nt = t_norms[tl] = norm_of(tl, t_avg)
            nb = b_norms.get(bl)
            if nb is None:
                nb = b_norms[bl] = norm_of(bl, b_avg)
            d.norms = {"title": nt, "body": nb}

    def _terms_agg(self, query: "tantivy.Query", fieldname: str) -> Dict[str, int]:
        r = self.s.aggregate(query, {"a": {"terms": {"field": fieldname, "size": MAX_BUCKETS}}})
        return {str(b["key"]): int(b["doc_count"]) for b in r["a"]["buckets"] if b["key"] != ""}

    def _facets(self, query: "tantivy.Query", names: Sequence[str]) -> Dict[str, Dict[str, int]]:
        aggs: Dict[str, Any] = {}
        for name in names:
            if name in ("source", "lang"):
                aggs[name] = {"terms": {"field": name, "size": MAX_BUCKETS}}
            elif "days" not in aggs:
                aggs["days"] = {"histogram": {"field": "published", "interval": DAY_US, "min_doc_count": 1}}
        r = self.s.aggregate(query, aggs) if aggs else {}
        out: Dict[str, Dict[str, int]] = {}
        for name in names:
            if name in ("source", "lang"):
                out[name] = {str(b["key"]): int(b["doc_count"]) for b in r[name]["buckets"] if b["key"] != ""}
            elif name in ("day", "week", "month"):
                days = [(from_micros(b["key"]), int(b["doc_count"])) for b in r["days"]["buckets"] if b["doc_count"]]
                out[name] = date_buckets(days, name)
        return out

    def count(self, tree: Node) -> int:
        return self.s.search(self._compiled(tree, None).query, 1, count=True).count if self.n else 0

    def fetch(self, ids: Sequence[str]) -> Dict[str, StoredArticle]:
        found = self._by_ids(list(ids))
        return {i: StoredArticle(d.id, d.title, d.body, d.source, d.published, d.meta.get("url"), d.lang,
                                 d.meta.get("author")) for i, d in found.items()}

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> List[str]:
        if not self.n or not prefix:
            return []
        out: List[str] = []
        for term, _c in sorted(self.s.terms_with_prefix("id", prefix)):
            if self.s.search(Q.term_query(self.schema, "id", term), 1, count=True).count:
                out.append(term)
                if len(out) >= limit:
                    break
        return out

    def signature(self, article_id: str) -> Optional[Tuple[int, ...]]:
        r = self._by_ids([article_id]).get(article_id)
        if r is None:
            return None
        self.with_sigs([r])
        return r.sig

    def copies(self, signatures: Sequence[Tuple[int, ...]], spec: Optional[SearchSpec] = None) -> List[List[str]]:
        """For each sketch, the ids of the indexed near-copies (as the Whoosh wing: by lookup
        keys, a key held by more than MAX_KEY_SHARE articles ignored, the search's filters kept).

        The copies come from every sketch held as arrays; with filters, one search then
        keeps those of the copies found that pass them, but for those the last search
        with the same filters loaded (a page's hits themselves: most pages find no other
        copy, and then no search runs)."""
        out: List[List[str]] = [[] for _ in signatures]
        if not signatures or not self.n:
            return out
        found = self.copy_index().find(signatures)
        clauses = filters(self.schema, spec) if spec is not None and found else []
        ids = self._ids([a for _n, a in found])
        if clauses:
            filter_key, passing = self._passing
            kept = passing if filter_key == _filter_key(spec) else set()
            check = sorted({cid for (_n, a), cid in zip(found, ids) if addr_key(a) not in kept})
            if check:
                q = Q.boolean_query([(Occur.Must, one_of(self.schema, "id", check))] + clauses)
                kept = kept | {addr_key(a) for _s, a in self.s.search(q, len(check), count=False).hits}
            pairs = [(n, cid) for (n, a), cid in zip(found, ids) if addr_key(a) in kept]
        else:
            pairs = [(n, cid) for (n, _a), cid in zip(found, ids)]
        for n, cid in pairs:
            out[n].append(cid)
        return [sorted(ids) for ids in out]

    def _ids(self, addrs: Sequence["tantivy.DocAddress"]) -> List[str]:
        """The ids of these articles (from their records)."""
        return [r.id for r in self._records(addrs)]

    def more_like(self, article_id: str, spec: SearchSpec) -> Optional[EngineAnswer]:
        d = self._by_ids([article_id]).get(article_id)
        if d is None:
            return None
        tf: Dict[str, int] = {}
        for counts, times in ((d.counts("title"), 2), (d.counts("body"), 1)):
            for t, c in counts.items():
                tf[t] = tf.get(t, 0) + c * times
        n = self.n or 1
        weight = {t: c * (math.log(n / (self.df("body", t) + 1)) + 1) for t, c in tf.items()}
        key_terms = sorted(weight, key=lambda t: (-weight[t], t))[:MORE_LIKE_TERMS]
        if not key_terms:
            return EngineAnswer(0, [])
        plan = AnyOfPlan(tuple(Term(f, t, max(weight[t], 1e-6)) for t in key_terms for f in ("title", "body")))
        excluded = SearchSpec(**{**spec.__dict__, "exclude_ids": tuple(spec.exclude_ids) + (article_id,)})
        total, cands, _facets, _comp = self._run(plan, excluded)
        return EngineAnswer(total, cands)

    def explain(self, tree: Node, *, lang: Optional[str] = None) -> CompiledQuery:
        planner = self.planner(lang)
        plan = planner.compile_top(tree)
        return CompiledQuery(describe(plan), tuple(planner.warnings), dict(planner.expanded))

    # ------------------------------------------------------------ vocabulary

    def term_frequency(self, term: str) -> int:
        if not self.n or not term:
            return 0
        return max(self.df("title", term), self.df("body", term))

    def similar_terms(self, term: str, max_distance: int = 2, limit: int = 5) -> List[Tuple[int, int, str]]:
        if not term:
            return []
        return nearest_terms((sorted(self.vocabulary(f, term[:1])) for f in ("body", "title")), term, max_distance, limit)

    def surface_of(self, term: str) -> Optional[str]:
        if not self.n or not term:
            return None
        q = Q.boolean_query([(Occur.Should, Q.term_query(self.schema, "title", term)),
                             (Occur.Should, Q.term_query(self.schema, "body", term))])
        hits = self.s.search(q, 1, count=False, order_by_field="id", order=tantivy.Order.Asc).hits
        for d in self._records([a for _k, a in hits]):
            for text in (d.title, d.body):
                for t, _pos, start, end in analysis.analyze(text, lang=d.lang):
                    if t == term:
                        return text[start:end]
        return None

    # ------------------------------------------------------------ sources, stats

    def sources(self) -> List[SourceCount]:
        if not self.n:
            return []
        r = self.s.aggregate(Q.all_query(), {"s": {"terms": {"field": "source", "size": MAX_BUCKETS}, "aggs": {
            "lo": {"min": {"field": "published"}}, "hi": {"max": {"field": "published"}}}}})
        rows = [SourceCount(str(b["key"]), int(b["doc_count"]), _when(b["lo"]["value"]), _when(b["hi"]["value"]))
                for b in r["s"]["buckets"]]
        named = sum(row.articles for row in rows)
        if named < self.n:  # articles without a source hold no term of the field
            lo, hi = self._date_range(Q.boolean_query([(Occur.Must, Q.all_query()),
                                                        (Occur.MustNot, Q.exists_query("source"))]))
            rows.append(SourceCount("", self.n - named, lo, hi))
        return sorted([r for r in rows if r.name or r.articles], key=lambda s: (-s.articles, s.name.casefold(), s.name))

    def _date_range(self, query: "tantivy.Query") -> Tuple[Optional[datetime], Optional[datetime]]:
        r = self.s.aggregate(query, {"lo": {"min": {"field": "published"}}, "hi": {"max": {"field": "published"}}})
        return _when(r["lo"]["value"]), _when(r["hi"]["value"])

    def stats(self) -> EngineStats:
        if self.n:
            sources = self._terms_agg(Q.all_query(), "source")
            langs = self._terms_agg(Q.all_query(), "lang")
            oldest, newest = self._date_range(Q.all_query())
        else:
            sources, langs, oldest, newest = {}, {}, None, None
        size = sum(p.stat().st_size for p in self.where.rglob("*") if p.is_file())
        return EngineStats(self.n, dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
                           dict(sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))), oldest, newest,
                           max(1, self.s.num_segments), size, FORMAT, analysis.ANALYSIS_VERSION, NAME)

    # ------------------------------------------------------------ writer support, verification

    def ids_matching(self, *, ids: Optional[Sequence[str]], source_keys: Sequence[str],
                     before: Optional[int]) -> List[str]:
        """Ids of live articles matching every criterion given (for deletes)."""
        if not self.n:
            return []
        clauses = []
        if ids is not None:
            clauses.append((Occur.Must, one_of(self.schema, "id", list(ids))))
        if source_keys:
            clauses.append((Occur.Must, one_of(self.schema, "source_key", list(source_keys))))
        if before is not None:
            clauses.append((Occur.Must, Q.range_query(self.schema, "published", tantivy.FieldType.Integer, None,
                                                      before, include_upper=False)))
        q = Q.boolean_query(clauses) if clauses else Q.all_query()
        total = self.s.search(q, 1, count=True).count
        if not total:
            return []
        return [k for k, _a in self.s.search(q, total, count=False, order_by_field="id").hits]

    def _live_rows(self) -> List[Optional[int]]:
        """The row number of every live article (None where the column has none)."""
        if not self.n:
            return []
        addrs = [a for _s, a in self.s.search(Q.all_query(), self.n, count=False).hits]
        return self.s.fast_field_values("row", addrs)

    def all_rows(self) -> List[int]:
        """The row number of every live article (for folding the record files)."""
        return [r for r in self._live_rows() if r is not None]

    def rows_complete(self) -> bool:
        """Whether every live article has its record (a verification)."""
        rows = self._live_rows()
        return None not in rows and self.store.holds(rows)

    def probe(self) -> Optional[bool]:
        """Search for a word of a stored article and check it comes back; None when empty."""
        if not self.n:
            return None
        hits = self.s.search(Q.all_query(), 1, count=False, order_by_field="id", order=tantivy.Order.Asc).hits
        for d in self._records([a for _k, a in hits]):
            terms = analysis.query_terms(f"{d.title} {d.body[:300]}", lang=d.lang)
            if not terms:
                return True
            q = Q.boolean_query([(Occur.Must, Q.term_query(self.schema, "id", d.id)),
                                 (Occur.Must, Q.boolean_query([(Occur.Should, Q.term_query(self.schema, f, terms[0]))
                                                               for f in ("title", "body")]))])
            return self.s.search(q, 1, count=True).count == 1
        return True


class _Compiled(NamedTuple):
    """A tree as this searcher runs it: its plan, the planner's notes, the compiler and its query."""

    plan: Plan
    warnings: Tuple[str, ...]
    expanded: Dict[str, Any]
    terms: FrozenSet[str]
    comp: Compiler
    query: "tantivy.Query"


def _row_order(sort: str) -> Callable[[Tuple[float, Row]], Tuple[Any, ...]]:
    """:func:`..documents.order_key` of *sort* for (score, record) pairs, from the record's
    time in microseconds: ``us / 1e6`` is the ``timestamp()`` of its datetime to the last
    bit (both divide the integer once), so the order is the same, and no datetime is made
    for the candidates a page drops."""
    if sort in ("newest", "oldest"):
        sign = -1 if sort == "newest" else 1

        def by_date(sd: Tuple[float, Row]) -> Tuple[Any, ...]:
            us = sd[1].pub
            return (True, 0.0, sd[1].id) if us is None else (False, sign * (int(us) / 1_000_000), sd[1].id)
        return by_date

    def by_score(sd: Tuple[float, Row]) -> Tuple[Any, ...]:
        us = sd[1].pub
        return (-sd[0], -(int(us) / 1_000_000) if us is not None else _INF, sd[1].id)
    return by_score


_INF = float("inf")


def _filter_key(spec: SearchSpec) -> Tuple[Any, ...]:
    """What :func:`.compile.filters` reads of *spec*: two specs alike here filter alike."""
    return (tuple(spec.sources), spec.since, spec.until, spec.lang, tuple(spec.domains), tuple(spec.authors),
            tuple(spec.exclude_domains), tuple(spec.exclude_sources), tuple(spec.exclude_ids))


def _max_docs(where: Path, alive: int) -> int:
    """Live and deleted documents of the committed index (tantivy's meta.json), or *alive*."""
    try:
        meta = json.loads((where / "tantivy" / "meta.json").read_text(encoding="utf-8"))
        return max(alive, sum(int(seg["max_doc"]) for seg in meta.get("segments", [])))
    except (OSError, ValueError, KeyError, TypeError):
        return alive


def _when(value: Optional[float]) -> Optional[datetime]:
    return from_micros(value) if value is not None and not (isinstance(value, float) and math.isnan(value)) else None
