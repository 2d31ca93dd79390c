"""NewsIndex: the library's front door — create/open, add/upsert, search, stats.

Engine-agnostic: it parses queries with :mod:`newssearch.query`, hands the tree
to the engine, and turns what comes back into :class:`~newssearch.model.Results`.
"""
from __future__ import annotations

import dataclasses
import difflib
import time
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union

from . import analysis, dedupe, fallback
from ._testhooks import checkpoint
from .engine import (DEFAULT_ENGINE, announce, engine_location, engine_class, engine_of, format_record, legacy_engine, open_engine,
                     remove_location)
from .engine.base import Candidate, Engine, EngineAnswer, EngineSearcher, EngineWriter, SearchSpec, StoredArticle
from .engine.documents import MAX_EXPANSION, author_words
from .errors import ArticleNotFound, BadInput, BadQuery, IndexNotFound, NewsSearchError, RebuildNeeded
from .generations import DEFAULT_KEEP_GENERATIONS, IndexRoot, require_posix
from .ingest import read_paths
from .ingest.fetch import STATE_FILE, FetchState
from .model import (
    Article,
    Explanation,
    Generation,
    Hit,
    IndexStats,
    IngestReport,
    IngestWarning,
    Match,
    Rejected,
    Results,
    SourceInfo,
    Timeline,
    clean_text,
    to_utc,
)
from .records import content_hash, index_docs
from .querydates import date_span
from .query import And, AnyOf, DateRange, Fuzzy, Node, Not, Or, ParsedQuery, Phrase, Prefix, Word, outline, parse_query
from .ranking import FRESH_DEPTH, rerank_fresh
from .snippets import make_snippets
from .suggest import SUGGEST_BELOW, suggest

__all__ = ["NewsIndex", "IndexStats", "open_index", "SORTS", "MAX_LIMIT", "FACETS", "Generation", "content_hash"]

SORTS = ("relevance", "newest", "oldest", "fresh")
"""Accepted values of ``sort`` (``fresh`` = relevance x freshness, see :mod:`newssearch.ranking`)."""

FACETS = ("source", "lang", "day", "week", "month")
"""Facet names ``search(facets=...)`` accepts; ``facets=True`` means source and day."""

COLLAPSE_SLACK = 3
"""With collapsing, this many times the requested hits are ranked, so a page fills up even
when copies of one story crowd the top."""

MAX_LIMIT = 1000
"""Largest page size a search accepts."""

LANGUAGE_NAMES = {
    "english": "en", "german": "de", "deutsch": "de", "arabic": "ar", "hebrew": "he", "french": "fr",
    "francais": "fr", "français": "fr", "spanish": "es", "espanol": "es", "español": "es", "italian": "it",
    "portuguese": "pt", "dutch": "nl", "russian": "ru", "turkish": "tr", "persian": "fa", "farsi": "fa",
    "swedish": "sv", "danish": "da", "norwegian": "no", "finnish": "fi", "polish": "pl", "czech": "cs",
    "romanian": "ro", "hungarian": "hu", "greek": "el", "ukrainian": "uk", "urdu": "ur", "chinese": "zh",
    "japanese": "ja", "korean": "ko", "hindi": "hi", "indonesian": "id", "vietnamese": "vi", "catalan": "ca",
}
"""Language names users type for ``lang``, to suggest the ISO 639-1 code the index uses."""

MIN_SHORT_ID = 4
"""The shortest start of an id :meth:`NewsIndex.resolve_id` looks up (listings show SHORT_ID)."""
MAX_DEPTH = 10_000
"""Deepest result a page reaches (``page * limit``); a page past it is empty, with a warning
(every match is still counted; ``iter_search``-style export is the way to read them all)."""

