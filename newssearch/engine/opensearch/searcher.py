"""The EngineSearcher of the OpenSearch engine: one server-side index (or the alias)."""
from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ... import analysis, dedupe
from ...errors import NewsSearchError
from ...query import Node
from ..base import Candidate, CompiledQuery, EngineAnswer, EngineStats, SearchSpec, SourceCount, StoredArticle
from ..documents import MAX_SCAN, date_buckets, nearest_terms, relevance_key
from .compile import _REGEX_SPECIAL, Compiler, filters
from .connection import call
from .mapping import FORMAT, from_micros
from .rescore import RESCORE_EXTRA, exact_score

__all__ = ["OpenSearchSearcher", "NAME"]

NAME = "opensearch"
MAX_COPIES = 200
"""Most candidate copies looked at for one article (as the Whoosh wing)."""
MAX_KEY_SHARE = 25
"""A lookup key held by more articles than this is ignored when looking for copies (as the Whoosh wing)."""
MORE_LIKE_TERMS = 20
SHARD_RETRIES = 5
"""Tries of a search some of whose shards failed (their copies move to the nodes left)."""
MAX_BUCKETS = 10_000
"""Most values a source or language facet lists."""


def _when(iso: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(iso) if iso else None


def _from_millis(ms: Optional[float]) -> Optional[datetime]:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)


def _field(hit: Dict[str, Any], name: str) -> Any:
    values = (hit.get("fields") or {}).get(name)
    return values[0] if values else None


def _signature(hit: Dict[str, Any]) -> Tuple[int, ...]:
    # unsigned_long doc values come back in their signed order: a sketch is sorted ascending
    return tuple(sorted(int(v) for v in (hit.get("fields") or {}).get("sig") or ()))


def _published(hit: Dict[str, Any]) -> Optional[datetime]:
    us = _field(hit, "published_us")
    return from_micros(int(us)) if us is not None else None


WINDOW_FIELDS = ["id", "sig", "published_us"]
"""Doc values every hit of a result window brings (its sketch and exact date)."""


