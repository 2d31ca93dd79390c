"""The engine contract: what NewsIndex asks of a search engine, and the plain records
they exchange.

An engine stores and searches :class:`IndexDoc` records. It never parses query text
(it receives the tree :mod:`newssearch.query` built), never analyses text its own way
(every term comes from :mod:`newssearch.analysis`, so every engine finds the same
articles), and never hands out an object of its library: everything it returns is one
of the dataclasses below.

Three Protocols:

- :class:`Engine`: one index at one *location* (``where``). A location is opaque to
  the caller: the Whoosh engine keeps a directory of segment files there, an engine
  backed by a server would keep there the name of a server-side index. The caller
  (``newssearch.index``) owns the location's life: it makes a fresh one per
  generation, asks the engine to ``create`` or ``clone`` into it, and deletes it when
  the generation is thrown away or pruned.
- :class:`EngineWriter`: a with-block over one engine. Clean exit commits; an
  exception cancels, and the engine then holds what it held before the block.
- :class:`EngineSearcher`: read-only views of one committed state.

Engines are registered by name (:mod:`newssearch.engine`); the name is written in the
format record of each location, so opening picks the engine that made it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Protocol, Sequence, Tuple, runtime_checkable

from ..query import Node

__all__ = [
    "Candidate",
    "CompiledQuery",
    "Engine",
    "EngineAnswer",
    "EngineSearcher",
    "EngineStats",
    "EngineWriter",
    "IndexDoc",
    "SearchSpec",
    "SourceCount",
    "StoredArticle",
    "UpsertCounts",
    "Where",
]

Where = Path
"""An engine's location. Callers only make, pass and delete it; engines give it meaning."""


# ---------------------------------------------------------------------------- records in


@dataclass(frozen=True)
class IndexDoc:
    """One article as every engine indexes it: stored fields plus the derived ones.

    Built by :func:`newssearch.engine.documents.index_doc` only, so all engines index
    the same derived values. Text fields are analysed by the engine with
    :func:`newssearch.analysis.index_terms_words` (in whichever process writes them).
    """

    id: str
    title: str
    body: str
    chash: str
    """Hash of the stored content: an upsert with the same hash changes nothing."""
    source: str = ""
    source_key: str = ""
    """The source as ``source:`` and ``--source`` match it (casefolded)."""
    published: Optional[datetime] = None
    """Aware UTC, or None."""
    lang: Optional[str] = None
    """Lower case; also the language the text is analysed in."""
    url: Optional[str] = None
    author: Optional[str] = None
    url_words: Tuple[str, ...] = ()
    """What ``inurl:`` matches."""
    author_words: Tuple[str, ...] = ()
    """The byline's words, folded: what ``author:`` and ``--author`` match."""
    domains: Tuple[str, ...] = ()
    """The url's host and its parent domains: what ``site:`` and ``--domain`` match."""
    signature: Optional[Tuple[int, ...]] = None
    """The near-duplicate sketch; None means "make it from the analysed title and body
    with :func:`newssearch.engine.documents.signature_of_words`" (engines that analyse
    anyway save a second pass)."""


@dataclass(frozen=True)
class SearchSpec:
    """Everything a search needs besides the query tree; built by NewsIndex."""

    sources: Sequence[str] = ()
    """Keep articles of these sources (matched on the source key)."""
    since: Optional[datetime] = None
    until: Optional[datetime] = None
    """Inclusive bounds on ``published`` (aware UTC); undated articles fail any bound."""
    lang: Optional[str] = None
    sort: str = "relevance"
    """relevance, fresh (ranked as relevance: NewsIndex re-ranks), newest or oldest."""
    offset: int = 0
    limit: int = 10
    exclude_sources: Sequence[str] = ()
    domains: Sequence[str] = ()
    exclude_domains: Sequence[str] = ()
    authors: Sequence[str] = ()
    """Keep articles whose byline holds every word of one of these names."""
    """Leave out articles on these hosts or their subdomains."""
    exclude_ids: Sequence[str] = ()
    facets: Sequence[str] = ()
    """Facet names: source, lang, day, week, month."""
    window: int = 0
    """How many ranked candidates to return (at least offset + limit)."""

    @property
    def size(self) -> int:
        """The number of candidates asked for."""
        return max(self.window, self.offset + self.limit, 1)


# ---------------------------------------------------------------------------- records out


@dataclass(frozen=True)
class Candidate:
    """One ranked match before its stored text is loaded."""

    id: str
    score: float
    published: Optional[datetime]
    signature: Tuple[int, ...]


@dataclass(frozen=True)
class EngineAnswer:
    """What an engine found for one search, as plain values.

    ``candidates`` are in the order asked for, ties broken as
    :func:`newssearch.engine.documents.relevance_key` / ``date_key`` say.
    """

    total: int
    candidates: List[Candidate]
    facets: Dict[str, Dict[str, int]] = field(default_factory=dict)
    """Facet -> value -> count over every match; date facets keyed as
    :func:`newssearch.engine.documents.date_buckets` makes them."""
    warnings: Tuple[str, ...] = ()
    expanded: Dict[str, int] = field(default_factory=dict)
    """Prefix/fuzzy word as typed -> number of index terms it expanded to."""
    expanded_terms: FrozenSet[str] = frozenset()
    """The index terms chosen for prefix/fuzzy words (what snippets mark)."""


