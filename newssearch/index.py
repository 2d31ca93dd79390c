"""NewsIndex: the library's front door — create/open, add/upsert, search, stats.

Engine-agnostic: it parses queries with :mod:`newssearch.query`, hands the tree
to the engine, and turns what comes back into :class:`~newssearch.model.Results`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union

from . import analysis
from .engine.whoosh import SEARCH_BUDGET_SECONDS, SearchSpec, WhooshEngine
from .errors import BadQuery, IndexNotFound, NewsSearchError
from ._testhooks import checkpoint
from .generations import DEFAULT_KEEP_GENERATIONS, Generation, IndexRoot
from .ingest import read_paths
from .ingest.fetch import STATE_FILE, FetchState
from .model import Article, Hit, IngestReport, IngestWarning, Rejected, Results, normalize_url, to_utc
from .query import And, Node, Not, Or, Phrase, Word, parse_query
from .snippets import make_snippet

__all__ = ["NewsIndex", "IndexStats", "open_index", "SORTS", "MAX_LIMIT", "Generation"]

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
    generation: int = 0
    """The live generation's id."""
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
        # the normalised url: the same link with other tracking parameters is not new content
        normalize_url(article.url) or "",
        article.lang or "",
        article.author or "",
    ):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:16]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def open_index(
    path: PathLike, *, create: bool = False, wait: float = 0.0, now: Optional[Callable[[], datetime]] = None
) -> "NewsIndex":
    """Open the index rooted at *path*; with ``create=True`` make an empty one if there is none.

    The index root holds generations (see :mod:`newssearch.generations`); the returned
    index reads the live one. Writes wait up to *wait* seconds for another writer's
    lock. *now* is the clock (a callable returning an aware datetime) used for
    generation timestamps and retention; the wall clock by default.

    Raises :class:`~newssearch.errors.IndexNotFound` when there is no index and
    ``create`` is False, and :class:`~newssearch.errors.RebuildNeeded` when the index
    was built by another format version. Opening an index reads pickled data from it:
    only open indexes you built yourself.
    """
    return NewsIndex(path, create=create, wait=wait, now=now)


