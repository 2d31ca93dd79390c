"""A tiny in-memory reference engine: the contract's second engine, registered as "memory".

Plain Python over dicts and sets, no index structures: it shows what the contract means
without any of the Whoosh wing's machinery, and that an engine plugs in by registering
(nothing in newssearch.index names it). State lives in a module-level dict keyed by the
location's key, which its format record holds (a generation directory is renamed when
it is published: the key, like a server-side index name, travels in the record), so
``open`` from another object in this process sees what was committed.
"""
from __future__ import annotations

import copy
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from newssearch import analysis, dedupe
from newssearch.engine import format_record, register, write_format_record
from newssearch.engine.base import (Candidate, CompiledQuery, EngineAnswer, EngineStats, IndexDoc, SearchSpec,
                                    SourceCount, StoredArticle, UpsertCounts)
from newssearch.engine.documents import (MAX_EXPANSION, TITLE_BOOST, clean_domain, date_buckets, order_key,
                                         source_key, url_words, author_words)
from newssearch.errors import IndexNotFound, NewsSearchError
from newssearch.query import MIN_PREFIX, AnyOf, DateRange, Fuzzy, Node, Not, Or, Phrase, Prefix, Word, outline

FIELDS = ("title", "body")
_STATES: Dict[str, Dict[str, "_Doc"]] = {}


@dataclass
class _Doc:
    doc: IndexDoc
    terms: Dict[str, Dict[str, List[int]]] = field(default_factory=dict)
    """field -> term -> positions"""
    signature: Tuple[int, ...] = ()
    surfaces: Dict[str, str] = field(default_factory=dict)


def _analyse(doc: IndexDoc) -> _Doc:
    out = _Doc(doc)
    words: List[str] = []
    for f in FIELDS:
        text = getattr(doc, f) or ""
        terms, positions, surfaces = analysis.index_terms_words(text, lang=doc.lang)
        table: Dict[str, List[int]] = {}
        for i, term in enumerate(terms):
            table.setdefault(term, []).append(positions[i] if positions is not None else i)
        out.terms[f] = table
        words += surfaces
        for term, _pos, start, end in analysis.analyze(text, lang=doc.lang):
            out.surfaces.setdefault(term, text[start:end])
    out.signature = doc.signature if doc.signature is not None else dedupe.signature_of_words(words)
    return out


