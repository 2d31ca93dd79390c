"""The Whoosh wing: the only module that imports whoosh.

Schema, the analyzer adapter, query-tree compilation, writer and searcher
lifecycle. Whoosh objects never leave this module: hits are copied into
:class:`~newssearch.model.Hit` before the searcher is released.

Security note: a Whoosh index stores its segment list with pickle, so opening an
index directory unpickles data from it. Only open indexes you built yourself.
"""
from __future__ import annotations

import contextvars
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple
from urllib.parse import urlsplit

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring, sorting
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema
from whoosh.index import LockError

from .. import analysis
from ..errors import IndexLocked, IndexNotFound, RebuildNeeded
from ..model import Article, Hit
from ..query import And, Node, Not, Or, Phrase, Word

__all__ = ["WhooshEngine", "FORMAT_VERSION", "TITLE_BOOST", "SearchSpec"]

FORMAT_VERSION = 1
"""Bump when the schema changes; together with ANALYSIS_VERSION it guards old indexes."""

TITLE_BOOST = 2.0
"""A title match weighs this many body matches (BM25F field weight)."""

# The language of the document being added. Whoosh gives a field analyzer no per-document
# arguments, so upsert sets this around add_document/update_document (which analyse in
# the calling thread) and NewsTokenizer reads it: words are stemmed for the article's
# language. Queries leave it None. A multi-process writer (procs>1) would analyse in
# other processes without it: it would have to pass lang along with each document.
_DOC_LANG: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("newssearch_doc_lang", default=None)
# The same for compiling a query: (the search's language, the languages the index holds),
# read by _word without threading them through every _compile call.
_QUERY_LANGS: contextvars.ContextVar[Tuple[Optional[str], Optional[Tuple[str, ...]]]] = contextvars.ContextVar(
    "newssearch_query_langs", default=(None, None)
)

_META_FILE = "newssearch.json"
_INDEX_NAME = "MAIN"


class NewsTokenizer(Tokenizer):
    """Adapts :func:`newssearch.analysis.analyze` to Whoosh's token stream.

    Module-level on purpose: Whoosh pickles the schema (and so this class) into the
    index, and a class that cannot be imported by name breaks opening it elsewhere.
    """

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        # one Token mutated and re-yielded, as Whoosh's own tokenizers do: no object per word
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term, pos, start, end in analysis.analyze(value, lang=_DOC_LANG.get()):
            t.text = term
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = value[start:end]
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


def build_schema() -> Schema:
    """The schema every newssearch index has (the pickled copy in the index is never used)."""
    analyzer = NewsTokenizer()
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer, stored=True, phrase=True, field_boost=TITLE_BOOST),
        body=TEXT(analyzer=analyzer, stored=True, phrase=True),
        # display form, exact: sortable so it can be faceted and grouped
        source=ID(stored=True, sortable=True),
        # casefolded form, what source: and --source match against
        source_key=ID,
        domain=ID(stored=False),
        published=DATETIME(stored=True, sortable=True),
        lang=ID(stored=True),
        url=STORED,
        author=STORED,
        chash=STORED,
    )


def _any_term(field: str, terms: Sequence[str]) -> wq.Query:
    """One term, or any of several alternatives for one word."""
    if len(terms) == 1:
        return wq.Term(field, terms[0])
    return wq.Or([wq.Term(field, t) for t in terms])


def _domain(url: Optional[str]) -> Optional[str]:
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    host = host.lower()
    return host[4:] if host.startswith("www.") else (host or None)


def _naive_utc(dt: Optional[datetime]) -> Optional[datetime]:
    # Whoosh's DATETIME drops tzinfo without converting, so convert first
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.replace(tzinfo=None)


def _aware(dt: Optional[datetime]) -> Optional[datetime]:
    return dt.replace(tzinfo=timezone.utc) if dt is not None else None


def _score(key: object, sort: str) -> float:
    # with sortedby, Whoosh reports the sort key as the score: for relevance its first
    # part is the negated score (see sorting.ScoreFacet); date sorts compute no score
    if sort == "relevance" and isinstance(key, tuple) and key:
        return float(-key[0])
    return float(key) if isinstance(key, (int, float)) else 0.0


