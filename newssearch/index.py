"""NewsIndex: the library's front door — create/open, add/upsert, search, stats.

Engine-agnostic: it parses queries with :mod:`newssearch.query`, hands the tree
to the engine, and turns what comes back into :class:`~newssearch.model.Results`.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

from . import analysis
from .engine.whoosh import SearchSpec, WhooshEngine
from .errors import BadQuery
from .ingest import read_paths
from .model import Article, Hit, IngestReport, Rejected, Results, to_utc
from .query import And, Node, Not, Or, Phrase, Word, parse_query
from .snippets import make_snippet

__all__ = ["NewsIndex", "IndexStats", "open_index", "SORTS", "MAX_LIMIT"]

SORTS = ("relevance", "newest", "oldest")
"""Accepted values of ``sort``."""

MAX_LIMIT = 1000
"""Largest page size a search accepts."""

PathLike = Union[str, Path]


@dataclass(frozen=True)
class IndexStats:
    """What an index holds."""

    path: str
    articles: int
    sources: Dict[str, int] = field(default_factory=dict)
    """Articles per source, most first."""
    languages: Dict[str, int] = field(default_factory=dict)
    oldest: Optional[datetime] = None
    newest: Optional[datetime] = None
    segments: int = 0
    size_bytes: int = 0
    format: int = 0
    analysis: str = ""


def content_hash(article: Article) -> str:
    """Hash of everything stored about *article*: a changed hash means the article was updated."""
    h = hashlib.sha1()
    for part in (
        article.title,
        article.body,
        article.source,
        article.published.isoformat() if article.published else "",
        article.url or "",
        article.lang or "",
        article.author or "",
    ):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:16]


def open_index(path: PathLike, *, create: bool = False) -> "NewsIndex":
    """Open the index at *path*; with ``create=True`` make an empty one if there is none.

    Raises :class:`~newssearch.errors.IndexNotFound` when there is no index and
    ``create`` is False, and :class:`~newssearch.errors.RebuildNeeded` when the index
    was built by another format version. Opening an index reads pickled data from it:
    only open indexes you built yourself.
    """
    return NewsIndex(path, create=create)


class NewsIndex:
    """A news index on disk. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: PathLike, *, create: bool = False) -> None:
        self.path = Path(path)
        self._engine = WhooshEngine(self.path, create=create)

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> "NewsIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the index's files."""
        self._engine.close()

    def __repr__(self) -> str:
        return f"NewsIndex({str(self.path)!r})"

    # ------------------------------------------------------------ writing

    def add(self, articles: Iterable[Article]) -> IngestReport:
        """Add *articles*, replacing any stored article with the same id whose content changed.

        Everything from one call is committed together.
        """
        start = time.perf_counter()
        added, updated, unchanged = self._engine.upsert(
            (a, content_hash(a)) for a in map(_with_language, articles)
        )
        return IngestReport(added, updated, unchanged, (), time.perf_counter() - start)

    def add_paths(
        self,
        paths: Iterable[PathLike],
        *,
        as_of: Optional[datetime] = None,
        format: Optional[str] = None,
    ) -> IngestReport:
        """Read files and directories (every format :mod:`newssearch.ingest` knows) into the index.

        Bad records are collected in ``report.rejected`` (file, line, reason); every good
        record is still indexed. ``as_of`` resolves relative times ("2 hours ago"); by
        default each file's modification time.
        """
        start = time.perf_counter()
        rejected: List[Rejected] = []

        def good() -> Iterator[Tuple[Article, str]]:
            for record in read_paths(paths, as_of=as_of, format=format):
                if isinstance(record, Rejected):
                    rejected.append(record)
                else:
                    record = _with_language(record)
                    yield record, content_hash(record)

        added, updated, unchanged = self._engine.upsert(good())
        return IngestReport(added, updated, unchanged, tuple(rejected), time.perf_counter() - start)

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self._engine.doc_count()

    def get(self, article_id: str) -> Optional[Article]:
        """The stored article with this id, or None."""
        return self._engine.get(article_id)

    def search(
        self,
        text: str,
        *,
        source: Union[str, Sequence[str], None] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        lang: Optional[str] = None,
        sort: str = "relevance",
        limit: int = 10,
        page: int = 1,
    ) -> Results:
        """Ranked search. See the README for the query language.

        ``source`` (one name or several) matches outlet names exactly, ignoring case;
        ``since``/``until`` bound the publication time (inclusive; naive = UTC);
        ``sort`` is one of :data:`SORTS`; ``page`` is 1-based.
        Raises :class:`~newssearch.errors.BadQuery` for a query with nothing to search
        or an invalid option; bad syntax only adds ``warnings``.
        """
        if sort not in SORTS:
            raise BadQuery(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        if page < 1:
            raise BadQuery(f"page must be 1 or more, got {page}")
        parsed = parse_query(text)
        if not _has_searchable(parsed.tree):
            raise BadQuery(f"nothing searchable in {text!r}: it has no words")
        sources = (source,) if isinstance(source, str) else tuple(source or ())
        spec = SearchSpec(
            sources=sources,
            since=to_utc(since),
            until=to_utc(until),
            lang=lang,
            sort=sort,
            offset=(page - 1) * limit,
            limit=limit,
        )
        total, raw = self._engine.search(parsed.tree, spec)
        terms = highlight_terms(parsed.tree, langs={r.lang for r in raw})
        hits = tuple(
            Hit(
                id=r.id,
                title=r.title,
                source=r.source,
                published=r.published,
                url=r.url,
                lang=r.lang,
                author=r.author,
                score=r.score,
                snippet=make_snippet(r.body or r.title, terms, lang=r.lang),
                rank=r.rank,
            )
            for r in raw
        )
        return Results(
            total=total, hits=hits, query=text, page=page, limit=limit, warnings=parsed.warnings
        )

    def stats(self) -> IndexStats:
        """Counts and ranges of what the index holds."""
        return IndexStats(path=str(self.path), **self._engine.stats())  # type: ignore[arg-type]


def _with_language(article: Article) -> Article:
    """*article* with ``lang`` detected from its text when the input gave none."""
    if article.lang:
        return article
    lang = analysis.detect_language(f"{article.title}\n{article.body}")
    return replace(article, lang=lang) if lang else article


def _has_searchable(node: Node) -> bool:
    """True when some positive part of the query has a term or an exact-field value."""
    if isinstance(node, (Word, Phrase)):
        return node.field in ("source", "lang") or bool(analysis.query_terms(node.text))
    if isinstance(node, (And, Or)):
        return any(_has_searchable(c) for c in node.children if not isinstance(c, Not))
    return False


def highlight_terms(node: Node, langs: Iterable[Optional[str]] = ()) -> Set[str]:
    """Analysed terms of the positive text parts of *node*: what a snippet marks.

    *langs*: the languages of the hits, whose stemmers the query words are tried with.
    """
    out: Set[str] = set()
    langs = tuple(langs)
    if isinstance(node, (Word, Phrase)):
        if node.field in (None, "title", "body"):
            for alternatives in analysis.query_alternatives(node.text, langs=langs):
                out.update(alternatives)
    elif isinstance(node, (And, Or)):
        for child in node.children:
            out |= highlight_terms(child, langs)
    return out