def _edits(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


class MemorySearcher:
    def __init__(self, docs: Dict[str, _Doc]) -> None:
        self.docs = docs
        self.langs = tuple(sorted({d.doc.lang for d in docs.values() if d.doc.lang}))

    # ------------------------------------------------------------ matching: id -> score
    def _df(self, f: str, term: str) -> int:
        return sum(1 for d in self.docs.values() if term in d.terms[f])

    def _term_scores(self, f: str, term: str) -> Dict[str, float]:
        n, df = len(self.docs), self._df(f, term)
        idf = math.log(n / (df + 1)) + 1
        weight = TITLE_BOOST if f == "title" else 1.0
        return {i: weight * idf * len(d.terms[f][term]) for i, d in self.docs.items() if term in d.terms[f]}

    def _slots(self, slots: List[List[str]], slop: int, fields: Sequence[str]) -> Dict[str, float]:
        out: Dict[str, float] = {}
        for f in fields:
            for i, d in self.docs.items():
                table = d.terms[f]
                reach = {p for t in slots[0] for p in table.get(t, ())}
                for alts in slots[1:]:
                    here = {p for t in alts for p in table.get(t, ())}
                    reach = {q for q in here if any(0 < q - p <= slop + 1 for p in reach)}
                if reach:
                    out[i] = out.get(i, 0.0) + sum(self._term_scores(f, t).get(i, 0.0) for a in slots for t in a)
        return out

    def _word(self, text: str, fieldname: Optional[str], slop: int, lang: Optional[str]) -> Dict[str, float]:
        docs = self.docs
        if fieldname == "source":
            return {i: 0.0 for i, d in docs.items() if d.doc.source_key == source_key(text.strip())}
        if fieldname == "lang":
            return {i: 0.0 for i, d in docs.items() if d.doc.lang == text.strip().lower()}
        if fieldname == "site":
            return {i: 0.0 for i, d in docs.items() if clean_domain(text) in d.doc.domains}
        if fieldname == "url":
            words = url_words(text)
            return {i: 0.0 for i, d in docs.items() if words and set(words) <= set(d.doc.url_words)}
        if fieldname == "author":
            words = author_words(text)
            return {i: 0.0 for i, d in docs.items() if words and set(words) <= set(d.doc.author_words)}
        alternatives = analysis.query_alternatives(text, lang=lang, langs=self.langs)
        if not alternatives:
            return {}
        return self._slots(alternatives, slop, (fieldname,) if fieldname else FIELDS)

    def _expand(self, node, prefix: bool, warnings: List[str], expanded: Dict[str, int], chosen_all: Set[str]):
        folded, stemmed = analysis.query_terms(node.text, stem=False), analysis.query_terms(node.text)
        if not folded:
            return None
        word, stem = folded[-1], (stemmed[-1] if stemmed else folded[-1])
        if prefix and len(word) < MIN_PREFIX:
            warnings.append(f"prefix {node.text + '*'!r} is too short: searched {word!r}")
            return self._word(" ".join(folded), node.field, 0, None)
        fields = (node.field,) if node.field in FIELDS else FIELDS
        freq: Dict[str, int] = {}
        for f in fields:
            for t in {t for d in self.docs.values() for t in d.terms[f]}:
                base = stem if word.startswith(stem) else word
                ok = t.startswith(base) if prefix else (t[:1] == stem[:1] and _edits(t, stem) <= node.distance)
                if ok:
                    freq[t] = freq.get(t, 0) + self._df(f, t)
        label = f"{node.text}*" if prefix else f"{node.text}~{node.distance}"
        chosen = sorted(freq, key=lambda t: (-freq[t], t))
        if len(chosen) > MAX_EXPANSION:
            chosen = chosen[:MAX_EXPANSION]
            warnings.append(f"{label!r} matches too many words: searched the {len(chosen)} most frequent")
        expanded[label] = len(chosen)
        chosen_all.update(chosen)
        out: Dict[str, float] = {}
        for f in fields:
            for t in chosen:
                for i, s in self._term_scores(f, t).items():
                    out[i] = out.get(i, 0.0) + s
        for t in stemmed[:-1]:  # leading words of a multi-token prefix must be there too
            keep = self._slots([[t]], 0, fields)
            out = {i: s + keep[i] for i, s in out.items() if i in keep}
        return out

    def _match(self, node: Node, lang, warnings, expanded, chosen) -> Optional[Dict[str, float]]:
        if isinstance(node, Word):
            return self._word(node.text, node.field, 0, lang)
        if isinstance(node, Phrase):
            return self._word(node.text, node.field, node.slop, lang)
        if isinstance(node, (Prefix, Fuzzy)):
            return self._expand(node, isinstance(node, Prefix), warnings, expanded, chosen)
        if isinstance(node, DateRange):
            return {i: 1.0 for i, d in self.docs.items() if d.doc.published is not None
                    and (node.start is None or d.doc.published >= node.start)
                    and (node.end is None or d.doc.published <= node.end)}
        if isinstance(node, Not):
            return self._match(node.child, lang, warnings, expanded, chosen)
        kids = [(c, self._match(c, lang, warnings, expanded, chosen)) for c in node.children]
        if isinstance(node, (Or, AnyOf)):
            need = node.min_match if isinstance(node, AnyOf) else 1
            hits: Dict[str, List[float]] = {}
            for _c, m in kids:
                for i, s in (m or {}).items():
                    hits.setdefault(i, []).append(s)
            return {i: sum(s) for i, s in hits.items() if len(s) >= need}
        pos = [m for c, m in kids if not isinstance(c, Not) and m is not None]
        neg = set().union(*[set(m) for c, m in kids if isinstance(c, Not) and m is not None])
        if not pos:
            return {i: 0.0 for i in self.docs if i not in neg} if neg else None
        common = set.intersection(*[set(m) for m in pos]) - neg
        return {i: sum(m[i] for m in pos) for i in common}

    def _passes(self, d: IndexDoc, spec: SearchSpec) -> bool:
        keys = {source_key(s) for s in spec.sources}
        return ((not keys or d.source_key in keys)
                and d.source_key not in {source_key(s) for s in spec.exclude_sources}
                and (spec.since is None or (d.published is not None and d.published >= spec.since))
                and (spec.until is None or (d.published is not None and d.published <= spec.until))
                and (not spec.lang or d.lang == spec.lang.lower())
                and (not spec.domains or any(clean_domain(x) in d.domains for x in spec.domains))
                and not any(clean_domain(x) in d.domains for x in spec.exclude_domains)
                and (not spec.authors or any(author_words(a) and set(author_words(a)) <= set(d.author_words)
                                             for a in spec.authors))
                and d.id not in spec.exclude_ids)

    def _answer(self, scores: Dict[str, float], spec: SearchSpec, warnings=(), expanded=None, chosen=()) -> EngineAnswer:
        kept = {i: s for i, s in scores.items() if self._passes(self.docs[i].doc, spec)}
        cands = sorted((Candidate(i, s, self.docs[i].doc.published, self.docs[i].signature) for i, s in kept.items()),
                       key=order_key(spec.sort))
        facets: Dict[str, Dict[str, int]] = {}
        for name in spec.facets:
            if name in ("source", "lang"):
                values = [getattr(self.docs[i].doc, name) for i in kept]
                facets[name] = {v: values.count(v) for v in dict.fromkeys(values) if v}
            else:
                facets[name] = date_buckets(((self.docs[i].doc.published, 1) for i in kept), name)
        return EngineAnswer(len(kept), cands[: spec.size], facets, tuple(warnings), dict(expanded or {}),
                            frozenset(chosen))

    # ------------------------------------------------------------ the Protocol
    def doc_count(self) -> int:
        return len(self.docs)

    def search(self, tree: Node, spec: SearchSpec) -> EngineAnswer:
        warnings: List[str] = []
        expanded: Dict[str, int] = {}
        chosen: Set[str] = set()
        scores = self._match(tree, spec.lang.lower() if spec.lang else None, warnings, expanded, chosen) or {}
        return self._answer(scores, spec, warnings, expanded, chosen)

    def count(self, tree: Node) -> int:
        return len(self._match(tree, None, [], {}, set()) or {})

    def fetch(self, ids: Sequence[str]) -> Dict[str, StoredArticle]:
        return {i: StoredArticle(d.doc.id, d.doc.title, d.doc.body, d.doc.source, d.doc.published, d.doc.url,
                                 d.doc.lang, d.doc.author) for i in ids if (d := self.docs.get(i)) is not None}

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> List[str]:
        return sorted(i for i in self.docs if i.startswith(prefix))[:limit]

    def signature(self, article_id: str) -> Optional[Tuple[int, ...]]:
        d = self.docs.get(article_id)
        return d.signature if d else None

    def copies(self, signatures, spec=None) -> List[List[str]]:
        return [[i for i, d in self.docs.items() if (spec is None or self._passes(d.doc, spec))
                 and set(sig[: dedupe.BUCKET_KEYS]) & set(d.signature[: dedupe.BUCKET_KEYS])
                 and dedupe.is_near_duplicate(sig, d.signature)] for sig in signatures]

    def more_like(self, article_id: str, spec: SearchSpec) -> Optional[EngineAnswer]:
        d = self.docs.get(article_id)
        if d is None:
            return None
        n = len(self.docs)
        weight = {t: len(p) * (math.log(n / (self._df("body", t) + 1)) + 1) for t, p in d.terms["body"].items()}
        key_terms = sorted(weight, key=lambda t: (-weight[t], t))[:20]
        scores: Dict[str, float] = {}
        for t in key_terms:
            for f in FIELDS:
                for i, s in self._term_scores(f, t).items():
                    scores[i] = scores.get(i, 0.0) + s * weight[t]
        scores.pop(article_id, None)
        return self._answer(scores, spec)

    def explain(self, tree: Node, *, lang: Optional[str] = None) -> CompiledQuery:
        warnings: List[str] = []
        expanded: Dict[str, int] = {}
        self._match(tree, lang, warnings, expanded, set())
        return CompiledQuery("\n".join(outline(tree)), tuple(warnings), expanded)

    def term_frequency(self, term: str) -> int:
        return max(self._df(f, term) for f in FIELDS) if self.docs else 0

    def similar_terms(self, term: str, max_distance: int = 2, limit: int = 5) -> List[Tuple[int, int, str]]:
        vocab = {t for d in self.docs.values() for f in FIELDS for t in d.terms[f]}
        found = [(_edits(t, term), -self.term_frequency(t), t) for t in vocab if t != term and t[:1] == term[:1]]
        return sorted(x for x in found if x[0] <= max_distance)[:limit]

    def surface_of(self, term: str) -> Optional[str]:
        return next((d.surfaces[term] for d in self.docs.values() if term in d.surfaces), None)

    def sources(self) -> List[SourceCount]:
        rows: Dict[str, List] = {}
        for d in self.docs.values():
            r = rows.setdefault(d.doc.source, [0, None, None])
            r[0] += 1
            when = d.doc.published
            if when is not None:
                r[1] = when if r[1] is None or when < r[1] else r[1]
                r[2] = when if r[2] is None or when > r[2] else r[2]
        out = [SourceCount(name, c, lo, hi) for name, (c, lo, hi) in rows.items()]
        return sorted(out, key=lambda r: (-r.articles, r.name.casefold(), r.name))

    def stats(self) -> EngineStats:
        def counted(values) -> Dict[str, int]:
            values = [v for v in values if v]
            return dict(sorted({v: values.count(v) for v in set(values)}.items(), key=lambda kv: (-kv[1], kv[0])))

        dates = [d.doc.published for d in self.docs.values() if d.doc.published is not None]
        return EngineStats(len(self.docs), counted(d.doc.source for d in self.docs.values()),
                           counted(d.doc.lang for d in self.docs.values()), min(dates, default=None),
                           max(dates, default=None), 1, 0, MemoryEngine.FORMAT, analysis.ANALYSIS_VERSION, "memory")


class MemoryWriter:
    def __init__(self, engine: "MemoryEngine") -> None:
        self.engine = engine
        self.changed = False
        self.docs: Dict[str, _Doc] = {}

    def __enter__(self) -> "MemoryWriter":
        self.docs = dict(_STATES[self.engine.key])
        return self

    def __exit__(self, exc_type, *rest) -> None:  # noqa: ANN001
        if exc_type is None and self.changed:
            _STATES[self.engine.key] = self.docs
            self.engine._searcher = None
        elif exc_type is not None:
            self.changed = False

    def upsert(self, docs: Iterable[IndexDoc]) -> UpsertCounts:
        added = updated = unchanged = 0
        seen: Set[str] = set()
        for doc in docs:
            old = self.docs.get(doc.id)
            if old is not None and old.doc.chash == doc.chash:
                unchanged += 1
                continue
            if old is None and doc.id not in seen:
                added += 1
            else:
                updated += 1
            seen.add(doc.id)
            self.docs[doc.id] = _analyse(doc)
            self.changed = True
        return UpsertCounts(added, updated, unchanged)

    def delete(self, *, ids=None, sources: Sequence[str] = (), before: Optional[datetime] = None) -> int:
        if ids is None and not sources and before is None:
            return 0
        keys = {source_key(s) for s in sources}
        doomed = [i for i, d in self.docs.items()
                  if (ids is None or i in ids) and (not keys or d.doc.source_key in keys)
                  and (before is None or (d.doc.published is not None and d.doc.published < before))]
        for i in doomed:
            del self.docs[i]
        self.changed = self.changed or bool(doomed)
        return len(doomed)

    def doc_count(self) -> int:
        return len(self.docs)


class MemoryEngine:
    name = "memory"
    FORMAT = 1

    def __init__(self, where, key: str) -> None:  # noqa: ANN001
        self.where = Path(where)
        self.key = key
        self._searcher: Optional[MemorySearcher] = None

    @classmethod
    def create(cls, where) -> "MemoryEngine":  # noqa: ANN001
        Path(where).mkdir(parents=True, exist_ok=True)
        key = uuid.uuid4().hex
        _STATES[key] = {}
        write_format_record(where, cls.name, cls.FORMAT, key=key)
        return cls(where, key)

    @classmethod
    def open(cls, where) -> "MemoryEngine":  # noqa: ANN001
        record = format_record(where) or {}
        if record.get("key") not in _STATES:
            raise IndexNotFound(f"no memory index at {where}")
        return cls(where, str(record["key"]))

    @classmethod
    def clone(cls, src, dst) -> "MemoryEngine":  # noqa: ANN001
        eng = cls.create(dst)
        _STATES[eng.key] = copy.deepcopy(_STATES[cls.open(src).key])
        return eng

    @classmethod
    def recognizes(cls, where) -> bool:  # noqa: ANN001
        return False

    def writer(self) -> MemoryWriter:
        return MemoryWriter(self)

    def searcher(self) -> MemorySearcher:
        if self._searcher is None:
            self._searcher = MemorySearcher(_STATES[self.key])
        return self._searcher

    def verify(self, expected: int) -> None:
        s = type(self).open(self.where).searcher()
        if s.doc_count() != expected:
            raise NewsSearchError(f"{self.where.name} failed verification: {s.doc_count()} articles, {expected} written")
        for d in list(s.docs.values())[:1]:
            term = next(iter(d.terms["body"] or d.terms["title"]), None)
            if term and d.doc.id not in s._slots([[term]], 0, FIELDS):
                raise NewsSearchError(f"{self.where.name} failed verification: probe query found nothing")

    def close(self) -> None:
        self._searcher = None


register("memory", MemoryEngine)