@dataclass(frozen=True)
class SearchSpec:
    """Everything a search needs besides the query tree; built by NewsIndex."""

    sources: Sequence[str] = ()
    since: Optional[datetime] = None
    until: Optional[datetime] = None
    lang: Optional[str] = None
    sort: str = "relevance"
    offset: int = 0
    limit: int = 10


@dataclass(frozen=True)
class RawHit:
    """Stored fields of one hit, before the snippet is made (engine-free values only)."""

    id: str
    title: str
    body: str
    source: str
    published: Optional[datetime]
    url: Optional[str]
    lang: Optional[str]
    author: Optional[str]
    score: float
    rank: int


class WhooshEngine:
    """One Whoosh index directory: create/open, upsert, search, stats."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self.schema = build_schema()
        self._searcher = None
        if create and not self._exists():
            self.path.mkdir(parents=True, exist_ok=True)
            self._ix = whoosh_index.create_in(str(self.path), self.schema, indexname=_INDEX_NAME)
            self._write_meta()
        else:
            self._check_meta()
            self._ix = whoosh_index.open_dir(str(self.path), indexname=_INDEX_NAME, schema=self.schema)

    # ------------------------------------------------------------ format guard

    def _exists(self) -> bool:
        return self.path.is_dir() and (
            (self.path / _META_FILE).exists() or whoosh_index.exists_in(str(self.path), indexname=_INDEX_NAME)
        )

    @staticmethod
    def expected_meta() -> Dict[str, object]:
        return {"engine": "whoosh", "format": FORMAT_VERSION, "analysis": analysis.ANALYSIS_VERSION}

    def _write_meta(self) -> None:
        tmp = self.path / (_META_FILE + ".tmp")
        tmp.write_text(json.dumps(self.expected_meta(), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / _META_FILE)

    def _check_meta(self) -> None:
        if not self.path.is_dir():
            raise IndexNotFound(f"no index at {self.path}: create one with `newssearch index PATH --index {self.path}`")
        meta_path = self.path / _META_FILE
        if not meta_path.exists():
            if whoosh_index.exists_in(str(self.path), indexname=_INDEX_NAME) or any(self.path.glob("*.toc")):
                raise RebuildNeeded(f"{self.path} holds an index without a newssearch format record: rebuild needed")
            raise IndexNotFound(f"no index at {self.path}: create one with `newssearch index PATH --index {self.path}`")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RebuildNeeded(f"{meta_path} is unreadable ({exc}): rebuild needed") from exc
        expected = self.expected_meta()
        if meta != expected:
            raise RebuildNeeded(
                f"index at {self.path} has format {meta.get('format')} / analysis {meta.get('analysis')}, "
                f"this newssearch uses format {expected['format']} / analysis {expected['analysis']}: "
                "rebuild needed (re-index into a fresh directory)"
            )

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._ix.close()

    def _get_searcher(self):  # -> whoosh Searcher; private, never leaves the engine
        if self._searcher is None:
            self._searcher = self._ix.searcher(weighting=scoring.BM25F())
        else:
            # cheap when nothing changed: Whoosh reuses the open segment readers
            self._searcher = self._searcher.refresh()
        return self._searcher

    # ------------------------------------------------------------ writing

    def upsert(self, items: Iterable[Tuple[Article, str]]) -> Tuple[int, int, int]:
        """Add or replace articles by id; returns (added, updated, unchanged).

        *items* pairs each article with a hash of its content; an article whose id is
        already stored with the same hash is left alone. All of one call is committed
        together, or nothing is when an exception escapes.
        """
        added = updated = unchanged = 0
        writer = self._writer()
        existing = self._ix.searcher()
        seen: Dict[str, str] = {}
        dirty = False  # anything written since the last commit
        try:
            for article, chash in items:
                if article.id in seen:
                    if seen[article.id] == chash:
                        unchanged += 1
                        continue
                    # the same id twice in one batch with new content: Whoosh cannot
                    # delete a document it has not committed yet, so commit first
                    writer.commit(merge=False)
                    existing.close()
                    writer, existing = self._writer(), self._ix.searcher()
                    self._write(writer.update_document, article, chash)
                    seen[article.id] = chash
                    dirty = True
                    continue
                stored = existing.document(id=article.id)
                if stored is None:
                    self._write(writer.add_document, article, chash)
                    added += 1
                    dirty = True
                elif stored.get("chash") == chash:
                    unchanged += 1
                else:
                    self._write(writer.update_document, article, chash)
                    updated += 1
                    dirty = True
                seen[article.id] = chash
        except BaseException:
            writer.cancel()
            raise
        finally:
            existing.close()
        if dirty:
            writer.commit()
        else:
            writer.cancel()
        return added, updated, unchanged

    def _write(self, method, article: Article, chash: str) -> None:
        """Call the writer's add/update *method* with the article's language in effect."""
        token = _DOC_LANG.set(article.lang.lower() if article.lang else None)
        try:
            method(**self._fields(article, chash))
        finally:
            _DOC_LANG.reset(token)

    def _writer(self):
        try:
            return self._ix.writer(limitmb=256)
        except LockError as exc:
            raise IndexLocked(f"index {self.path} is being written by another process") from exc

    @staticmethod
    def _fields(article: Article, chash: str) -> Dict[str, object]:
        fields: Dict[str, object] = {
            "id": article.id,
            "title": article.title,
            "body": article.body,
            "chash": chash,
        }
        if article.source:
            fields["source"] = article.source
            fields["source_key"] = article.source.casefold()
        if article.published is not None:
            fields["published"] = _naive_utc(article.published)
        if article.lang:
            fields["lang"] = article.lang.lower()
        if article.url:
            fields["url"] = article.url
            domain = _domain(article.url)
            if domain:
                fields["domain"] = domain
        if article.author:
            fields["author"] = article.author
        return fields

    # ------------------------------------------------------------ reading

    def doc_count(self) -> int:
        return self._get_searcher().doc_count()

    def get(self, article_id: str) -> Optional[Article]:
        stored = self._get_searcher().document(id=article_id)
        if stored is None:
            return None
        return Article(
            id=stored["id"],
            title=stored.get("title", ""),
            body=stored.get("body", ""),
            source=stored.get("source", ""),
            published=_aware(stored.get("published")),
            url=stored.get("url"),
            lang=stored.get("lang"),
            author=stored.get("author"),
        )

    def search(self, tree: Node, spec: SearchSpec) -> Tuple[int, List[RawHit]]:
        """Run *tree* with *spec*; returns (total matches, the requested page of hits)."""
        q = self.compile(tree, lang=spec.lang)
        filters = self._filters(spec)
        if filters:
            q = wq.And([q] + filters)
        searcher = self._get_searcher()
        wanted = spec.offset + spec.limit
        results = searcher.search(q, limit=max(wanted, 1), sortedby=self._sort(spec.sort))
        total = len(results)
        hits: List[RawHit] = []
        for rank, hit in enumerate(results[spec.offset : wanted], start=spec.offset + 1):
            stored = hit.fields()
            hits.append(
                RawHit(
                    id=stored["id"],
                    title=stored.get("title", ""),
                    body=stored.get("body", ""),
                    source=stored.get("source", ""),
                    published=_aware(stored.get("published")),
                    url=stored.get("url"),
                    lang=stored.get("lang"),
                    author=stored.get("author"),
                    score=_score(hit.score, spec.sort),
                    rank=rank,
                )
            )
        return total, hits

    @staticmethod
    def _sort(sort: str):
        # ties always broken by date (newest first), then id, so runs repeat
        by_date = sorting.FieldFacet("published", reverse=True)
        by_id = sorting.FieldFacet("id")
        if sort == "newest":
            return sorting.MultiFacet([by_date, by_id])
        if sort == "oldest":
            return sorting.MultiFacet([sorting.FieldFacet("published"), by_id])
        return sorting.MultiFacet([sorting.ScoreFacet(), by_date, by_id])

    @staticmethod
    def _filters(spec: SearchSpec) -> List[wq.Query]:
        out: List[wq.Query] = []
        if spec.sources:
            out.append(wq.Or([wq.Term("source_key", s.casefold()) for s in spec.sources]))
        if spec.since is not None or spec.until is not None:
            out.append(wq.DateRange("published", _naive_utc(spec.since), _naive_utc(spec.until)))
        if spec.lang:
            out.append(wq.Term("lang", spec.lang.lower()))
        return out

    # ------------------------------------------------------------ query tree -> whoosh

    def compile(self, node: Node, *, lang: Optional[str] = None) -> wq.Query:
        """Compile an engine-free query tree to a Whoosh query (NullQuery if nothing is searchable).

        *lang* (the search's language filter) stems query words for that language; the
        languages the index holds are tried too (see ``analysis.query_alternatives``).
        """
        token = _QUERY_LANGS.set((lang.lower() if lang else None, tuple(self.languages())))
        try:
            compiled = self._compile(node)
        finally:
            _QUERY_LANGS.reset(token)
        return compiled if compiled is not None else wq.NullQuery

    def languages(self) -> List[str]:
        """The distinct ``lang`` values stored in the index."""
        searcher = self._get_searcher()
        return sorted(t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in searcher.lexicon("lang"))

    def _compile(self, node: Node) -> Optional[wq.Query]:
        if isinstance(node, Word):
            return self._word(node.text, node.field, slop=0)
        if isinstance(node, Phrase):
            return self._word(node.text, node.field, slop=node.slop)
        if isinstance(node, Not):
            return self._compile(node.child)
        if isinstance(node, Or):
            kids = [k for k in (self._compile(c) for c in node.children) if k is not None]
            return wq.Or(kids) if len(kids) > 1 else (kids[0] if kids else None)
        if isinstance(node, And):
            pos = [k for k in (self._compile(c) for c in node.children if not isinstance(c, Not)) if k is not None]
            neg = [k for k in (self._compile(c) for c in node.children if isinstance(c, Not)) if k is not None]
            if not pos:
                return None if not neg else wq.AndNot(wq.Every(), wq.Or(neg))
            base = wq.And(pos) if len(pos) > 1 else pos[0]
            return wq.AndNot(base, wq.Or(neg)) if neg else base
        raise TypeError(f"unknown query node {node!r}")  # pragma: no cover

    @staticmethod
    def _word(text: str, field: Optional[str], slop: int) -> Optional[wq.Query]:
        if field == "source":
            return wq.Term("source_key", text.strip().casefold())
        if field == "lang":
            return wq.Term("lang", text.strip().lower())
        lang, langs = _QUERY_LANGS.get()
        alternatives = analysis.query_alternatives(text, lang=lang, langs=langs)
        if not alternatives:
            return None
        fields = (field,) if field else ("title", "body")
        if len(alternatives) == 1:
            parts = [_any_term(f, alternatives[0]) for f in fields]
        elif all(len(a) == 1 for a in alternatives):
            # Whoosh's slop 1 means adjacent; ours 0 does
            parts = [wq.Phrase(f, [a[0] for a in alternatives], slop=slop + 1) for f in fields]
        else:
            # a word with alternative terms (Hebrew prefixes, Arabic stems...): a span
            # sequence of Or's, since Phrase takes one term per position
            parts = [wq.Sequence([_any_term(f, a) for a in alternatives], slop=slop + 1) for f in fields]
        return parts[0] if len(parts) == 1 else wq.Or(parts)

    # ------------------------------------------------------------ stats

    def stats(self) -> Dict[str, object]:
        searcher = self._get_searcher()
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
            oldest = _aware(first[0].get("published"))
            newest = _aware(searcher.search(dated, limit=1, sortedby="published", reverse=True)[0].get("published"))
        size = sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())
        return {
            "articles": searcher.doc_count(),
            "sources": dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
            "languages": dict(sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))),
            "oldest": oldest,
            "newest": newest,
            "segments": len(self._ix._segments()),
            "size_bytes": size,
            "format": FORMAT_VERSION,
            "analysis": analysis.ANALYSIS_VERSION,
        }