class NewsIndex:
    """A news index on disk. Use as a context manager, or call :meth:`close`.

    Searches read one complete generation; :meth:`refresh` moves to the newest. Every
    write (add, add_paths, delete) builds a new generation from the live one, verifies
    it and switches to it atomically, holding the root's writer lock meanwhile.
    """

    def __init__(
        self,
        path: PathLike,
        *,
        create: bool = False,
        wait: float = 0.0,
        now: Optional[Callable[[], datetime]] = None,
        keep_generations: int = DEFAULT_KEEP_GENERATIONS,
    ) -> None:
        self.path = Path(path)
        self.wait = wait
        self.keep_generations = keep_generations
        self._now = now or _utcnow
        self._root = IndexRoot(self.path)
        if create and not self._root.exists():
            if self.path.exists() and not self.path.is_dir():
                raise IndexNotFound(f"{self.path} is a file, not an index directory")
            with self._root.lock(wait=wait, command="create"):
                if not self._root.exists():  # another process may have made it meanwhile
                    build = self._root.next_build_dir()
                    WhooshEngine(build, create=True).close()
                    self._root.publish(build, articles=0, kind="create", now=self._now())
        self._engine = self._open_live()

    def _open_live(self) -> WhooshEngine:
        # a rebuild may prune the generation CURRENT named a moment ago: look again
        for attempt in range(5):
            name = self._root.live_name()
            try:
                engine = WhooshEngine(self.path / name)
                self._generation = name
                return engine
            except IndexNotFound:
                if attempt == 4:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def generation(self) -> int:
        """The id of the generation this index object reads."""
        return int(self._generation.split("-", 1)[1])

    def refresh(self) -> bool:
        """Move to the newest live generation if another process switched; True if it did.

        Cheap when nothing changed (one small file read): a long-lived reader can call
        it before every search.
        """
        if self._root.live_name() == self._generation:
            return False
        old = self._engine
        self._engine = self._open_live()
        old.close()
        return True

    def generations(self) -> List[Generation]:
        """Every generation on disk, oldest first, the live one marked."""
        return self._root.generations()

    def rollback(self) -> Generation:
        """Make the newest generation older than the live one live again; returns it.

        Raises NewsSearchError when there is no older generation to go back to.
        """
        with self._root.lock(wait=self.wait, command="rollback"):
            gens = self._root.generations()
            live = next((g for g in gens if g.live), None)
            older = [g for g in gens if live is not None and g.id < live.id]
            if not older:
                raise NewsSearchError(f"no generation older than the live one in {self.path}: nothing to roll back to")
            target = older[-1]
            self._root.switch(Path(target.path).name)
        self.refresh()
        return dataclasses.replace(target, live=True)

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

    @contextmanager
    def writing(self, kind: str, *, fresh: bool = False) -> Iterator[WhooshEngine]:
        """Hold the lock and yield an engine on a new generation, published on clean exit.

        The new generation starts as a copy of the live one (or empty with *fresh*);
        it is verified and switched to when the block ends without an exception, and
        thrown away otherwise. Used by every write and by rebuilds.
        """
        with self._root.lock(wait=self.wait, command=kind):
            self._root.clean_debris()
            build = self._root.next_build_dir()
            try:
                if not fresh:
                    WhooshEngine.clone(self._root.live_dir(), build)
                engine = WhooshEngine(build, create=fresh)
                try:
                    yield engine
                    count, changed = engine.doc_count(), engine.dirty or fresh
                finally:
                    engine.close()
                if not changed:  # nothing new: no generation to publish
                    shutil.rmtree(build, ignore_errors=True)
                    return
                checkpoint("verifying")
                self._verify(build, count)
                self._root.publish(build, articles=count, kind=kind, now=self._now())
            except BaseException:
                shutil.rmtree(build, ignore_errors=True)
                raise
            self._root.prune(self.keep_generations)
        self.refresh()

    @staticmethod
    def _verify(build: Path, expected: int) -> None:
        """Open the new generation cold, count it and run a probe query before anyone sees it."""
        engine = WhooshEngine(build)
        try:
            if engine.doc_count() != expected:
                raise NewsSearchError(f"new generation {build.name} failed verification: count changed on reopen")
            probe = engine.probe()
            if probe is not None and not probe:
                raise NewsSearchError(f"new generation {build.name} failed verification: probe query found nothing")
        finally:
            engine.close()

    def add(self, articles: Iterable[Article]) -> IngestReport:
        """Add *articles*, replacing any stored article with the same id whose content changed.

        Everything from one call is committed together.
        """
        start = time.perf_counter()
        with self.writing("index") as engine:
            added, updated, unchanged = engine.upsert((a, content_hash(a)) for a in articles)
        return IngestReport(added, updated, unchanged, (), time.perf_counter() - start)

    def add_paths(
        self,
        paths: Iterable[PathLike],
        *,
        as_of: Optional[datetime] = None,
        format: Optional[str] = None,
        fields: Optional[Mapping[str, str]] = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        stdin: Optional[IO[bytes]] = None,
        progress: Optional[Callable[[int, int, str], None]] = None,
    ) -> IngestReport:
        """Read files, directories, http(s) URLs and ``-`` (stdin) into the index, in every
        format :mod:`newssearch.ingest` knows.

        Bad records are collected in ``report.rejected`` (file, line, reason) and records
        kept with a change in ``report.warnings``; every good record is still indexed.
        ``as_of`` resolves relative times ("2 hours ago"); by default each file's
        modification time. ``format`` forces a reader; ``fields`` maps Article fields to
        odd column/key names (``{"body": "story"}``); ``include``/``exclude`` are globs for
        directory walks; ``stdin`` is read for ``-`` (default: the process's stdin);
        ``progress(number, total, name)`` is called before each input. URLs are fetched
        conditionally: the ETag/Last-Modified each server gave are kept in
        ``<index>/fetch-state.json``, saved once the articles are committed.
        """
        start = time.perf_counter()
        rejected: List[Rejected] = []
        warnings: List[IngestWarning] = []
        state = FetchState.load(self.path / STATE_FILE)
        records = read_paths(paths, as_of=as_of, format=format, fields=fields, include=include,
                             exclude=exclude, stdin=stdin, fetch_state=state, on_input=progress)

        def good() -> Iterator[Tuple[Article, str]]:
            for record in records:
                if isinstance(record, Rejected):
                    rejected.append(record)
                elif isinstance(record, IngestWarning):
                    warnings.append(record)
                else:
                    yield record, content_hash(record)

        with self.writing("index") as engine:
            added, updated, unchanged = engine.upsert(good())
        if state.entries or state.path.exists():
            state.save()  # only now: the fetched articles are committed and published
        return IngestReport(added, updated, unchanged, tuple(rejected), time.perf_counter() - start,
                            warnings=tuple(warnings), not_modified=tuple(state.not_modified))

    def delete(
        self,
        *,
        ids: Optional[Iterable[str]] = None,
        source: Union[str, Sequence[str], None] = None,
        before: Optional[datetime] = None,
    ) -> int:
        """Delete the articles matching every criterion given (ids, source, published
        before a time); returns how many were deleted. Undated articles are never
        "before" anything. With no criterion nothing is deleted.
        """
        sources = (source,) if isinstance(source, str) else tuple(source or ())
        if ids is None and not sources and before is None:
            return 0
        with self.writing("delete") as engine:
            count = engine.delete(
                ids=list(ids) if ids is not None else None, sources=sources, before=to_utc(before)
            )
        return count

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
        terms = highlight_terms(parsed.tree)
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
        warnings = tuple(parsed.warnings)
        if self._engine.last_search_cut:
            warnings += (
                f"search stopped after {SEARCH_BUDGET_SECONDS:g}s: these are the best of the first "
                f"{total} matches found, and there may be more",
            )
        return Results(total=total, hits=hits, query=text, page=page, limit=limit, warnings=warnings)

    def stats(self) -> IndexStats:
        """Counts and ranges of what the index holds."""
        return IndexStats(path=str(self.path), generation=self.generation, **self._engine.stats())  # type: ignore[arg-type]


def _has_searchable(node: Node) -> bool:
    """True when some positive part of the query has a term or an exact-field value."""
    if isinstance(node, (Word, Phrase)):
        return node.field in ("source", "lang") or bool(analysis.query_terms(node.text))
    if isinstance(node, (And, Or)):
        return any(_has_searchable(c) for c in node.children if not isinstance(c, Not))
    return False


def highlight_terms(node: Node) -> Set[str]:
    """Analysed terms of the positive text parts of *node*: what a snippet marks."""
    out: Set[str] = set()
    if isinstance(node, (Word, Phrase)):
        if node.field in (None, "title", "body"):
            out.update(analysis.query_terms(node.text))
    elif isinstance(node, (And, Or)):
        for child in node.children:
            out |= highlight_terms(child)
    return out