class OpenSearchSearcher:
    """Read-only views of one server-side index (or of the alias, for remote readers)."""

    def __init__(self, client, index: str, where: Optional[Path] = None, *, follow_alias: bool = False) -> None:  # noqa: ANN001
        self.client = client
        self.index = index
        self.where = where
        self.follow_alias = follow_alias
        """*index* is an alias another machine moves: statistics are read again when it moves."""
        self._target: Optional[str] = None
        self._n: Optional[Dict[str, int]] = None
        self._avgdl: Dict[str, float] = {}
        self._df: Dict[Tuple[str, str], int] = {}
        self._langs: Optional[Tuple[str, ...]] = None

    def _follow(self) -> None:
        if not self.follow_alias:
            return
        found = call(f"resolving alias {self.index}", self.client.indices.get_alias, name=self.index)
        target = ",".join(sorted(found))
        if target != self._target:
            self._target, self._n, self._langs = target, None, None
            self._df.clear()

    # ------------------------------------------------------------ statistics
    def _search(self, body: Dict[str, Any], what: str = "search") -> Dict[str, Any]:
        """One search; a shard that failed (a node lost mid-request) is retried, never a partial answer."""
        for attempt in range(SHARD_RETRIES):
            r = call(f"{what} on {self.index}", self.client.search, index=self.index, body=body)
            shards = r.get("_shards") or {}
            if not shards.get("failed"):
                return r
            time.sleep(0.2 * (attempt + 1))
        reason = ((shards.get("failures") or [{}])[0].get("reason") or {})
        raise NewsSearchError(f"opensearch: {what} on {self.index} answered from {shards.get('successful')} of "
                              f"{shards.get('total')} shards ({reason.get('type', 'unknown')}): try again")

    def langs(self) -> Tuple[str, ...]:
        if self._langs is None:
            r = self._search({"size": 0, "aggs": {"l": {"terms": {"field": "lang", "size": 1000}}}})
            self._langs = tuple(sorted(b["key"] for b in r["aggregations"]["l"]["buckets"] if b["key"]))
        return self._langs

    def _counts(self) -> Dict[str, int]:
        if self._n is None:
            r = self._search({"size": 0, "track_total_hits": True, "aggs": {
                "title": {"filter": {"exists": {"field": "title_terms"}}},
                "body": {"filter": {"exists": {"field": "body_terms"}}},
                "title_len": {"sum": {"field": "title_len"}}, "body_len": {"sum": {"field": "body_len"}}}})
            aggs = r["aggregations"]
            self._n = {"all": r["hits"]["total"]["value"], "title": aggs["title"]["doc_count"],
                       "body": aggs["body"]["doc_count"]}
            n = self._n["all"] or 1
            # Whoosh's average field length: every token over every document
            self._avgdl = {"title": float(aggs["title_len"]["value"] or 0) / n,
                           "body": float(aggs["body_len"]["value"] or 0) / n}
        return self._n

    def document_frequencies(self, pairs: Iterable[Tuple[str, str]]) -> None:
        """Read the document frequencies of these (field, term) pairs into the cache, in one request."""
        todo = sorted({p for p in pairs if p not in self._df})
        for start in range(0, len(todo), 1000):
            chunk = todo[start : start + 1000]
            named = {str(i): {"term": {f"{f}_terms": t}} for i, (f, t) in enumerate(chunk)}
            r = self._search({"size": 0, "aggs": {"df": {"filters": {"filters": named}}}}, "term statistics")
            buckets = r["aggregations"]["df"]["buckets"]
            for i, pair in enumerate(chunk):
                self._df[pair] = buckets[str(i)]["doc_count"]

    def idf(self, fieldname: str, term: str) -> Tuple[float, float]:
        """(Whoosh's idf, Lucene's BM25 idf) of *term* in *fieldname*."""
        if (fieldname, term) not in self._df:
            self.document_frequencies([(fieldname, term)])
        df = self._df[(fieldname, term)]
        n = self._counts()
        ours = math.log(n["all"] / (df + 1)) + 1 if n["all"] else 0.0
        lucene = math.log(1 + (n[fieldname] - df + 0.5) / (df + 0.5))
        return ours, lucene

    def vocabulary(self, fieldname: str, regex: str, size: int) -> List[Tuple[str, int]]:
        r = self._search({"size": 0, "aggs": {"v": {"terms": {
            "field": fieldname, "include": regex, "order": {"_key": "asc"}, "size": size}}}}, "vocabulary")
        return [(b["key"], b["doc_count"]) for b in r["aggregations"]["v"]["buckets"]]

    def _compiler(self, lang: Optional[str]) -> Compiler:
        return Compiler(self.vocabulary, lang.lower() if lang else None, self.langs())

    def _finish(self, comp: Compiler) -> None:
        self.document_frequencies((f, t) for _leaf, f, t, _w, _g in comp.scored)
        comp.finish(self.idf)

    # ------------------------------------------------------------ searching
    @staticmethod
    def _sort(sort: str) -> List[Any]:
        tie = [{"id": {"order": "asc"}}]
        if sort == "newest":
            return [{"published_us": {"order": "desc", "missing": "_last"}}] + tie
        if sort == "oldest":
            return [{"published_us": {"order": "asc", "missing": "_last"}}] + tie
        return ["_score", {"published_us": {"order": "desc", "missing": "_last"}}] + tie

    def _run(self, query: Dict[str, Any], spec: SearchSpec, *, extra_drop: Sequence[Dict[str, Any]] = (),
             comp: Optional[Compiler] = None):
        keep, drop = filters(spec)
        rescore = comp is not None and spec.sort not in ("newest", "oldest")
        body: Dict[str, Any] = {
            "query": {"bool": {"must": [query], "filter": keep, "must_not": drop + list(extra_drop)}},
            "size": spec.size + (RESCORE_EXTRA if rescore else 0),
            "track_total_hits": True,
            "track_scores": True,
            "sort": self._sort(spec.sort),
            "stored_fields": "_none_",
            "docvalue_fields": WINDOW_FIELDS + (["title_len", "body_len", "tfs"] if rescore else []),
        }
        aggs: Dict[str, Any] = {}
        for name in spec.facets:
            if name in ("source", "lang"):
                aggs[name] = {"terms": {"field": name, "size": MAX_BUCKETS}}
            elif "days" not in aggs:
                aggs["days"] = {"date_histogram": {"field": "published", "calendar_interval": "day",
                                                   "min_doc_count": 1}}
        if aggs:
            body["aggs"] = aggs
        r = self._search(body)
        hits = r["hits"]["hits"]
        if rescore:
            self._counts()
            scores = [exact_score(h, comp.scored, self.idf, self._avgdl) for h in hits]  # type: ignore[union-attr]
        else:
            scores = [float(h.get("_score") or 0.0) for h in hits]
        cands = [Candidate(_field(h, "id"), score, _published(h), _signature(h)) for h, score in zip(hits, scores)]
        if rescore:
            cands = sorted(cands, key=relevance_key)[: spec.size]
        facets: Dict[str, Dict[str, int]] = {}
        for name in spec.facets:
            if name in ("source", "lang"):
                facets[name] = {b["key"]: b["doc_count"] for b in r["aggregations"][name]["buckets"] if b["key"]}
            else:
                days = [(_from_millis(b["key"]), b["doc_count"]) for b in r["aggregations"]["days"]["buckets"]]
                facets[name] = date_buckets(days, name)
        return r["hits"]["total"]["value"], cands, facets

    def doc_count(self) -> int:
        self._follow()
        return self._counts()["all"]

    def search(self, tree: Node, spec: SearchSpec) -> EngineAnswer:
        self._follow()
        comp = self._compiler(spec.lang)
        query = comp.compile(tree)
        self._finish(comp)
        total, cands, facets = self._run(query, spec, comp=comp)
        return EngineAnswer(total, cands, facets, tuple(comp.warnings), dict(comp.expanded), frozenset(comp.terms))

    def count(self, tree: Node) -> int:
        query = self._compiler(None).compile(tree)
        return call(f"count on {self.index}", self.client.count, index=self.index, body={"query": query})["count"]

    def fetch(self, ids: Sequence[str]) -> Dict[str, StoredArticle]:
        if not ids:
            return {}
        r = call(f"fetching articles from {self.index}", self.client.mget, index=self.index,
                  body={"ids": list(ids)}, params={"_source": "id,source,lang,stored"})
        out: Dict[str, StoredArticle] = {}
        for d in r["docs"]:
            if not d.get("found"):
                continue
            src = d["_source"]
            st = src.get("stored") or {}
            out[d["_id"]] = StoredArticle(d["_id"], st.get("title") or "", st.get("body") or "", src.get("source") or "",
                                          _when(st.get("published")), st.get("url"), src.get("lang"), st.get("author"))
        return out

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> List[str]:
        r = self._search({"size": limit, "stored_fields": "_none_", "docvalue_fields": ["id"], "sort": [{"id": "asc"}],
                          "query": {"prefix": {"id": {"value": prefix}}}}, "looking up a short id")
        return [h["fields"]["id"][0] for h in r["hits"]["hits"]]

    def signature(self, article_id: str) -> Optional[Tuple[int, ...]]:
        r = self._search({"size": 1, "stored_fields": "_none_", "docvalue_fields": ["sig"],
                          "query": {"ids": {"values": [article_id]}}}, "reading a sketch")
        hits = r["hits"]["hits"]
        return _signature(hits[0]) if hits else None

    def copies(self, signatures: Sequence[Tuple[int, ...]], spec: Optional[SearchSpec] = None) -> List[List[str]]:
        if not signatures:
            return []
        keep, drop = filters(spec) if spec is not None else ([], [])
        # a lookup key shared by more than MAX_KEY_SHARE articles is boilerplate, not a copy:
        # ignored, as the Whoosh wing ignores it (and it would bring hundreds of candidates)
        wanted = sorted({str(k) for sig in signatures for k in sig[: dedupe.BUCKET_KEYS]})
        shares = self._search({"size": 0, "aggs": {"k": {"filters": {"filters": {
            k: {"term": {"sigkeys": k}} for k in wanted}}}}}, "copy key counts")["aggregations"]["k"]["buckets"]
        lines: List[str] = []
        asked: List[int] = []
        for n, sig in enumerate(signatures):
            keys = [str(k) for k in sig[: dedupe.BUCKET_KEYS] if shares[str(k)]["doc_count"] <= MAX_KEY_SHARE]
            if not keys:
                continue
            asked.append(n)
            lines.append(json.dumps({"index": self.index}))
            lines.append(json.dumps({"size": MAX_COPIES, "stored_fields": "_none_", "docvalue_fields": ["id", "sig"],
                                     "sort": [{"id": "asc"}],
                                     "query": {"bool": {"filter": [{"terms": {"sigkeys": keys}}] + keep,
                                                        "must_not": drop}}}))
        out: List[List[str]] = [[] for _ in signatures]
        if not lines:
            return out
        body = "\n".join(lines) + "\n"
        for attempt in range(SHARD_RETRIES):
            # as _search: a node lost mid-request fails a response (or some of its shards);
            # the whole lookup is asked again once the copies have moved, never half-answered
            r = call(f"copy lookup on {self.index}", self.client.msearch, body=body)
            bad = [resp for resp in r["responses"] if "error" in resp or (resp.get("_shards") or {}).get("failed")]
            if not bad:
                break
            time.sleep(0.2 * (attempt + 1))
        else:
            raise NewsSearchError(f"opensearch: copy lookup on {self.index} failed "
                                  f"({bad[0].get('error') or bad[0].get('_shards')}): try again")
        for n, resp in zip(asked, r["responses"]):
            sig = signatures[n]
            out[n] = [_field(h, "id") for h in resp["hits"]["hits"] if dedupe.is_near_duplicate(sig, _signature(h))]
        return out

    def more_like(self, article_id: str, spec: SearchSpec) -> Optional[EngineAnswer]:
        found = self.fetch([article_id]).get(article_id)
        if found is None:
            return None
        tf: Dict[str, int] = {}
        for text in (found.title, found.title, found.body):
            for term in analysis.index_terms_words(text or "", lang=found.lang)[0]:
                tf[term] = tf.get(term, 0) + 1
        self.document_frequencies(("body", t) for t in tf)
        n = self._counts()["all"] or 1
        weight = {t: c * (math.log(n / (self._df[("body", t)] + 1)) + 1) for t, c in tf.items()}
        key_terms = sorted(weight, key=lambda t: (-weight[t], t))[:MORE_LIKE_TERMS]
        if not key_terms:
            return EngineAnswer(0, [])
        comp = self._compiler(None)
        query = {"bool": {"should": [comp.term(f, t, max(weight[t], 1e-6)) for t in key_terms for f in ("title", "body")],
                          "minimum_should_match": 1}}
        self._finish(comp)
        total, cands, _ = self._run(query, spec, extra_drop=[{"ids": {"values": [article_id]}}], comp=comp)
        return EngineAnswer(total, cands)

    def explain(self, tree: Node, *, lang: Optional[str] = None) -> CompiledQuery:
        comp = self._compiler(lang)
        query = comp.compile(tree)
        self._finish(comp)
        return CompiledQuery(json.dumps({"query": query}, indent=1, ensure_ascii=False), tuple(comp.warnings),
                             dict(comp.expanded))

    def term_frequency(self, term: str) -> int:
        self.document_frequencies([("title", term), ("body", term)])
        return max(self._df[("title", term)], self._df[("body", term)])

    def similar_terms(self, term: str, max_distance: int = 2, limit: int = 5) -> List[Tuple[int, int, str]]:
        if not term:
            return []
        pattern = _REGEX_SPECIAL.sub(r"\\\1", term[:1]) + ".*"
        return nearest_terms((self.vocabulary(f"{f}_terms", pattern, MAX_SCAN) for f in ("body", "title")),
                             term, max_distance, limit)

    def surface_of(self, term: str) -> Optional[str]:
        r = self._search({"size": 1, "_source": ["stored.title", "stored.body", "lang"], "sort": [{"id": "asc"}],
                          "query": {"bool": {"should": [{"term": {"title_terms": term}}, {"term": {"body_terms": term}}]}}})
        for h in r["hits"]["hits"]:
            st = h["_source"].get("stored") or {}
            for text in (st.get("title") or "", st.get("body") or ""):
                for t, _pos, start, end in analysis.analyze(text, lang=h["_source"].get("lang")):
                    if t == term:
                        return text[start:end]
        return None

    def sources(self) -> List[SourceCount]:
        r = self._search({"size": 0, "aggs": {"s": {"terms": {"field": "source", "size": MAX_BUCKETS}, "aggs": {
            "lo": {"min": {"field": "published"}}, "hi": {"max": {"field": "published"}}}}}}, "sources")
        rows = [SourceCount(b["key"], b["doc_count"], _from_millis(b["lo"]["value"]), _from_millis(b["hi"]["value"]))
                for b in r["aggregations"]["s"]["buckets"]]
        return sorted(rows, key=lambda s: (-s.articles, s.name.casefold(), s.name))

    def stats(self) -> EngineStats:
        r = self._search({"size": 0, "track_total_hits": True, "aggs": {
            "source": {"terms": {"field": "source", "size": MAX_BUCKETS}},
            "lang": {"terms": {"field": "lang", "size": MAX_BUCKETS}},
            "lo": {"min": {"field": "published"}}, "hi": {"max": {"field": "published"}}}}, "stats")
        aggs = r["aggregations"]

        def counted(name: str) -> Dict[str, int]:
            rows = [(b["key"], b["doc_count"]) for b in aggs[name]["buckets"] if b["key"]]
            return dict(sorted(rows, key=lambda kv: (-kv[1], kv[0])))

        st = call(f"index stats of {self.index}", self.client.indices.stats, index=self.index, metric="store")
        size = sum(i["primaries"]["store"]["size_in_bytes"] for i in st["indices"].values())
        settings = call("index settings", self.client.indices.get_settings, index=self.index)
        nshards = sum(int(v["settings"]["index"]["number_of_shards"]) for v in settings.values()) or 1
        return EngineStats(r["hits"]["total"]["value"], counted("source"), counted("lang"),
                           _from_millis(aggs["lo"]["value"]), _from_millis(aggs["hi"]["value"]), nshards, size,
                           FORMAT, analysis.ANALYSIS_VERSION, NAME)

    def probe(self) -> bool:
        """Search for a word of a stored article and check that article comes back."""
        r = self._search({"size": 1, "sort": [{"id": "asc"}], "_source": ["stored.title", "stored.body", "lang"]})
        for h in r["hits"]["hits"]:
            st = h["_source"].get("stored") or {}
            terms = analysis.query_terms(f"{st.get('title') or ''} {(st.get('body') or '')[:300]}",
                                         lang=h["_source"].get("lang"))
            if terms:
                q = {"bool": {"filter": [{"ids": {"values": [h["_id"]]}}],
                              "should": [{"term": {"title": terms[0]}}, {"term": {"body": terms[0]}}],
                              "minimum_should_match": 1}}
                return call("probe query", self.client.count, index=self.index, body={"query": q})["count"] == 1
        return True
