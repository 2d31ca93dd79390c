"""Reading one committed state of a Whoosh index: the :class:`~newssearch.engine.base.EngineSearcher`."""
from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from whoosh import query as wq
from whoosh import scoring, sorting
from whoosh.support.levenshtein import distance as edit_distance

from ... import analysis
from ...query import AnyOf, Node
from .. import arrays
from ..base import Candidate, CompiledQuery, EngineAnswer, EngineStats, SearchSpec, SourceCount, StoredArticle
from ..documents import MAX_SCAN, date_buckets, order_key
from .compile import CompileReport, QueryCompiler, filters
from .copies import copies_of_many
from .evaluate import ArrayState, _PhraseCheck, check_phrases
from .leaves import _Leaf, _day_key
from .safepickle import reports_location
from .schema import DAY0, FORMAT_VERSION, NO_DATE, aware

__all__ = ["WhooshSearcher"]


@reports_location  # a refused pickle read lazily from a segment names the index directory
class WhooshSearcher:
    """A searcher of one committed state: a Whoosh searcher and its segments as arrays.

    Made by :meth:`WhooshEngine.searcher` and kept until the next commit (a published
    generation never changes), so posting arrays, filter masks and the copy lookup
    built for one search serve the next ones.
    """

    def __init__(self, ix, where: Path) -> None:  # noqa: ANN001 - whoosh index
        self._ix = ix
        self._where = where
        self.schema = ix.schema
        self._searcher = ix.searcher(weighting=scoring.BM25F())
        self._arrays: Optional[ArrayState] = None
        self._langs: Optional[Tuple[str, ...]] = None

    def close(self) -> None:
        self._searcher.close()

    @property
    def _state(self) -> ArrayState:
        """The segments as arrays, made on first use."""
        if self._arrays is None:
            self._arrays = ArrayState(self._searcher, self.schema)
        return self._arrays

    # ------------------------------------------------------------ compiling

    def languages(self) -> Tuple[str, ...]:
        """The distinct ``lang`` values stored in the index."""
        if self._langs is None:
            self._langs = tuple(sorted(t.decode("utf-8") if isinstance(t, bytes) else str(t)
                                       for t in self._searcher.lexicon("lang")))
        return self._langs

    def compiler(self, lang: Optional[str] = None) -> QueryCompiler:
        return QueryCompiler(self._searcher.reader(), self.schema, lang=lang, langs=self.languages())

    def explain(self, tree: Node, *, lang: Optional[str] = None) -> CompiledQuery:
        compiler = self.compiler(lang)
        q = compiler.compile(tree)
        return CompiledQuery(str(q), tuple(compiler.report.warnings), dict(compiler.report.expanded))

    # ------------------------------------------------------------ searching

    def doc_count(self) -> int:
        return self._searcher.doc_count()

    def search(self, tree: Node, spec: SearchSpec) -> EngineAnswer:
        """Total, a ranked window of ``spec.size`` candidates (for ``fresh``, by relevance:
        NewsIndex re-ranks), facets and warnings; stored fields are fetched later, only
        for the hits shown."""
        state = self._state
        compiler = self.compiler(spec.lang)
        report: CompileReport = compiler.report
        min_match = tree.min_match if isinstance(tree, AnyOf) else 1
        if min_match > 1:
            parts = [compiler.compile(child) for child in tree.children]  # type: ignore[union-attr]
        else:
            q = compiler.compile(tree)
        fmasks = state.filter_masks(spec, filters(spec))
        ev = state.evaluator()
        window = spec.size
        newest = spec.sort == "newest"
        by_date = spec.sort in ("newest", "oldest")
        total = 0
        sampled = False
        facet_counts: Dict[str, Dict[str, int]] = {}
        day_counts: Dict[int, int] = {}
        # (sort key, tie key, docnum in segment, segment, score)
        picked: List[Tuple[float, float, int, _Leaf, float]] = []
        for i, leaf in enumerate(state.leaves):
            if min_match > 1:
                hits = np.zeros(leaf.n, dtype=np.int64)
                score = np.zeros(leaf.n)
                for part in parts:
                    m, s = ev.run(part, leaf)
                    hits += m
                    score += s * m
                mask = hits >= min_match
            else:
                checks: List[_PhraseCheck] = []
                mask, score = ev.run(q, leaf, checks)
            mask = mask & leaf.live
            if fmasks is not None:
                mask &= fmasks[i]
            pub = leaf.published()
            dated_key = leaf.date_key()
            estimated = None
            if min_match == 1 and checks:
                estimated = check_phrases(checks, mask, score, dated_key, window, exact=bool(spec.facets))
                if estimated is not None:
                    sampled = True
            count = int(np.count_nonzero(mask)) if estimated is None else estimated
            if not count:
                continue
            total += count
            for name in ("source", "lang"):
                if name in spec.facets:
                    codes, names = leaf.codes(name)
                    counted = arrays.counts(codes, mask, len(names))
                    out = facet_counts.setdefault(name, {})
                    for k in np.flatnonzero(counted).tolist():
                        out[names[k]] = out.get(names[k], 0) + int(counted[k])
            if any(u in spec.facets for u in ("day", "week", "month")):
                dated = pub[mask]
                days, n = np.unique(_day_key(dated[dated != NO_DATE]), return_counts=True)
                for d, c in zip(days.tolist(), n.tolist()):
                    day_counts[d] = day_counts.get(d, 0) + c
            if by_date:
                # undated articles last either way; then the other date order
                key = dated_key if newest else np.where(pub == NO_DATE, -np.inf, -pub.astype(np.float64))
                top = arrays.top_indices(key, mask, window)
                # same-date ties all stay: the id decides them below
                picked += [(float(key[d]), 0.0, int(d), leaf, float(score[d])) for d in top.tolist()]
            else:
                top = arrays.top_indices(score, mask, window, tiebreak=dated_key)
                picked += [(float(score[d]), float(dated_key[d]), int(d), leaf, float(score[d])) for d in top.tolist()]
        picked.sort(key=lambda p: (-p[0], -p[1], p[3].offset + p[2]))
        cands: List[Candidate] = []
        # ties at the window's edge: keep them all, the id decides below
        limit_key = (picked[window - 1][0], picked[window - 1][1]) if len(picked) > window else None
        for key0, key1, d, leaf, hit_score in picked:
            if limit_key is not None and len(cands) >= window and (key0, key1) != limit_key:
                break
            docnum = leaf.offset + d
            aid = leaf.id(d)
            if len(state.docnums) > 10_000:
                state.docnums.clear()
            state.docnums[aid] = docnum
            raw = int(leaf.published()[d])
            published = None if raw == NO_DATE else (DAY0 + timedelta(microseconds=raw)).replace(tzinfo=timezone.utc)
            cands.append(Candidate(id=aid, score=hit_score, published=published,
                                   signature=leaf.signature(d)))
        cands.sort(key=order_key(spec.sort))
        cands = cands[:window]
        facets: Dict[str, Dict[str, int]] = {}
        for name in spec.facets:
            if name in facet_counts:
                facets[name] = facet_counts[name]
            elif name in ("source", "lang"):
                facets[name] = {}
            elif name in ("day", "week", "month"):
                facets[name] = date_buckets(((DAY0 + timedelta(days=d), c) for d, c in day_counts.items()), name)
        if sampled:
            report.warnings.append(
                f"about {total} articles hold the phrase: counted from a sample (the hits shown are exact)"
            )
        return EngineAnswer(total, cands, facets, tuple(report.warnings), dict(report.expanded), frozenset(report.terms))


    def count(self, tree: Node) -> int:
        """Articles matching *tree*, no filter, phrases checked exactly; nothing ranked."""
        if isinstance(tree, AnyOf) and tree.min_match > 1:
            return self.search(tree, SearchSpec(limit=1)).total
        q = self.compiler().compile(tree)
        ev = self._state.evaluator()
        total = 0
        for leaf in self._state.leaves:
            checks: List[_PhraseCheck] = []
            mask, score = ev.run(q, leaf, checks)
            mask &= leaf.live
            if checks:
                check_phrases(checks, mask, score, leaf.date_key(), 1, exact=True)
            total += int(np.count_nonzero(mask))
        return total

    def fetch(self, ids: Sequence[str]) -> Dict[str, StoredArticle]:
        """Stored fields of these articles (unknown ids are left out)."""
        searcher = self._searcher
        known = self._arrays.docnums if self._arrays is not None else {}
        out: Dict[str, StoredArticle] = {}
        for article_id in ids:
            docnum = known.get(article_id)
            # a candidate of a search on this searcher: its docnum is known, no id lookup
            stored = searcher.stored_fields(docnum) if docnum is not None else searcher.document(id=article_id)
            if stored is None:
                continue
            out[article_id] = StoredArticle(
                id=stored["id"],
                title=stored.get("title", ""),
                body=stored.get("body", ""),
                source=stored.get("source", ""),
                published=aware(stored.get("published")),
                url=stored.get("url"),
                lang=stored.get("lang"),
                author=stored.get("author"),
            )
        return out

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> List[str]:
        """Ids in the term index starting with *prefix*, deleted articles skipped."""
        out: List[str] = []
        searcher = self._searcher
        for term in searcher.reader().expand_prefix("id", prefix):
            aid = term.decode("utf-8") if isinstance(term, bytes) else term
            if searcher.document_number(id=aid) is not None:
                out.append(aid)
                if len(out) >= limit:
                    break
        return out

    def _docnum(self, article_id: str) -> Optional[int]:
        docnum = self._arrays.docnums.get(article_id) if self._arrays is not None else None
        return docnum if docnum is not None else self._searcher.document_number(id=article_id)

    def _leaf_of(self, docnum: int) -> Tuple[_Leaf, int]:
        leaves = self._state.leaves
        n = int(np.searchsorted([leaf.offset for leaf in leaves], docnum, side="right")) - 1
        return leaves[n], docnum - leaves[n].offset

    def signature(self, article_id: str) -> Optional[Tuple[int, ...]]:
        docnum = self._docnum(article_id)
        if docnum is None:
            return None
        leaf, rel = self._leaf_of(docnum)
        return leaf.signature(rel)

    def copies(self, signatures: Sequence[Tuple[int, ...]], spec: Optional[SearchSpec] = None) -> List[List[str]]:
        """For each sketch, the ids of the indexed near-copies: a binary search per lookup key.

        Copies are found by their lookup keys and the search's filters, not by re-running
        the query: a copy of a story holds (nearly) the same words.
        """
        if not signatures:
            return []
        state = self._state
        mask = None
        if spec is not None:
            fmasks = state.filter_masks(spec, filters(spec))
            if fmasks is not None:
                mask = np.concatenate(fmasks)
        return copies_of_many(state.copy_index(), signatures, mask)

    def more_like(self, article_id: str, spec: SearchSpec, *, numterms: int = 20) -> Optional[EngineAnswer]:
        """Articles like *article_id* (key terms of its title and body), itself excluded; None if unknown."""
        searcher = self._searcher
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            return None
        stored = searcher.stored_fields(docnum)
        text = f"{stored.get('title', '')}\n{stored.get('title', '')}\n{stored.get('body', '')}"
        terms = searcher.key_terms_from_text("body", text, numterms=numterms, normalize=False)
        parts = []
        for term, weight in terms:
            w = max(float(weight), 1e-6)
            parts.append(wq.Term("title", term, boost=w))
            parts.append(wq.Term("body", term, boost=w))
        if not parts:
            return EngineAnswer(0, [])
        q = wq.And([wq.Or(parts)] + filters(spec) + [wq.Not(wq.Term("id", article_id))])
        results = searcher.search(q, limit=spec.size)
        cands = []
        for score, d in results.top_n:
            leaf, rel = self._leaf_of(d)
            raw = int(leaf.published()[rel])
            published = None if raw == NO_DATE else (DAY0 + timedelta(microseconds=raw)).replace(tzinfo=timezone.utc)
            cands.append(Candidate(leaf.id(rel), float(score), published, leaf.signature(rel)))
        return EngineAnswer(len(results), cands)

    # ------------------------------------------------------------ vocabulary

    def term_frequency(self, term: str) -> int:
        """Articles whose title or body holds the analysed *term*."""
        reader = self._searcher.reader()
        return max(reader.doc_frequency("body", term), reader.doc_frequency("title", term))

    def similar_terms(self, term: str, max_distance: int = 2, limit: int = 5) -> List[Tuple[int, int, str]]:
        """Index terms near *term*: (edit distance, -frequency, term), best first, bounded scan."""
        reader = self._searcher.reader()
        found: Dict[str, Tuple[int, int]] = {}
        for f in ("body", "title"):
            scanned = 0
            for btext in reader.expand_prefix(f, term[:1]):
                scanned += 1
                if scanned > MAX_SCAN:
                    break
                t = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                if t == term or abs(len(t) - len(term)) > max_distance:
                    continue
                d = edit_distance(t, term, limit=max_distance + 1)
                if d <= max_distance:
                    df = reader.doc_frequency(f, t)
                    old = found.get(t)
                    found[t] = (d, -max(df, -old[1] if old else 0))
        ranked = sorted((d, nf, t) for t, (d, nf) in found.items())
        return ranked[:limit]

    def surface_of(self, term: str) -> Optional[str]:
        """A readable word of the texts that analyses to *term* (for did-you-mean), if any."""
        for hit in self._searcher.search(wq.Or([wq.Term("title", term), wq.Term("body", term)]), limit=1):
            stored = hit.fields()
            for text in (stored.get("title", ""), stored.get("body", "")):
                for t, _pos, start, end in analysis.analyze(text or "", lang=stored.get("lang")):
                    if t == term:
                        return text[start:end]
        return None

    # ------------------------------------------------------------ sources, stats

    def sources(self) -> List[SourceCount]:
        """Every source with its article count and first and last date, most articles first."""
        reader = self._searcher.reader()
        stats: Dict[str, List[object]] = {}
        field = self.schema["published"]
        dates = reader.column_reader("published", translate=False) if reader.has_column("published") else None
        sources = reader.column_reader("source") if reader.has_column("source") else None
        for docnum in reader.all_doc_ids():
            name = sources[docnum] if sources is not None else ""
            name = name.decode("utf-8") if isinstance(name, bytes) else name
            when = None
            if dates is not None:
                raw = dates[docnum]
                when = field.from_column_value(raw) if raw not in (None, NO_DATE) else None
            entry = stats.setdefault(name or "", [0, None, None])
            entry[0] = int(entry[0]) + 1  # type: ignore[call-overload]
            if when is not None:
                entry[1] = when if entry[1] is None or when < entry[1] else entry[1]  # type: ignore[operator]
                entry[2] = when if entry[2] is None or when > entry[2] else entry[2]  # type: ignore[operator]
        rows = [SourceCount(name, int(c), aware(lo), aware(hi)) for name, (c, lo, hi) in stats.items()]  # type: ignore[misc]
        rows.sort(key=lambda r: (-r.articles, r.name.casefold(), r.name))
        return rows

    def stats(self) -> EngineStats:
        searcher = self._searcher
        facets = {
            "source": sorting.FieldFacet("source", maptype=sorting.Count),
            "lang": sorting.FieldFacet("lang", maptype=sorting.Count),
        }
        results = searcher.search(wq.Every(), groupedby=facets, limit=1)
        sources = {str(k): v for k, v in results.groups("source").items() if k not in (None, "")}
        langs = {str(k): v for k, v in results.groups("lang").items() if k not in (None, "")}
        dated = wq.DateRange("published", None, None)
        oldest = newest = None
        first = searcher.search(dated, limit=1, sortedby="published")
        if len(first):
            oldest = aware(first[0].get("published"))
            newest = aware(searcher.search(dated, limit=1, sortedby="published", reverse=True)[0].get("published"))
        size = sum(p.stat().st_size for p in self._where.iterdir() if p.is_file())
        return EngineStats(
            articles=searcher.doc_count(),
            sources=dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
            languages=dict(sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))),
            oldest=oldest,
            newest=newest,
            segments=len(self._ix._segments()),
            size_bytes=size,
            format=FORMAT_VERSION,
            analysis=analysis.ANALYSIS_VERSION,
            engine="whoosh",
        )

    # ------------------------------------------------------------ verification

    def probe(self) -> Optional[bool]:
        """Search for a word of a stored article and check the article comes back;
        None for an empty index."""
        searcher = self._searcher
        reader = searcher.reader()
        for n, docnum in enumerate(reader.all_doc_ids()):
            if n >= 20:
                break
            stored = reader.stored_fields(docnum)
            text = (stored.get("title") or "") + " " + (stored.get("body") or "")[:300]
            # stemmed for the article's language, as the writer stemmed it
            terms = analysis.query_terms(text, lang=stored.get("lang"))
            if terms:
                q = wq.And([wq.Or([wq.Term("title", terms[0]), wq.Term("body", terms[0])]), wq.Term("id", stored["id"])])
                return len(searcher.search(q, limit=1)) == 1
        return None if searcher.doc_count() == 0 else True
