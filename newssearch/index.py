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
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union

from . import analysis, dedupe, fallback
from ._testhooks import checkpoint
from .engine.whoosh import MAX_EXPANSION, EngineAnswer, SearchSpec, WhooshEngine
from .errors import ArticleNotFound, BadQuery, IndexNotFound, NewsSearchError
from .generations import DEFAULT_KEEP_GENERATIONS, Generation, IndexRoot
from .ingest import read_paths
from .ingest.fetch import STATE_FILE, FetchState
from .model import (
    Article,
    Explanation,
    Hit,
    IngestReport,
    IngestWarning,
    Rejected,
    Results,
    SourceInfo,
    normalize_url,
    to_utc,
)
from .query import And, AnyOf, DateRange, Fuzzy, Node, Not, Or, Phrase, Prefix, Word, outline, parse_query
from .ranking import FRESH_DEPTH, rerank_fresh
from .snippets import make_snippets
from .suggest import SUGGEST_BELOW, suggest

__all__ = ["NewsIndex", "IndexStats", "open_index", "SORTS", "MAX_LIMIT", "FACETS", "Generation"]

SORTS = ("relevance", "newest", "oldest", "fresh")
"""Accepted values of ``sort`` (``fresh`` = relevance x freshness, see :mod:`newssearch.ranking`)."""

FACETS = ("source", "lang", "day", "week", "month")
"""Facet names ``search(facets=...)`` accepts; ``facets=True`` means source and day."""