PathLike = Union[str, Path]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def open_index(
    path: PathLike,
    *,
    create: bool = False,
    wait: float = 0.0,
    now: Optional[Callable[[], datetime]] = None,
    engine: str = DEFAULT_ENGINE,
) -> "NewsIndex":
    """Open the index rooted at *path*; with ``create=True`` make an empty one if there is none.

    The index root holds generations (see :mod:`newssearch.generations`); the returned
    index reads the live one. Writes wait up to *wait* seconds for another writer's
    lock. *now* is the clock (a callable returning an aware datetime) used for
    generation timestamps, the writer lock and retention; the wall clock by default.
    *engine* names the engine a new index is made with (see :mod:`newssearch.engine`);
    an existing index is always read with the engine that made it.

    *path* may also be an engine url, ``opensearch+http://host:9200/PREFIX``: the index
    root (generations, lock) is then kept under ``$NEWSSEARCH_STATE_DIR`` (default
    ``~/.local/state/newssearch``); on a machine without that root the index is opened
    read-only through the alias ``PREFIX``, which always names the live generation.

    Raises :class:`~newssearch.errors.IndexNotFound` when there is no index and
    ``create`` is False, and :class:`~newssearch.errors.RebuildNeeded` when the index
    was built by another format version. A Whoosh index holds pickles; they are read
    through a restricted unpickler, so a planted one is an UntrustedIndex error, never
    code run (see :mod:`newssearch.engine.whoosh.safepickle` for what that does not cover).
    """
    require_posix()
    spec, root = engine_location(path)
    if spec is not None:
        path, engine = root, spec
        if not create and not IndexRoot(root).exists():
            # no index root on this machine: read the live generation through the alias
            view = getattr(engine_class(spec), "make_view", None)
            if view is None:
                raise IndexNotFound(f"no index at {root}")
            view(root)
    return NewsIndex(path, create=create, wait=wait, now=now, engine=engine)


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
        engine: str = DEFAULT_ENGINE,
        rebuilding: bool = False,
    ) -> None:
        self.path = Path(path)
        self._rebuilding = rebuilding
        self.wait = wait
        self.keep_generations = keep_generations
        self._now = now or _utcnow
        self._root = IndexRoot(self.path, remove=remove_location)
        if create and not self._root.exists():
            if self.path.exists() and not self.path.is_dir():
                raise IndexNotFound(f"{self.path} is a file, not an index directory")
            self._refuse_legacy()
            cls = engine_class(engine)
            with self._root.lock(wait=wait, command="create", now=self._now):
                if not self._root.exists():  # another process may have made it meanwhile
                    build = self._root.next_build_dir()
                    cls.create(build).close()
                    self._root.publish(build, articles=0, kind="create", now=self._now())
                    announce(self._root.live_dir())
        self._engine: Optional[Engine] = None
        try:
            self._engine = self._open_live()
            self._searcher: EngineSearcher = self._engine.searcher()
        except RebuildNeeded as exc:
            # a rebuild writes a fresh generation from the sources: a live one this version
            # cannot read (another engine format or analysis) is only counted, never opened
            if not rebuilding:
                raise
            self._refuse_legacy()  # an index from before generations is rebuilt into a new directory
            self._generation = self._root.live_name()
            live = next((g.articles for g in self._root.generations() if g.live), 0)
            self._searcher = _Unreadable(exc, live)  # type: ignore[assignment]

    def _refuse_legacy(self) -> None:
        """RebuildNeeded when the root itself holds an engine index (from before generations)."""
        if self.path.is_dir() and (format_record(self.path) is not None or legacy_engine(self.path)):
            raise RebuildNeeded(
                f"{self.path} holds an index from before generations: rebuild needed (index into a new directory)"
            )

    def _open_live(self) -> Engine:
        # a rebuild may prune the generation CURRENT named a moment ago: look again
        for attempt in range(5):
            try:
                name = self._root.live_name()
            except IndexNotFound:
                self._refuse_legacy()
                raise
            try:
                engine = open_engine(self.path / name)
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
        if self._engine is not None and self._root.live_name() == self._generation:
            return False
        old = self._engine
        self._engine = self._open_live()
        self._searcher = self._engine.searcher()
        if old is not None:
            old.close()
        return True

    def generations(self) -> List[Generation]:
        """Every generation on disk, oldest first, the live one marked."""
        return self._root.generations()

    def rollback(self) -> Generation:
        """Make the newest generation older than the live one live again; returns it.

        Raises NewsSearchError when there is no older generation to go back to.
        """
        with self._root.lock(wait=self.wait, command="rollback", now=self._now):
            gens = self._root.generations()
            live = next((g for g in gens if g.live), None)
            older = [g for g in gens if live is not None and g.id < live.id]
            if not older:
                raise NewsSearchError(f"no generation older than the live one in {self.path}: nothing to roll back to")
            target = older[-1]
            self._root.switch(Path(target.path).name)
            announce(Path(target.path))
        self.refresh()
        return dataclasses.replace(target, live=True)

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> "NewsIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the index's files."""
        if self._engine is not None:
            self._engine.close()

    def __repr__(self) -> str:
        return f"NewsIndex({str(self.path)!r})"

    # ------------------------------------------------------------ writing

    @contextmanager
    def writing(self, kind: str, *, fresh: bool = False, engine: Optional[str] = None) -> Iterator[EngineWriter]:
        """Hold the lock and yield an engine writer on a new generation, published on clean exit.

        The new generation starts as a copy of the live one (or empty with *fresh*), made
        by the live generation's engine; it is verified (a cold open, a count and a probe
        query) and switched to when the block ends without an exception, and thrown away
        otherwise. Used by every write and by rebuilds. A fresh generation may be made by
        another *engine* (a spec, see :func:`newssearch.engine.engine_class`): a rebuild
        moves an index to another engine that way.
        """
        with self._root.lock(wait=self.wait, command=kind, now=self._now):
            self._root.clean_debris()
            build = self._root.next_build_dir()
            try:
                live = self._root.live_dir()
                cls = engine_of(live)
                target = engine_class(engine) if fresh and engine is not None else None
                if target is not None and (target.name != cls.name or "+" in str(engine)):
                    made = target.create(build)  # the engine (or the cluster) the rebuild asked for
                elif fresh:  # on the live generation's server, for engines that have one
                    beside = getattr(cls, "create_beside", None)
                    made = beside(live, build) if beside is not None else cls.create(build)
                else:
                    made = cls.clone(live, build)
                try:
                    with made.writer() as writer:
                        yield writer
                    count, changed = writer.doc_count(), writer.changed or fresh
                    if changed:
                        checkpoint("verifying")
                        made.verify(count)
                finally:
                    made.close()
                if not changed:  # nothing new: no generation to publish
                    remove_location(build)
                    return
                gen = self._root.publish(build, articles=count, kind=kind, now=self._now())
            except BaseException:
                remove_location(build)
                raise
            announce(Path(gen.path))
            self._root.prune(self.keep_generations)
        self.refresh()

    def add(self, articles: Iterable[Article]) -> IngestReport:
        """Add *articles*, replacing any stored article with the same id whose content changed.

        Everything from one call is committed together.
        """
        start = time.perf_counter()
        with self.writing("index") as writer:
            counts = writer.upsert(index_docs(articles))
        return IngestReport(counts.added, counts.updated, counts.unchanged, tuple(engine_rejects(writer)),
                            time.perf_counter() - start)

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
        encoding: Optional[str] = None,
        dayfirst: bool = False,
        on_records: Optional[Callable[[int], None]] = None,
    ) -> IngestReport:
        """Read files, directories, http(s) URLs and ``-`` (stdin) into the index, in every
        format :mod:`newssearch.ingest` knows.

        Bad records are collected in ``report.rejected`` (file, line, reason) and records
        kept with a change in ``report.warnings``; every good record is still indexed.
        ``as_of`` resolves relative times ("2 hours ago"); by default each file's
        modification time. ``format`` forces a reader; ``fields`` maps Article fields to
        odd column/key names (``{"body": "story"}``); ``include``/``exclude`` are globs for
        directory walks; ``stdin`` is read for ``-`` (default: the process's stdin);
        ``progress(number, total, name)`` is called before each input, and
        ``on_records(count)`` with the number of records read so far (good and rejected),
        every :data:`RECORD_TICK` records and at the end; ``encoding`` reads
        every input as that codec instead of detecting it (a warning names the encoding
        whenever one was guessed); ``dayfirst`` reads numeric dates day first (``12/08/2025``
        is 12 August; without it an ambiguous one is read month first, with a warning). URLs are fetched
        conditionally: the ETag/Last-Modified each server gave are kept in
        ``<index>/fetch-state.json``, saved once the articles are committed.
        """
        start = time.perf_counter()
        rejected: List[Rejected] = []
        warnings: List[IngestWarning] = []
        state = FetchState.load(self.path / STATE_FILE)
        records = read_paths(paths, as_of=as_of, format=format, fields=fields, include=include,
                             exclude=exclude, stdin=stdin, fetch_state=state, on_input=progress, encoding=encoding,
                             dayfirst=dayfirst)
        if on_records is not None:
            records = _counting(records, on_records)

        with self.writing("index") as writer:
            counts = writer.upsert(index_docs(records, rejected=rejected, warnings=warnings))
        rejected += engine_rejects(writer)
        if state.entries or state.path.exists():
            state.save()  # only now: the fetched articles are committed and published
        return IngestReport(counts.added, counts.updated, counts.unchanged, tuple(rejected), time.perf_counter() - start,
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
        with self.writing("delete") as writer:
            count = writer.delete(
                ids=list(ids) if ids is not None else None, sources=sources, before=to_utc(before)
            )
        return count

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self._searcher.doc_count()

    def resolve_id(self, text: str) -> str:
        """The full id of the article *text* names: its whole id, or a unique start of it
        of at least :data:`MIN_SHORT_ID` characters (listings show the first
        :data:`~newssearch.model.SHORT_ID` characters). Raises :class:`~newssearch.errors.ArticleNotFound`
        when no article matches, :class:`~newssearch.errors.BadQuery` when several do."""
        if not isinstance(text, str):
            raise BadQuery(f"an article id is text (str), not {type(text).__name__}")
        wanted = text.strip()
        if not wanted:
            raise BadQuery("an article id is needed: listings show each hit's id")
        if self._searcher.fetch([wanted]):
            return wanted
        if len(wanted) < MIN_SHORT_ID:
            raise ArticleNotFound(f"no article with id {wanted!r} in {self.path} "
                                  f"(a short id needs at least {MIN_SHORT_ID} characters)")
        found = self._searcher.ids_with_prefix(wanted, limit=3)
        if not found:
            raise ArticleNotFound(f"no article with id {wanted!r} in {self.path}")
        if len(found) > 1:
            more = "more" if len(found) > 2 else ""
            raise BadQuery(f"{wanted!r} is the start of several article ids ({', '.join(found[:2])}{', ...' if more else ''}): "
                           "give more of the id")
        return found[0]

    def get(self, article_id: str) -> Optional[Article]:
        """The stored article with this id, or None."""
        stored = self._searcher.fetch([article_id]).get(article_id)
        if stored is None:
            return None
        return Article(id=stored.id, title=stored.title, body=stored.body, source=stored.source,
                       published=stored.published, url=stored.url, lang=stored.lang, author=stored.author)

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
        exclude_domain: Union[str, Sequence[str], None] = None,
        author: Union[str, Sequence[str], None] = None,
        sort: str = "relevance",
        limit: int = 10,
        page: int = 1,
        facets: Union[bool, Sequence[str], None] = None,
        collapse: bool = True,
        now: Optional[datetime] = None,
    ) -> Results:
        """Ranked search. See the README for the query language.

        ``source`` / ``exclude_source`` (one name or several) match outlet names exactly,
        ignoring case; ``domain`` keeps articles whose url is on that host or a subdomain,
        ``exclude_domain`` leaves them out; ``author`` keeps articles whose byline holds
        every word of the name (any case and accents; several names: any of them);
        ``since``/``until`` bound the publication time (inclusive; naive = UTC);
        ``sort`` is one of :data:`SORTS`; ``page`` is 1-based; ``facets`` names facets of
        :data:`FACETS` (True = source and day) counted over every match; ``collapse``
        folds near-duplicate copies into one hit (``Hit.duplicates``); ``now`` resolves
        relative dates in the query (``when:7d``) and is the reference of ``fresh``.
        Raises :class:`~newssearch.errors.BadQuery` for a query with nothing to search
        or an invalid option; bad syntax only adds ``warnings``.
        """
        _check_page(limit, page)
        facet_names = _facet_names(facets)
        deep = page * limit > MAX_DEPTH
        spec, parsed, now = self._spec(
            text, source=source, exclude_source=exclude_source, since=since, until=until, lang=lang, domain=domain,
            exclude_domain=exclude_domain, author=author, sort=sort, now=now,
            offset=0 if deep else (page - 1) * limit, limit=limit, facets=facet_names,
            window=self._window(sort, 1 if deep else page, limit, collapse),
        )
        tree, answer, warnings = self._answer(parsed, spec)
        searcher = self._searcher
        warnings.extend(answer.warnings)
        cands = list(answer.candidates)
        if spec.sort == "fresh":
            cands = rerank_fresh(
                cands, now=to_utc(now), score=lambda c: c.score, published=lambda c: c.published, ident=lambda c: c.id
            )
        hits = () if page * limit > MAX_DEPTH else self._page(cands, spec, collapse=collapse, marked=lambda langs: (
            highlight_terms(tree, langs=langs) | answer.expanded_terms), copies_by_signature=True)
        warnings.extend(_past_the_end(page, limit, answer.total, hits))
        if answer.total == 0 and (spec.sources or spec.lang):
            warnings.extend(self._unknown_filters(spec))
        suggestion = None
        if answer.total < SUGGEST_BELOW:
            suggestion = suggest(text, parsed.tree, searcher)
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

    def _spec(self, text: str, *, source: Union[str, Sequence[str], None], exclude_source: Union[str, Sequence[str], None],
              since: object, until: object, lang: Optional[str], domain: Union[str, Sequence[str], None],
              exclude_domain: Union[str, Sequence[str], None], author: Union[str, Sequence[str], None], sort: str,
              now: object, offset: int, limit: int, facets: Tuple[str, ...], window: int,
              ) -> Tuple[SearchSpec, ParsedQuery, Optional[datetime]]:
        """The checked filters of a search as a SearchSpec, with the parsed query and *now*."""
        if not isinstance(sort, str) or sort not in SORTS:
            raise BadQuery(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
        now = _moment("now", now)
        since = _moment("since", since, now=now)
        until = _moment("until", until, now=now, end=True)
        parsed = parse_query(text, now=now)
        if not _has_searchable(parsed.tree):
            raise BadQuery(f"nothing searchable in {text!r}: it has no words")
        spec = SearchSpec(
            sources=_names(source),
            exclude_sources=_names(exclude_source),
            domains=_names(domain),
            exclude_domains=_names(exclude_domain),
            authors=_names(author),
            since=since,
            until=until,
            lang=_lang(lang),
            sort=sort,
            offset=offset,
            limit=limit,
            facets=facets,
            window=window,
        )
        return spec, parsed, now

    def _answer(self, parsed: ParsedQuery, spec: SearchSpec) -> Tuple[Node, EngineAnswer, List[str]]:
        """Run the query (or, when too few articles hold every word, its loose fallback):
        the tree that answered, the engine's answer and the warnings so far."""
        warnings = list(parsed.warnings)
        tree = parsed.tree
        words = fallback.loose_words(tree)
        searcher = self._searcher
        searched = searcher.search(tree, spec)
        answer: Optional[EngineAnswer] = searched
        if (words is not None and fallback.wants_fallback(words, searched.total)
                and fallback.wants_fallback(words, searcher.count(And(tuple(words))))):
            # a sentence whose words are all in too few articles, filters or not, goes to the
            # fallback as "too few" (the count runs only then: the filtered total is at most it)
            answer = None
        if words is not None and (answer is None or fallback.wants_fallback(words, answer.total)):
            loose = fallback.fallback_tree(words)
            if loose is not None:
                wider = searcher.search(loose, spec)
                # the fallback finds a superset of the all-words articles: take it when it adds some
                if answer is None or wider.total > answer.total:
                    found = "too few" if answer is None else str(answer.total)
                    warnings.append(
                        f"{found} articles have every word: showing articles with at least "
                        f"{loose.min_match} of {len(loose.children)} ({', '.join(w.text for w in loose.children)})"
                    )
                    tree, answer = loose, wider
        if answer is None:  # no fallback to take: the all-words answer after all
            answer = searched
        return tree, answer, warnings

    def iter_search(
        self,
        text: str,
        *,
        source: Union[str, Sequence[str], None] = None,
        exclude_source: Union[str, Sequence[str], None] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        lang: Optional[str] = None,
        domain: Union[str, Sequence[str], None] = None,
        exclude_domain: Union[str, Sequence[str], None] = None,
        author: Union[str, Sequence[str], None] = None,
        sort: str = "relevance",
        collapse: bool = False,
        now: Optional[datetime] = None,
        batch: int = 500,
    ) -> Iterator[Match]:
        """Every article matching *text*, in *sort* order, each as a :class:`Match` with its
        body and all stored fields: not capped at :data:`MAX_DEPTH`, loaded *batch* at a time.

        Filters and query language are those of :meth:`search`. By default every copy of a
        syndicated story is its own match (an export wants them all); ``collapse=True``
        yields only the first of each group, with the copies' ids in ``duplicate_ids``.
        The ranking is computed once, when the first match is asked for.
        """
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise BadQuery(f"batch must be a whole number of at least 1, not {batch!r}")
        spec, parsed, now = self._spec(
            text, source=source, exclude_source=exclude_source, since=since, until=until, lang=lang, domain=domain,
            exclude_domain=exclude_domain, author=author, sort=sort, now=now, offset=0, limit=1, facets=(),
            window=MAX_DEPTH,
        )
        return self._iter_matches(parsed, spec, collapse=collapse, now=now, batch=batch)

    def _iter_matches(self, parsed: ParsedQuery, spec: SearchSpec, *, collapse: bool, now: Optional[datetime],
                      batch: int) -> Iterator[Match]:
        tree, answer, _warnings = self._answer(parsed, spec)
        if answer.total > len(answer.candidates):
            answer = self._searcher.search(tree, dataclasses.replace(spec, window=answer.total))
        cands = list(answer.candidates)
        if spec.sort == "fresh":
            cands = rerank_fresh(
                cands, now=to_utc(now), score=lambda c: c.score, published=lambda c: c.published, ident=lambda c: c.id
            )
        groups = dedupe.collapse(cands, lambda c: c.signature) if collapse else [(c, []) for c in cands]
        rank = 0
        for start in range(0, len(groups), batch):
            part = groups[start : start + batch]
            stored = self._searcher.fetch([first.id for first, _ in part])
            for first, rest in part:
                r = stored.get(first.id)
                if r is None:  # deleted since the ranking
                    continue
                rank += 1
                yield Match(id=r.id, title=r.title, body=r.body, source=r.source, published=r.published, url=r.url,
                            lang=r.lang, author=r.author, score=first.score, rank=rank,
                            duplicate_ids=tuple(sorted(c.id for c in rest)))

    def timeline(
        self,
        text: str,
        *,
        by: str = "day",
        source: Union[str, Sequence[str], None] = None,
        exclude_source: Union[str, Sequence[str], None] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        lang: Optional[str] = None,
        domain: Union[str, Sequence[str], None] = None,
        exclude_domain: Union[str, Sequence[str], None] = None,
        author: Union[str, Sequence[str], None] = None,
        now: Optional[datetime] = None,
    ) -> Timeline:
        """How many articles matching *text* were published per day, ISO week or month
        (*by*), every period from the first to the last match present (empty ones as 0).

        Counts every matching article, syndicated copies included; ``undated`` counts
        the matches without a publication date, which no period holds.
        """
        from .timeline import PERIODS, build_timeline

        if not isinstance(by, str) or by not in PERIODS:
            raise BadQuery(f"unknown period {by!r}: use one of {', '.join(PERIODS)}")
        spec, parsed, now = self._spec(
            text, source=source, exclude_source=exclude_source, since=since, until=until, lang=lang, domain=domain,
            exclude_domain=exclude_domain, author=author, sort="relevance", now=now, offset=0, limit=1,
            facets=("day",), window=1,
        )
        _tree, answer, warnings = self._answer(parsed, spec)
        warnings.extend(answer.warnings)
        days = answer.facets.get("day", {})
        return build_timeline(text, by, days, total=answer.total, warnings=tuple(dict.fromkeys(warnings)),
                              since=spec.since, until=spec.until)

    @staticmethod
    def _window(sort: str, page: int, limit: int, collapse: bool) -> int:
        wanted = page * limit
        if sort == "fresh":
            return max(FRESH_DEPTH, wanted * (COLLAPSE_SLACK if collapse else 1))
        return wanted * COLLAPSE_SLACK + 10 if collapse else wanted

    def _page(
        self,
        cands: Sequence[Candidate],
        spec: SearchSpec,
        *,
        collapse: bool,
        marked: Callable[[Set[Optional[str]]], Set[str]],
        copies_by_signature: bool,
    ) -> Tuple[Hit, ...]:
        """Collapse copies, cut the page, then load and snippet only its hits.

        *marked* gives the terms a snippet marks, from the languages of the page's hits.
        With *copies_by_signature*, copies ranked beyond the window count too (one lookup
        by signature keys, with the search's filters).
        """
        groups = dedupe.collapse(cands, lambda c: c.signature) if collapse else [(c, []) for c in cands]
        shown = groups[spec.offset : spec.offset + spec.limit]
        copies: Dict[str, List[str]] = {first.id: [c.id for c in rest] for first, rest in shown}
        if collapse and copies_by_signature and shown:
            found = self._searcher.copies([first.signature for first, _ in shown], spec)
            for (first, _rest), others in zip(shown, found):
                for other in others:
                    if other != first.id and other not in copies[first.id]:
                        copies[first.id].append(other)
        stored = self._searcher.fetch([first.id for first, _ in shown])
        terms = marked({r.lang for r in stored.values()})
        hits: List[Hit] = []
        for rank, (first, _rest) in enumerate(shown, start=spec.offset + 1):
            r = stored.get(first.id)
            if r is None:  # pragma: no cover - deleted between the search and the load
                continue
            hits.append(_hit(r, first.score, rank, terms, tuple(sorted(copies[first.id]))))
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
        _check_page(limit, page)
        if not isinstance(article_id, str):
            raise BadQuery(f"an article id is text (str), not {type(article_id).__name__}")
        searcher = self._searcher
        sig = searcher.signature(article_id)
        own_copies = tuple(searcher.copies([sig])[0]) if sig else ()
        spec = SearchSpec(
            sources=_names(source),
            exclude_sources=_names(exclude_source),
            lang=_lang(lang),
            offset=0 if page * limit > MAX_DEPTH else (page - 1) * limit,
            limit=limit,
            exclude_ids=tuple(i for i in own_copies if i != article_id),
            window=self._window("relevance", page if page * limit <= MAX_DEPTH else 1, limit, collapse),
        )
        answer = searcher.more_like(article_id, spec)
        if answer is None:
            raise ArticleNotFound(f"no article with id {article_id!r} in {self.path}")
        article = self.get(article_id)
        # mark the words the seed article's title shares with each related one
        title_terms = _content_terms(article.title) if article else set()
        hits = () if page * limit > MAX_DEPTH else self._page(
            answer.candidates, spec, collapse=collapse, marked=lambda _langs: title_terms, copies_by_signature=False)
        return Results(total=answer.total, hits=hits, query=f"related:{article_id}", page=page, limit=limit,
                       warnings=_past_the_end(page, limit, answer.total, hits))

    def _unknown_filters(self, spec: SearchSpec) -> List[str]:
        """Warnings for --source / --lang values the index holds no article of, with the
        close names it does hold (a search that finds nothing should say why)."""
        st = self._searcher.stats()
        out: List[str] = []
        held = {name.casefold(): name for name in st.sources}
        for name in spec.sources:
            if name.casefold() not in held:
                close = difflib.get_close_matches(name.casefold(), list(held), n=3, cutoff=0.5)
                hint = f"; did you mean {', '.join(repr(held[c]) for c in close)}?" if close else ""
                out.append(f"no source named {name!r} in this index{hint} (`newssearch sources` lists them)")
        if spec.lang and spec.lang not in st.languages:
            code = LANGUAGE_NAMES.get(spec.lang.casefold())
            has = ", ".join(sorted(st.languages)) or "none"
            hint = f"; did you mean {code!r}?" if code in st.languages else ""
            out.append(f"no articles in language {spec.lang!r} (this index has: {has}){hint}")
        return out

    def sources(self) -> Tuple[SourceInfo, ...]:
        """Every source with its article count and first/last publication date, most articles first."""
        return tuple(SourceInfo(s.name, s.articles, s.first, s.last) for s in self._searcher.sources())

    def explain(self, text: str, *, now: Optional[datetime] = None) -> Explanation:
        """How *text* is understood: the parsed tree, the engine query it compiles to, warnings,
        and how many index terms each prefix/fuzzy word expanded to (never above the cap)."""
        parsed = parse_query(text, now=to_utc(now))
        compiled = self._searcher.explain(parsed.tree)
        words = fallback.loose_words(parsed.tree)
        loose = fallback.fallback_tree(words) if words is not None else None
        return Explanation(
            query=text,
            tree="\n".join(outline(parsed.tree)),
            compiled=compiled.text,
            warnings=tuple(parsed.warnings) + tuple(compiled.warnings),
            expanded=dict(compiled.expanded),
            fallback=loose and ("\n".join(outline(loose))),
            expansion_cap=MAX_EXPANSION,
        )

    def stats(self) -> IndexStats:
        """Counts and ranges of what the index holds."""
        st = self._searcher.stats()
        return IndexStats(
            path=str(self.path), articles=st.articles, generation=self.generation, sources=st.sources,
            languages=st.languages, oldest=st.oldest, newest=st.newest, segments=st.segments,
            size_bytes=st.size_bytes, format=st.format, analysis=st.analysis, engine=st.engine,
        )


RECORD_TICK = 250
"""How many records ``add_paths`` reads between two ``on_records`` calls."""


class _Unreadable:
    """The searcher of a live generation this version cannot read, in an index opened for
    a rebuild: it knows the generation's article count (its record) and refuses the rest."""

    def __init__(self, exc: RebuildNeeded, articles: int) -> None:
        self._exc = exc
        self._articles = articles

    def doc_count(self) -> int:
        return self._articles

    def __getattr__(self, name: str) -> object:
        raise self._exc


def _counting(records: Iterable[object], tick: Callable[[int], None]) -> Iterator:
    """*records* unchanged, telling *tick* how many articles and rejects went by."""
    n = 0
    for item in records:
        if not isinstance(item, IngestWarning):
            n += 1
            if n % RECORD_TICK == 0:
                tick(n)
        yield item
    tick(n)


def engine_rejects(writer: EngineWriter) -> List[Rejected]:
    """Articles the engine itself refused (a cluster's per-item error), as rejects with its reason."""
    return [Rejected(f"article {article_id}", None, reason) for article_id, reason in getattr(writer, "rejected", ())]


def _content_terms(text: str) -> Set[str]:
    """Analysed terms of *text*'s words but its stop words ("to", "the"): what marks a related article."""
    out: Set[str] = set()
    for word in text.split():
        folded = analysis.query_terms(word, stem=False)
        if folded and not all(t in fallback.STOP_WORDS for t in folded):
            out.update(analysis.query_terms(word))
    return out


def _whole(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadQuery(f"{name} must be a whole number (int), got {value!r}")
    return value


def _check_page(limit: object, page: object) -> None:
    """BadQuery unless *limit* is an int in 1..MAX_LIMIT and *page* an int from 1."""
    if not 1 <= _whole("limit", limit) <= MAX_LIMIT:
        raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if _whole("page", page) < 1:
        raise BadQuery(f"page must be 1 or more, got {page}")


def _past_the_end(page: int, limit: int, total: int, hits: Sequence[Hit]) -> Tuple[str, ...]:
    """The warning for a page with no hits although the search has matches."""
    if hits or page == 1 or total == 0:
        return ()
    if page * limit > MAX_DEPTH and (page - 1) * limit < total:
        return (f"page {page:,} is deeper than the first {MAX_DEPTH:,} results a page can show: "
                f"narrow the query or export the matches",)
    last = -(-total // limit)
    return (f"page {page:,} is past the end: {total:,} results make {last:,} page{'s' if last != 1 else ''}",)


def _moment(name: str, value: object, *, now: Optional[datetime] = None, end: bool = False) -> Optional[datetime]:
    """A search time bound from a datetime, a date or date text ("2008-01-01", "yesterday").

    A date (or a bare day as text) starts at its midnight UTC; as an *end* it covers the
    whole day. Anything else is a BadQuery naming the argument.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, date):
        value = value.isoformat()
    if isinstance(value, str):
        try:
            start, stop = date_span(clean_text(value, keep_lines=False), now=now)
        except BadInput as exc:
            raise BadQuery(f"{name}={value!r}: {exc}") from None
        return stop if end else start
    raise BadQuery(f"{name} must be a datetime, a date or date text, not {type(value).__name__}")


def _lang(value: object) -> Optional[str]:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadQuery(f"lang must be text (str), not {type(value).__name__}")
    return clean_text(value, keep_lines=False)


def _names(value: Union[str, Sequence[str], None]) -> Tuple[str, ...]:
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, (list, tuple, set, frozenset)) or not all(isinstance(n, str) for n in names):
        raise BadQuery(f"source and domain filters are text (str) or a list of text, not {value!r:.60}")
    return tuple(clean_text(n, keep_lines=False) for n in names)


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


def _hit(r: StoredArticle, score: float, rank: int, terms: Set[str], dup_ids: Tuple[str, ...]) -> Hit:
    plain, marked = make_snippets(r.body or r.title, terms, lang=r.lang)
    return Hit(
        id=r.id, title=r.title, source=r.source, published=r.published, url=r.url, lang=r.lang, author=r.author,
        score=score, snippet=plain, rank=rank, snippet_html=marked, duplicates=len(dup_ids), duplicate_ids=dup_ids,
    )


def _has_searchable(node: Node) -> bool:
    """True when some positive part of the query has a term, an exact-field value or a date."""
    if isinstance(node, DateRange):
        return True
    if isinstance(node, (Prefix, Fuzzy)):
        return bool(analysis.query_terms(node.text, stem=False))
    if isinstance(node, (Word, Phrase)):
        if node.field == "url":
            return any(ch.isalnum() for ch in node.text)
        if node.field == "author":
            return bool(author_words(node.text))
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
