"""The Whoosh wing: the only module that imports whoosh.

Schema, the analyzer adapter, query-tree compilation, writer and searcher
lifecycle. Whoosh objects never leave this module: hits are copied into
:class:`~newssearch.model.Hit` before the searcher is released.

Security note: a Whoosh index stores its segment list with pickle, so opening an
index directory unpickles data from it. Only open indexes you built yourself.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import zlib
from itertools import groupby
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple
from urllib.parse import urlsplit

from array import array
from pickle import dumps as _pickle_dumps

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import collectors, scoring, sorting, writing
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3PostingsWriter
from whoosh.system import pack_uint
from whoosh.util.numeric import length_to_byte

from .. import analysis
from .._testhooks import checkpoint
from ..errors import IndexLocked, IndexNotFound, RebuildNeeded
from ..model import Article, Hit
from ..query import And, Node, Not, Or, Phrase, Word

__all__ = ["WhooshEngine", "FORMAT_VERSION", "TITLE_BOOST", "SearchSpec"]

FORMAT_VERSION = 1
"""Bump when the schema changes; together with ANALYSIS_VERSION it guards old indexes."""

TITLE_BOOST = 2.0
"""A title match weighs this many body matches (BM25F field weight)."""

MAX_SEGMENTS = 16
"""More segments than this after a write are merged (small ones first)."""

CHUNK_DOCS = 25_000
"""Articles held in memory before they are written as segments (bounds peak memory)."""

PARALLEL_MIN_DOCS = 1_000
"""Below this many articles a write stays on one core (a second process costs ~0.3 s)."""

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
        for term, pos, start, end in analysis.analyze(value):
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


_SINGLE_POSITION: Dict[int, bytes] = {}


def _encode_positions(poslist: List[int], _single: Dict[int, bytes] = _SINGLE_POSITION) -> bytes:
    """Whoosh's Positions value (count + pickled position deltas), byte for byte.

    Most postings hold one position, so those values are made once and shared: it saves
    the work and, above all, the memory of one bytes object per posting.
    """
    if len(poslist) == 1:
        pos = poslist[0]
        value = _single.get(pos)
        if value is None:
            value = _single[pos] = pack_uint(1) + _pickle_dumps([pos], 2)
        return value
    deltas = [poslist[0]]
    deltas += [b - a for a, b in zip(poslist, poslist[1:])]
    return pack_uint(len(deltas)) + _pickle_dumps(deltas, 2)


_MIN_COMPRESS = 256
"""Posting blocks smaller than this many bytes are stored uncompressed."""


class NewsPostingsWriter(W3PostingsWriter):
    """Whoosh 3's postings writer, but tiny blocks are not zlib-compressed.

    Whoosh meant to skip compressing blocks under 20 bytes but overwrites the decision
    (whoosh3.py ``_write_block``); most terms in news have one or two postings, and
    setting up zlib for each cost more than all the rest of writing them. Readers take
    the compression level from each block's header, so both kinds read back alike.
    """

    def _write_block(self, last=False):
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        databytes = _pickle_dumps((self._mini_ids(), self._mini_weights(), self._mini_values()), 2)
        comp = self._compression if len(databytes) >= _MIN_COMPRESS else 0
        if comp:
            databytes = zlib.compress(databytes, comp)
        ids = self._ids
        infobytes = _pickle_dumps(
            (
                len(ids),
                ids[-1],
                self._maxweight,
                comp,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            ),
            2,
        )
        blocklength = len(infobytes) + len(databytes)
        postfile = self._postfile
        postfile.write_int(-blocklength if last else blocklength)
        postfile.write(infobytes)
        postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


class NewsCodec(W3Codec):
    """Whoosh's default codec with :class:`NewsPostingsWriter`; reads exactly as W3Codec.

    Module-level because Whoosh pickles the codec into each segment's record.
    """

    def postings_writer(self, dbfile, byteids=False):
        return NewsPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


class FastSegmentWriter(writing.SegmentWriter):
    """A Whoosh SegmentWriter that keeps postings in memory, per term, instead of
    sending each posting through Whoosh's pool, sorter and per-posting codec calls.

    Whoosh spends most of its indexing time per posting (pool add, pickling each
    position list, sorting, ``add_posting`` and a column read for every posting's
    document length). Here a document's text fields are analysed once into
    term -> positions, appended to per-term arrays, and at commit every term's
    postings are written a block at a time, with document lengths taken from memory.
    The segment it writes is an ordinary Whoosh segment (same codec, same formats), so
    Whoosh reads, merges and searches it as usual.

    It never merges segments while committing (merging goes through Whoosh's pool);
    :meth:`WhooshEngine.upsert` merges small segments with a plain writer when they pile up.
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        # field -> term (str for analysed text, bytes otherwise) -> [docnums, freqs, values]
        self._post: Dict[str, Dict[object, list]] = {}
        # field -> weight multiplier (the format's field boost)
        self._boost: Dict[str, float] = {}
        # field -> document lengths (tokens), indexed by docnum - docbase
        self._lengths: Dict[str, array] = {}

    def _posting_table(self, fieldname: str, field) -> Dict[object, list]:
        table = self._post.get(fieldname)
        if table is None:
            table = self._post[fieldname] = {}
            self._boost[fieldname] = field.format.field_boost
            self._lengths[fieldname] = array("I")
        return table

    def add_document(self, **fields):
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        rel = docnum - self.docbase
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    table = self._posting_table(fieldname, field)
                    if isinstance(field.analyzer, NewsTokenizer):
                        length = self._index_text(table, value, docnum)
                    else:
                        for tbytes, freq, _weight, vbytes in field.index(value):
                            entry = table.get(tbytes)
                            if entry is None:
                                entry = table[tbytes] = [array("I"), array("I"), []]
                            entry[0].append(docnum)
                            entry[1].append(freq)
                            entry[2].append(vbytes or b"")
                            if field.scorable:
                                length += freq
                    lengths = self._lengths[fieldname]
                    while len(lengths) < rel:
                        lengths.append(0)
                    lengths.append(length)
                perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    @staticmethod
    def _index_text(table: Dict[object, list], value: str, docnum: int) -> int:
        terms = analysis.index_terms(value)
        # group positions by term with a C-level sort instead of a Python loop per token
        # (the sort is stable, so each term's positions stay in order)
        order = sorted(range(len(terms)), key=terms.__getitem__)
        single = _SINGLE_POSITION
        for term, group in groupby(order, terms.__getitem__):
            poslist = list(group)
            entry = table.get(term)
            if entry is None:
                entry = table[term] = [array("I"), array("I"), []]
            entry[0].append(docnum)
            n = len(poslist)
            entry[1].append(n)
            # inline fast path of _encode_positions for the commonest case
            value = single.get(poslist[0]) if n == 1 else None
            entry[2].append(value if value is not None else _encode_positions(poslist))
        return len(terms)

    def add_reader(self, reader):  # pragma: no cover - merging is done by a plain writer
        raise NotImplementedError("FastSegmentWriter does not merge; use a plain Whoosh writer")

    def commit(self, mergetype=None, optimize=None, merge=None):
        # never merge here: Whoosh merges by feeding other segments through its pool
        return super().commit(mergetype=writing.NO_MERGE)

    def commit_with(self, extra_segments: Sequence[object] = ()) -> None:
        """Commit this writer's segment plus segments written by other processes."""
        self._check_state()
        final = list(self.segments) + list(extra_segments)
        if self._added:
            final.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(final)
        self._finish()

    def _flush_segment(self):
        self.perdocwriter.close()
        fw = self.fieldwriter
        doccount = self.docnum - self.docbase
        for fieldname in sorted(self._post):
            field = self.schema[fieldname]
            boost = self._boost[fieldname]
            lengths = self._lengths[fieldname]
            lengths.extend([0] * (doccount - len(lengths)))
            base = self.docbase
            table = self._post[fieldname]
            keys = sorted(table)  # str sorts as its UTF-8 bytes do
            fw.start_field(fieldname, field)
            pw = fw._postwriter
            limit = pw._blocklimit
            for key in keys:
                docs, freqs, values = table[key]
                fw.start_term(key.encode("utf-8") if isinstance(key, str) else key)
                n = len(docs)
                for start in range(0, n, limit):
                    if start:
                        pw._write_block()  # writes the previous block and starts a new one
                    ids = docs[start : start + limit]
                    fr = freqs[start : start + limit]
                    pw._ids = ids
                    pw._weights = array("f", [f * boost for f in fr]) if boost != 1.0 else array("f", fr)
                    pw._maxweight = max(pw._weights)
                    vals = values[start : start + limit]
                    pw._values = vals if any(vals) else []
                    if field.scorable:
                        lens = [lengths[d - base] for d in ids]
                        pw._minlength = min(lens) or None
                        pw._maxlength = max(lens)
                fw.finish_term()
            fw.finish_field()
        self._post.clear()
        fw.close()


def _write_segment(index_dir: str, docs: List[Dict[str, object]]):
    """Write *docs* as one new segment of the index in *index_dir*; return the segment.

    The caller holds the index lock and puts the segment in the table of contents.
    """
    ix = whoosh_index.open_dir(index_dir, indexname=_INDEX_NAME, schema=build_schema())
    writer = FastSegmentWriter(ix, codec=NewsCodec(), _lk=False)
    for fields in docs:
        writer.add_document(**fields)
    segment = writer._finalize_segment()
    # not writer._finish(): that deletes the temporary directory the parent's writer
    # shares with us; the parent removes it when it commits
    writer.is_closed = True
    return segment


def _segment_worker() -> None:
    """Entry point of the helper process: (index_dir, docs) pickled on stdin, the
    segment pickled on stdout. Only ever fed by :class:`_SegmentJob` of this library."""
    import pickle
    import sys

    index_dir, docs = pickle.load(sys.stdin.buffer)
    segment = _write_segment(index_dir, docs)
    sys.stdout.buffer.write(pickle.dumps(segment, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


class _SegmentJob:
    """Write part of a batch as its own segment in a second Python process.

    A plain subprocess, not multiprocessing: multiprocessing's spawn/forkserver re-run
    the caller's main module (breaking scripts without a ``__main__`` guard) and fork
    is unsafe in threaded callers. If the helper cannot run, its documents are written
    in this process instead, so the result is the same either way, only slower.
    """

    def __init__(self, index_dir: str, docs: List[Dict[str, object]]) -> None:
        import pickle
        import subprocess
        import sys

        self.index_dir, self.docs = index_dir, docs
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        try:
            self.proc: Optional[subprocess.Popen] = subprocess.Popen(
                [sys.executable, "-c", "from newssearch.engine.whoosh import _segment_worker; _segment_worker()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            # the helper reads everything before it starts, so this returns promptly
            assert self.proc.stdin is not None
            self.proc.stdin.write(pickle.dumps((index_dir, docs), protocol=pickle.HIGHEST_PROTOCOL))
            self.proc.stdin.close()
        except (OSError, ValueError):
            self.proc = None

    def result(self):
        import pickle

        if self.proc is not None:
            assert self.proc.stdout is not None
            out = self.proc.stdout.read()
            if self.proc.wait() == 0 and out:
                return pickle.loads(out)  # our own helper's output, never outside data
        return _write_segment(self.index_dir, self.docs)


def _balanced_split(docs: List[Dict[str, object]]) -> int:
    """Index that splits *docs* into two halves of about equal text."""
    sizes = [len(d.get("body") or "") + len(d.get("title") or "") for d in docs]
    half, running = sum(sizes) / 2, 0
    for i, size in enumerate(sizes):
        running += size
        if running >= half:
            return max(1, i)
    return len(docs) // 2


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


def _tie_key(sort: str):
    """Sort key for (stored fields, score): the requested order, then date, then id."""

    def when(stored: dict) -> float:
        dt = stored.get("published")
        return dt.timestamp() if dt is not None else float("-inf")

    if sort == "relevance":
        return lambda g: (-g[1], -when(g[0]), g[0]["id"])
    if sort == "newest":
        return lambda g: (-when(g[0]), g[0]["id"])
    return lambda g: (g[0].get("published") is None, when(g[0]), g[0]["id"])


SEARCH_BUDGET_SECONDS = 0.2
"""Matching stops after this long (a phrase of very common words can take seconds);
the hits found so far are ranked and a warning says the result is partial."""


def _has_phrase(q: wq.Query) -> bool:
    return isinstance(q, wq.Phrase) or any(_has_phrase(c) for c in q.children())


class _BudgetCollector(collectors.WrappingCollector):
    """Stops collecting once the time budget is spent; no threads, no signals.

    Whoosh's TimeLimitCollector uses a timer thread and SIGALRM, which a library must
    not take over from the application; checking the clock every few matches is enough.
    """

    def __init__(self, child, seconds: float) -> None:
        super().__init__(child)
        self.seconds = seconds
        self.cut = False
        self.deadline = 0.0

    def prepare(self, top_searcher, q, context):
        super().prepare(top_searcher, q, context)
        self.deadline = time.monotonic() + self.seconds

    def collect_matches(self):
        if self.cut:
            return
        child = self.child
        for n, sub_docnum in enumerate(child.matches()):
            child.collect(sub_docnum)
            if not n % 32 and time.monotonic() > self.deadline:
                self.cut = True
                return

    def all_ids(self):  # pragma: no cover - not used for counting here
        return self.child.all_ids()

    def count(self):
        return self.child.count()

    def results(self):
        return self.child.results()


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
        self.dirty = False
        """True once this engine committed a change (NewsIndex skips publishing otherwise)."""
        self.last_search_cut = False
        """True when the last search ran out of its time budget (its hits are partial)."""
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
        # one searcher for the engine's life: a published generation never changes
        # (NewsIndex writes into a new generation directory and reopens)
        if self._searcher is None:
            self._searcher = self._ix.searcher(weighting=scoring.BM25F())
        return self._searcher

    # ------------------------------------------------------------ writing

    def upsert(self, items: Iterable[Tuple[Article, str]]) -> Tuple[int, int, int]:
        """Add or replace articles by id; returns (added, updated, unchanged).

        *items* pairs each article with a hash of its content; an article whose id is
        already stored with the same hash is left alone, and of one id given twice the
        last wins. Articles are written in chunks of :data:`CHUNK_DOCS`, each on both
        cores when there are enough of them; NewsIndex publishes the generation only
        after the last chunk, so readers never see a part.
        """
        added = updated = unchanged = 0
        seen: Dict[str, str] = {}  # every id seen in this call -> its latest content hash
        pending: Dict[str, Dict[str, object]] = {}  # id -> fields, not yet written
        replace: Set[str] = set()  # ids whose stored copy goes before pending is written
        existing = self._ix.searcher()
        try:
            for article, chash in items:
                aid = article.id
                old = seen.get(aid)
                if old is not None:
                    if old == chash:
                        unchanged += 1
                        continue
                    # every record read is counted once: a second copy with new
                    # content is an update (of the first, or of the stored one)
                    updated += 1
                    if aid not in pending:  # stored, or written in an earlier chunk
                        replace.add(aid)
                else:
                    stored = existing.document(id=aid)
                    if stored is None:
                        added += 1
                    elif stored.get("chash") == chash:
                        seen[aid] = chash
                        unchanged += 1
                        continue
                    else:
                        updated += 1
                        replace.add(aid)
                seen[aid] = chash
                pending[aid] = self._fields(article, chash)
                if len(pending) >= CHUNK_DOCS:
                    existing.close()
                    self._write(pending, replace)
                    existing = self._ix.searcher()
        finally:
            existing.close()
        if pending or replace:
            self._write(pending, replace)
        return added, updated, unchanged

    def _write(self, pending: Dict[str, Dict[str, object]], replace: Set[str]) -> None:
        """Commit *pending* as one or two new segments, deleting the *replace*d ids first."""
        docs = list(pending.values())
        writer = self._writer()
        try:
            for aid in sorted(replace):
                writer.delete_by_term("id", aid)
            extra = []
            if len(docs) >= PARALLEL_MIN_DOCS and (os.cpu_count() or 1) > 1:
                # the second core writes its own segment from the later half of the chunk
                split = _balanced_split(docs)
                job = _SegmentJob(str(self.path), docs[split:])
                for fields in docs[:split]:
                    writer.add_document(**fields)
                extra.append(job.result())
            else:
                for fields in docs:
                    writer.add_document(**fields)
            checkpoint("committing")
            writer.commit_with(extra)
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
        pending.clear()
        replace.clear()
        self._committed()

    def _committed(self) -> None:
        self.dirty = True
        if len(self._ix._segments()) > MAX_SEGMENTS:
            # incremental writes add a segment each; fold the small ones together with
            # Whoosh's own merge (a plain writer) so queries do not fan out over many
            try:
                writing.SegmentWriter(self._ix).commit(mergetype=writing.MERGE_SMALL)
                if len(self._ix._segments()) > MAX_SEGMENTS:
                    writing.SegmentWriter(self._ix).commit(mergetype=writing.OPTIMIZE)
            except LockError as exc:  # pragma: no cover - we hold the root lock
                raise IndexLocked(f"index {self.path} is being written by another process") from exc
        if self._searcher is not None:  # it saw the index before this commit
            self._searcher.close()
            self._searcher = None

    def _writer(self):
        try:
            return FastSegmentWriter(self._ix, codec=NewsCodec())
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

    def delete(
        self,
        *,
        ids: Optional[Sequence[str]] = None,
        sources: Optional[Sequence[str]] = None,
        before: Optional[datetime] = None,
    ) -> int:
        """Delete the articles matching every criterion given; returns how many."""
        parts: List[wq.Query] = []
        if ids is not None:
            parts.append(wq.Or([wq.Term("id", i) for i in ids]) if ids else wq.NullQuery)
        if sources:
            parts.append(wq.Or([wq.Term("source_key", s.casefold()) for s in sources]))
        if before is not None:
            # an undated article is never "older than": it has no published term to match
            parts.append(wq.DateRange("published", None, _naive_utc(before), endexcl=True))
        if not parts:
            return 0
        writer = self._writer()
        try:
            count = writer.delete_by_query(wq.And(parts) if len(parts) > 1 else parts[0])
        except BaseException:
            writer.cancel()
            raise
        if count:
            writer.commit()
            self._committed()
        else:
            writer.cancel()
        return count

    @staticmethod
    def clone(src: Path, dst: Path) -> None:
        """Make *dst* a copy of the index in *src*, by hard links where the filesystem allows.

        Safe because Whoosh never rewrites a file it has written: a commit adds new
        segment files and a new TOC, and deletions live in the TOC. So a writer on the
        copy can never change what readers of *src* see.
        """
        for f in src.iterdir():
            if not f.is_file() or "LOCK" in f.name.upper() or f.name == "generation.json":
                continue
            try:
                os.link(f, dst / f.name)
            except OSError:
                shutil.copy2(f, dst / f.name)

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
        q = self.compile(tree)
        filters = self._filters(spec)
        if filters:
            q = wq.And([q] + filters)
        searcher = self._get_searcher()
        wanted = spec.offset + spec.limit
        # only position checks (phrases) can run away; other queries are always exact
        budget = SEARCH_BUDGET_SECONDS if _has_phrase(q) else None
        ranked, total, cut = self._ranked(searcher, q, spec.sort, wanted, budget)
        self.last_search_cut = cut
        hits: List[RawHit] = []
        for rank, (stored, score) in enumerate(ranked[spec.offset : wanted], start=spec.offset + 1):
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
                    score=score,
                    rank=rank,
                )
            )
        return total, hits

    @staticmethod
    def _ranked(
        searcher, q: wq.Query, sort: str, wanted: int, budget: Optional[float]
    ) -> Tuple[List[Tuple[dict, float]], int, bool]:
        """The first *wanted* hits in a repeatable order, and the exact number of matches.

        Relevance uses Whoosh's top-k collector (it skips posting blocks that cannot
        reach the top, which a sorted collector cannot); date sorts read the date column.
        Either way ties are broken here — date (newest first), then id — fetching more
        while the last place is tied, so the order never depends on segment layout.
        """
        fetch = wanted + 1  # one past the page: enough to see whether its last place is tied
        cut = False
        while True:
            if sort == "relevance":
                # optimize=False: score every match in one pass and count it on the way;
                # Whoosh's block skipping would need a second pass for the exact total
                # usequality=False and replace=0: no block skipping and no swapping in
                # matchers that drop documents unable to reach the top, so every match
                # is counted (Whoosh's replace() otherwise loses some from the total)
                collector = collectors.TopCollector(limit=fetch, usequality=False, replace=0)
                timed = _BudgetCollector(collector, budget) if budget else collector
                searcher.search_with_collector(q, timed)
                results = collector.results()
                got = [(hit.fields(), float(hit.score or 0.0)) for hit in results]
                total = collector.count()
                cut = bool(budget) and timed.cut
            elif sort == "newest":  # undated articles have the lowest column value: last
                results = searcher.search(q, limit=fetch, sortedby="published", reverse=True)
                got = [(hit.fields(), 0.0) for hit in results]
                total = len(results)
            else:  # oldest: the dated ones first, then the undated
                dated = wq.DateRange("published", None, None)
                results = searcher.search(wq.And([q, dated]), limit=fetch, sortedby="published")
                got = [(hit.fields(), 0.0) for hit in results]
                undated = searcher.search(wq.AndNot(q, dated), limit=max(1, fetch - len(got)))
                if len(got) < fetch:
                    got += [(hit.fields(), 0.0) for hit in undated][: fetch - len(got)]
                total = len(results) + len(undated)
            primary = (lambda g: g[1]) if sort == "relevance" else (lambda g: g[0].get("published"))
            if cut or not (len(got) == fetch and primary(got[wanted - 1]) == primary(got[-1])):
                break
            fetch *= 2  # the last place is tied with everything fetched: look further
        got.sort(key=_tie_key(sort))
        return got, total, cut

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

    def compile(self, node: Node) -> wq.Query:
        """Compile an engine-free query tree to a Whoosh query (NullQuery if nothing is searchable)."""
        compiled = self._compile(node)
        return compiled if compiled is not None else wq.NullQuery

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
        terms = analysis.query_terms(text)
        if not terms:
            return None
        fields = (field,) if field else ("title", "body")
        if len(terms) == 1:
            parts = [wq.Term(f, terms[0]) for f in fields]
        else:
            # Whoosh's slop 1 means adjacent; ours 0 does
            parts = [wq.Phrase(f, terms, slop=slop + 1) for f in fields]
        return parts[0] if len(parts) == 1 else wq.Or(parts)

    def probe(self) -> Optional[bool]:
        """Search for a word of a stored article and check the article comes back.

        None for an empty index; used to verify a new generation before switching to it.
        """
        searcher = self._get_searcher()
        reader = searcher.reader()
        for n, docnum in enumerate(reader.all_doc_ids()):
            if n >= 20:
                break
            stored = reader.stored_fields(docnum)
            terms = analysis.query_terms((stored.get("title") or "") + " " + (stored.get("body") or "")[:300])
            if terms:
                q = wq.And([wq.Or([wq.Term("title", terms[0]), wq.Term("body", terms[0])]), wq.Term("id", stored["id"])])
                return len(searcher.search(q, limit=1)) == 1
        return None if searcher.doc_count() == 0 else True

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