COLLAPSE_SLACK = 3
"""With collapsing, this many times the requested hits are ranked, so a page fills up even
when copies of one story crowd the top."""

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
            added, updated, unchanged = engine.upsert((a, content_hash(a)) for a in map(_with_language, articles))
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
                    record = _with_language(record)
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
        exclude_source: Union[str, Sequence[str], None] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        lang: Optional[str] = None,
        domain: Union[str, Sequence[str], None] = None,
        sort: str = "relevance",
        limit: int = 10,
        page: int = 1,
        facets: Union[bool, Sequence[str], None] = None,
        collapse: bool = True,
        now: Optional[datetime] = None,
    ) -> Results:
        """Ranked search. See the README for the query language.

        ``source`` / ``exclude_source`` (one name or several) match outlet names exactly,
        ignoring case; ``domain`` keeps articles whose url is on that host or a subdomain;
        ``since``/``until`` bound the publication time (inclusive; naive = UTC);
        ``sort`` is one of :data:`SORTS`; ``page`` is 1-based; ``facets`` names facets of
        :data:`FACETS` (True = source and day) counted over every match; ``collapse``
        folds near-duplicate copies into one hit (``Hit.duplicates``); ``now`` resolves
        relative dates in the query (``when:7d``) and is the reference of ``fresh``.
        Raises :class:`~newssearch.errors.BadQuery` for a query with nothing to search
        or an invalid option; bad syntax only adds ``warnings``.
        """
        if sort not in SORTS:
            raise BadQuery(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        if page < 1:
            raise BadQuery(f"page must be 1 or more, got {page}")
        facet_names = _facet_names(facets)
        parsed = parse_query(text, now=to_utc(now))
        if not _has_searchable(parsed.tree):
            raise BadQuery(f"nothing searchable in {text!r}: it has no words")
        spec = SearchSpec(
            sources=_names(source),
            exclude_sources=_names(exclude_source),
            domains=_names(domain),
            since=to_utc(since),
            until=to_utc(until),
            lang=lang,
            sort=sort,
            offset=(page - 1) * limit,
            limit=limit,
            facets=facet_names,
            window=self._window(sort, page, limit, collapse),
        )
        warnings = list(parsed.warnings)
        tree = parsed.tree
        words = fallback.loose_words(tree)
        answer: Optional[EngineAnswer] = None
        if words is None or len(words) < 3 or not fallback.wants_fallback(words, self._engine.count_all_words(words)):
            # a sentence whose words are all in too few articles skips straight to the fallback
            answer = self._engine.search(tree, spec)
        if words is not None and (answer is None or fallback.wants_fallback(words, answer.total)):
            loose = fallback.fallback_tree(words)
            if loose is not None:
                wider = self._engine.search(loose, spec)
                # the fallback finds a superset of the all-words articles: take it when it adds some
                if answer is None or wider.total > answer.total:
                    found = "too few" if answer is None else str(answer.total)
                    warnings.append(
                        f"{found} articles have every word: showing articles with at least "
                        f"{loose.min_match} of {len(loose.children)} ({', '.join(w.text for w in loose.children)})"
                    )
                    tree, answer = loose, wider
        if answer is None:
            answer = self._engine.search(tree, spec)
        warnings.extend(answer.warnings)
        hits = self._page(answer, tree, spec, collapse=collapse, now=to_utc(now))
        suggestion = None
        if answer.total < SUGGEST_BELOW:
            suggestion = suggest(text, parsed.tree, self._engine)
        return Results(
            total=answer.total,
            hits=hits,
            query=text,
            page=page,
            limit=limit,
            warnings=tuple(dict.fromkeys(warnings)),
            facets=answer.facets,
            suggestion=suggestion,
        )

    @staticmethod
    def _window(sort: str, page: int, limit: int, collapse: bool) -> int:
        wanted = page * limit
        if sort == "fresh":
            return max(FRESH_DEPTH, wanted * (COLLAPSE_SLACK if collapse else 1))
        return wanted * COLLAPSE_SLACK + 10 if collapse else wanted

    def _page(
        self, answer: EngineAnswer, tree: Node, spec: SearchSpec, *, collapse: bool, now: Optional[datetime]
    ) -> Tuple[Hit, ...]:
        """Order (fresh), collapse copies, cut the page, then load and snippet only its hits."""
        cands = list(answer.candidates)
        if spec.sort == "fresh":
            cands = rerank_fresh(
                cands, now=now, score=lambda c: c.score, published=lambda c: c.published, ident=lambda c: c.id
            )
        if collapse:
            groups = dedupe.collapse(cands, lambda c: c.signature)
        else:
            groups = [(c, []) for c in cands]
        shown = groups[spec.offset : spec.offset + spec.limit]
        copies: Dict[str, List[str]] = {first.id: [c.id for c in rest] for first, rest in shown}
        if collapse and shown:
            # copies ranked beyond the window still count: one lookup by signature keys
            found = self._engine.copies_of_many([first.signature for first, _ in shown], spec)
            for (first, _rest), others in zip(shown, found):
                for other in others:
                    if other != first.id and other not in copies[first.id]:
                        copies[first.id].append(other)
        stored = self._engine.load([first.id for first, _ in shown])
        # query words tried with the stemmers of the hits' languages too
        terms = highlight_terms(tree, langs={r.lang for r in stored.values()}) | answer.expanded_terms
        hits: List[Hit] = []
        for rank, (first, _rest) in enumerate(shown, start=spec.offset + 1):
            r = stored.get(first.id)
            if r is None:  # pragma: no cover - deleted between the search and the load
                continue
            text = r.body or r.title
            dup_ids = tuple(sorted(copies[first.id]))
            plain, marked = make_snippets(text, terms, lang=r.lang)
            hits.append(
                Hit(
                    id=r.id,
                    title=r.title,
                    source=r.source,
                    published=r.published,
                    url=r.url,
                    lang=r.lang,
                    author=r.author,
                    score=first.score,
                    snippet=plain,
                    rank=rank,
                    snippet_html=marked,
                    duplicates=len(dup_ids),
                    duplicate_ids=dup_ids,
                )
            )
        return tuple(hits)

    def related(
        self,
        article_id: str,
        *,
        limit: int = 5,
        page: int = 1,
        source: Union[str, Sequence[str], None] = None,
        exclude_source: Union[str, Sequence[str], None] = None,
        lang: Optional[str] = None,
        collapse: bool = True,
    ) -> Results:
        """Articles like *article_id* (more-like-this over its title and body), best first.

        The article itself and its near-duplicate copies are left out. Raises
        :class:`~newssearch.errors.ArticleNotFound` when no article has that id.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        if page < 1:
            raise BadQuery(f"page must be 1 or more, got {page}")
        sig = self._engine.signature_of(article_id)
        own_copies = tuple(self._engine.copies_of(sig)) if sig else ()
        spec = SearchSpec(
            sources=_names(source),
            exclude_sources=_names(exclude_source),
            lang=lang,
            offset=(page - 1) * limit,
            limit=limit,
            exclude_ids=tuple(i for i in own_copies if i != article_id),
            window=self._window("relevance", page, limit, collapse),
        )
        answer = self._engine.more_like(article_id, spec)
        if answer is None:
            raise ArticleNotFound(f"no article with id {article_id!r} in {self.path}")
        hits = self._related_page(answer, spec, collapse, self.get(article_id))
        return Results(total=answer.total, hits=hits, query=f"related:{article_id}", page=page, limit=limit)

    def _related_page(self, answer: EngineAnswer, spec: SearchSpec, collapse: bool, article: Optional[Article]) -> Tuple[Hit, ...]:
        cands = list(answer.candidates)
        groups = dedupe.collapse(cands, lambda c: c.signature) if collapse else [(c, []) for c in cands]
        shown = groups[spec.offset : spec.offset + spec.limit]
        stored = self._engine.load([first.id for first, _ in shown])
        # mark the words the seed article's title shares with each related one
        terms = set(analysis.query_terms(article.title)) if article else set()
        hits: List[Hit] = []
        for rank, (first, rest) in enumerate(shown, start=spec.offset + 1):
            r = stored.get(first.id)
            if r is None:  # pragma: no cover
                continue
            text = r.body or r.title
            dup_ids = tuple(sorted(c.id for c in rest))
            plain, marked = make_snippets(text, terms, lang=r.lang)
            hits.append(
                Hit(
                    id=r.id, title=r.title, source=r.source, published=r.published, url=r.url, lang=r.lang,
                    author=r.author, score=first.score, snippet=plain, rank=rank, snippet_html=marked,
                    duplicates=len(dup_ids), duplicate_ids=dup_ids,
                )
            )
        return tuple(hits)

    def sources(self) -> Tuple[SourceInfo, ...]:
        """Every source with its article count and first/last publication date, most articles first."""
        return tuple(SourceInfo(name, count, first, last) for name, count, first, last in self._engine.sources())

    def explain(self, text: str, *, now: Optional[datetime] = None) -> Explanation:
        """How *text* is understood: the parsed tree, the engine query it compiles to, warnings,
        and how many index terms each prefix/fuzzy word expanded to (never above the cap)."""
        parsed = parse_query(text, now=to_utc(now))
        compiled, report = self._engine.compile_report(parsed.tree)
        words = fallback.loose_words(parsed.tree)
        loose = fallback.fallback_tree(words) if words is not None else None
        return Explanation(
            query=text,
            tree="\n".join(outline(parsed.tree)),
            compiled=str(compiled),
            warnings=tuple(parsed.warnings) + tuple(report.warnings),
            expanded=dict(report.expanded),
            fallback=loose and ("\n".join(outline(loose))),
            expansion_cap=MAX_EXPANSION,
        )

    def stats(self) -> IndexStats:
        """Counts and ranges of what the index holds."""
        return IndexStats(path=str(self.path), generation=self.generation, **self._engine.stats())  # type: ignore[arg-type]


def _names(value: Union[str, Sequence[str], None]) -> Tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _facet_names(facets: Union[bool, Sequence[str], None]) -> Tuple[str, ...]:
    if not facets:
        return ()
    if facets is True:
        return ("source", "day")
    names = (facets,) if isinstance(facets, str) else tuple(facets)
    for name in names:
        if name not in FACETS:
            raise BadQuery(f"unknown facet {name!r}: use {', '.join(FACETS)}")
    return tuple(dict.fromkeys(names))


def _with_language(article: Article) -> Article:
    """*article* with ``lang`` detected from its text when the input gave none."""
    if article.lang:
        return article
    lang = analysis.detect_language(f"{article.title}\n{article.body}")
    return replace(article, lang=lang) if lang else article


def _has_searchable(node: Node) -> bool:
    """True when some positive part of the query has a term, an exact-field value or a date."""
    if isinstance(node, DateRange):
        return True
    if isinstance(node, (Prefix, Fuzzy)):
        return bool(analysis.query_terms(node.text, stem=False))
    if isinstance(node, (Word, Phrase)):
        if node.field == "url":
            return any(ch.isalnum() for ch in node.text)
        return node.field in ("source", "lang", "site") or bool(analysis.query_terms(node.text))
    if isinstance(node, (And, Or, AnyOf)):
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
    elif isinstance(node, (Prefix, Fuzzy)):
        # the snippet marks the word as typed; expansions are engine-side
        out.update(analysis.query_terms(node.text))
    elif isinstance(node, (And, Or, AnyOf)):
        for child in node.children:
            out |= highlight_terms(child, langs)
    return out