@dataclass(frozen=True)
class StoredArticle:
    """The stored fields of one article."""

    id: str
    title: str
    body: str
    source: str
    published: Optional[datetime]
    url: Optional[str]
    lang: Optional[str]
    author: Optional[str]


@dataclass(frozen=True)
class CompiledQuery:
    """What a tree compiles to on one engine, for ``--explain``: text, never an engine object."""

    text: str
    warnings: Tuple[str, ...] = ()
    expanded: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceCount:
    """One source: its articles and their first and last publication time."""

    name: str
    articles: int
    first: Optional[datetime]
    last: Optional[datetime]


@dataclass(frozen=True)
class EngineStats:
    """What an engine's index holds, and how it is laid out."""

    articles: int
    sources: Dict[str, int]
    """Articles per source, most first."""
    languages: Dict[str, int]
    oldest: Optional[datetime]
    newest: Optional[datetime]
    segments: int
    """Physical parts a search visits (segments, shards); 1 where the engine has no such notion."""
    size_bytes: int
    format: int
    analysis: str
    engine: str = ""


@dataclass(frozen=True)
class UpsertCounts:
    """What one upsert did: each record given counts once."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0


# ---------------------------------------------------------------------------- protocols


@runtime_checkable
class EngineSearcher(Protocol):
    """Read-only access to one committed state of an engine's index."""

    def doc_count(self) -> int:
        """Live articles."""
        ...

    def search(self, tree: Node, spec: SearchSpec) -> EngineAnswer:
        """Total, a ranked window of ``spec.size`` candidates, facets and warnings."""
        ...

    def count(self, tree: Node) -> int:
        """Articles matching *tree*, with no filter (cheap: no ranking, no facets)."""
        ...

    def fetch(self, ids: Sequence[str]) -> Dict[str, StoredArticle]:
        """Stored fields of these articles; unknown ids are left out."""
        ...

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> List[str]:
        """Up to *limit* ids of live articles that start with *prefix*, in id order
        (how a short id such as the 8 characters a listing shows is resolved)."""
        ...

    def signature(self, article_id: str) -> Optional[Tuple[int, ...]]:
        """The stored near-duplicate sketch of an article; None when the id is unknown."""
        ...

    def copies(self, signatures: Sequence[Tuple[int, ...]], spec: Optional[SearchSpec] = None) -> List[List[str]]:
        """For each sketch, the ids of the indexed near-copies (passing *spec*'s filters)."""
        ...

    def more_like(self, article_id: str, spec: SearchSpec) -> Optional[EngineAnswer]:
        """Articles like *article_id* (its key terms), itself and ``spec.exclude_ids`` left out;
        None when the id is unknown."""
        ...

    def explain(self, tree: Node, *, lang: Optional[str] = None) -> CompiledQuery:
        """What *tree* compiles to, as text."""
        ...

    def term_frequency(self, term: str) -> int:
        """Articles whose title or body holds the analysed *term*."""
        ...

    def similar_terms(self, term: str, max_distance: int = 2, limit: int = 5) -> List[Tuple[int, int, str]]:
        """Index terms near *term*: (edit distance, -frequency, term), best first."""
        ...

    def surface_of(self, term: str) -> Optional[str]:
        """A word as written in some article that analyses to *term*."""
        ...

    def sources(self) -> List[SourceCount]:
        """Every source, most articles first (then by name)."""
        ...

    def stats(self) -> EngineStats:
        ...


@runtime_checkable
class EngineWriter(Protocol):
    """A with-block that changes an engine's index: commit on clean exit, cancel on error."""

    changed: bool
    """True once the block changed something (NewsIndex publishes nothing otherwise)."""

    def __enter__(self) -> "EngineWriter":
        ...

    def __exit__(self, *exc: object) -> None:
        ...

    def upsert(self, docs: Iterable[IndexDoc]) -> UpsertCounts:
        """Add or replace by id; of one id given twice the last wins. Visible after commit."""
        ...

    def delete(
        self,
        *,
        ids: Optional[Sequence[str]] = None,
        sources: Sequence[str] = (),
        before: Optional[datetime] = None,
    ) -> int:
        """Delete what matches every criterion given (undated articles are never *before*);
        returns how many. Applies to what the index held before this block's upserts too."""
        ...

    def doc_count(self) -> int:
        """Live articles counting this block's changes so far."""
        ...


@runtime_checkable
class Engine(Protocol):
    """One index at one location."""

    name: str
    """The name the registry knows this engine by (written in the format record)."""

    where: Where

    @classmethod
    def create(cls, where: Where) -> "Engine":
        """A new, empty index at *where* (a location nothing else uses)."""
        ...

    @classmethod
    def open(cls, where: Where) -> "Engine":
        """The index at *where*; IndexNotFound or RebuildNeeded when it cannot be opened."""
        ...

    @classmethod
    def clone(cls, src: Where, dst: Where) -> "Engine":
        """A new index at *dst* holding what *src* holds; no write to it can change *src*."""
        ...

    @classmethod
    def recognizes(cls, where: Where) -> bool:
        """True when *where* holds this engine's files without a format record (an index
        from before generations, or a damaged one): the caller says rebuild."""
        ...

    def writer(self) -> EngineWriter:
        ...

    def searcher(self) -> EngineSearcher:
        """A searcher of the latest committed state (the same object until a commit)."""
        ...

    def verify(self, expected: int) -> None:
        """Check, from a cold open, that the index holds *expected* articles and answers a
        probe query; NewsSearchError naming what failed otherwise."""
        ...

    def close(self) -> None:
        ...
