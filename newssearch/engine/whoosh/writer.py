"""Writing a Whoosh index: chunked upserts on two cores, deletes, merges, and the
:class:`~newssearch.engine.base.EngineWriter` with-block that commits or cancels them."""
from __future__ import annotations

import contextlib
import gc
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from whoosh import query as wq
from whoosh import writing
from whoosh.index import LockError

from ..._testhooks import checkpoint
from ...errors import IndexLocked
from ..base import IndexDoc, UpsertCounts
from ..documents import source_key
from .codec import NewsCodec
from .parallel import SegmentJob
from .schema import naive_utc, whoosh_fields
from .segwriter import FastSegmentWriter

if TYPE_CHECKING:  # pragma: no cover
    from .engine import WhooshEngine

_KEPT = ".before-write"
"""Where a writer keeps links to the files of the state before it, until it ends."""

MAX_SEGMENTS = 16
"""More segments than this after a write are merged (small ones first)."""

CHUNK_DOCS = 25_000
"""Articles held in memory before they are written as segments (bounds peak memory)."""

PARALLEL_MIN_DOCS = 1_000
"""Below this many articles a write stays on one core (a second process costs ~0.3 s)."""


def segment_writer(ix, path: Path) -> FastSegmentWriter:  # noqa: ANN001 - whoosh index
    try:
        return FastSegmentWriter(ix, codec=NewsCodec())
    except LockError as exc:
        raise IndexLocked(f"index {path} is being written by another process") from exc


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the duration (restored after, if it was on).

    While a batch is indexed the heap grows by hundreds of thousands of long-lived
    containers (per-term posting lists) and each full collection rescans them all, for
    no garbage: ~8% of indexing time. Reference counting still frees everything else.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()



HELPER_SHARE = 0.55
"""Share of a parallel batch's text the helper process writes: this process also reads,
parses and hashes every input record, so it takes a little less of the indexing."""


class _Batch:
    """The documents of one chunk on their way into segments: ours and the helper's.

    The first :data:`PARALLEL_MIN_DOCS` documents are held; past that a helper process
    starts and every document goes at once to this process's writer or to the helper
    (by text size, :data:`HELPER_SHARE`). A later copy of an id in the same chunk
    supersedes the earlier one, which is deleted from its new segment at commit.
    """

    def __init__(self, ix, path: Path) -> None:  # noqa: ANN001 - whoosh index
        self.ix = ix
        self.path = path
        self.held: Dict[str, Dict[str, object]] = {}
        self.writer: Optional[FastSegmentWriter] = None
        self.job: Optional[SegmentJob] = None
        self.placed: Dict[str, Tuple[int, int]] = {}  # id -> (0 here / 1 helper, docnum)
        self.superseded: Tuple[List[int], List[int]] = ([], [])
        self.text = [0, 0]  # characters of title+body written here / by the helper

    def __len__(self) -> int:
        return len(self.held) + len(self.placed)

    def __contains__(self, aid: str) -> bool:
        return aid in self.held or aid in self.placed

    def add(self, aid: str, fields: Dict[str, object]) -> None:
        if self.job is None:
            self.held[aid] = fields
            if len(self.held) >= PARALLEL_MIN_DOCS and (os.cpu_count() or 1) > 1:
                self._start_parallel()
            return
        self._place(aid, fields)

    def _start_parallel(self) -> None:
        self.writer = segment_writer(self.ix, self.path)
        self.job = SegmentJob(str(self.path))
        held, self.held = self.held, {}
        for aid, fields in held.items():
            self._place(aid, fields)

    def _place(self, aid: str, fields: Dict[str, object]) -> None:
        old = self.placed.get(aid)
        if old is not None:
            self.superseded[old[0]].append(old[1])
        size = len(fields.get("title") or "") + len(fields.get("body") or "")  # type: ignore[arg-type]
        ours, theirs = self.text
        if theirs * (1 - HELPER_SHARE) <= ours * HELPER_SHARE:
            assert self.job is not None
            self.placed[aid] = (1, self.job.add(fields))
            self.text[1] += size
        else:
            writer = self.writer
            assert writer is not None
            self.placed[aid] = (0, writer.docnum - writer.docbase)
            writer.add_document(**fields)
            self.text[0] += size

    def commit(self, replace: Set[str]) -> None:
        """Write everything, delete the *replace*d ids from older segments, commit."""
        writer = self.writer or segment_writer(self.ix, self.path)
        self.writer = None
        job = self.job
        try:
            for aid in sorted(replace):
                writer.delete_by_term("id", aid)
            for fields in self.held.values():
                writer.add_document(**fields)
            if job is not None:
                job.close_input()  # the helper writes its segment while we write ours

            def extra() -> Sequence[object]:
                if job is None:
                    return ()
                segment = job.result()
                for rel in self.superseded[1]:
                    segment.delete_document(rel)
                return [segment]

            checkpoint("committing")
            writer.commit_with(extra, self.superseded[0])
        except BaseException:
            if job is not None:
                job.cancel()
            if not writer.is_closed:
                writer.cancel()
            raise

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
        if self.writer is not None and not self.writer.is_closed:
            self.writer.cancel()



class WhooshWriter:
    """The with-block of :meth:`WhooshEngine.writer`.

    Upserts are written chunk by chunk (CHUNK_DOCS articles each) straight into the
    engine's directory; nobody reads it meanwhile (NewsIndex publishes a generation only
    after the block). A clean exit keeps them; an exception cancels: every file the block
    wrote is deleted, which restores the index as it was (Whoosh never rewrites a file,
    a commit only adds segment files and a newer table of contents).
    """

    def __init__(self, engine: "WhooshEngine") -> None:
        self.engine = engine
        self.changed = False
        self._kept: Optional[Path] = None

    def __enter__(self) -> "WhooshWriter":
        # a commit makes Whoosh delete the files the previous state needs (its table of
        # contents, merged segments): hard links to them keep them for a cancel
        where = self.engine.where
        kept = where / _KEPT
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir()
        for p in where.iterdir():
            if p.is_file() and "LOCK" not in p.name.upper():
                try:
                    os.link(p, kept / p.name)
                except OSError:
                    shutil.copy2(p, kept / p.name)
        self._kept = kept
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        try:
            if exc_type is not None:
                self.cancel()
        finally:
            if self._kept is not None:
                shutil.rmtree(self._kept, ignore_errors=True)
                self._kept = None

    def cancel(self) -> None:
        """Undo this block: delete the files it wrote and bring back those it replaced."""
        kept = self._kept
        if kept is None:
            return
        where = self.engine.where
        before = {p.name for p in kept.iterdir()}
        for p in where.iterdir():
            if p.is_file() and p.name not in before and "LOCK" not in p.name.upper():
                p.unlink()
        for name in before:
            if not (where / name).exists():
                os.link(kept / name, where / name)
        self.changed = False
        self.engine.reset()

    # ------------------------------------------------------------ upsert

    def upsert(self, docs: Iterable[IndexDoc]) -> UpsertCounts:
        """Add or replace articles by id (see :meth:`EngineWriter.upsert`).

        An article whose id is stored with the same content hash is left alone; of one
        id given twice the last wins. Written in chunks of :data:`CHUNK_DOCS`, each on
        both cores when there are enough of them.
        """
        with gc_paused():
            return UpsertCounts(*self._upsert(docs))

    def _upsert(self, docs: Iterable[IndexDoc]) -> Tuple[int, int, int]:
        ix, path = self.engine.ix, self.engine.where
        added = updated = unchanged = 0
        seen: Dict[str, str] = {}  # every id seen in this call -> its latest content hash
        batch = _Batch(ix, path)  # id -> fields, on their way into this chunk's segments
        replace: Set[str] = set()  # ids whose stored copy goes when the chunk is committed
        existing = ix.searcher()
        try:
            for doc in docs:
                aid, chash = doc.id, doc.chash
                old = seen.get(aid)
                if old is not None:
                    if old == chash:
                        unchanged += 1
                        continue
                    # every record read is counted once: a second copy with new
                    # content is an update (of the first, or of the stored one)
                    updated += 1
                    if aid not in batch:  # stored, or written in an earlier chunk
                        replace.add(aid)
                else:
                    # most ids are new (always, in a rebuild): a term lookup says so without a search
                    stored = existing.document(id=aid) if ("id", aid) in existing.reader() else None
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
                batch.add(aid, whoosh_fields(doc))
                if len(batch) >= CHUNK_DOCS:
                    existing.close()
                    self._write(batch, replace)
                    batch = _Batch(ix, path)
                    existing = ix.searcher()
        except BaseException:
            batch.cancel()
            raise
        finally:
            existing.close()
        if len(batch) or replace:
            self._write(batch, replace)
        return added, updated, unchanged

    def _write(self, batch: _Batch, replace: Set[str]) -> None:
        """Commit *batch* as one or two new segments, deleting the *replace*d ids."""
        batch.commit(replace)
        replace.clear()
        # the collector is paused while indexing (gc_paused): a chunk's writer, segment and
        # posting tables hold reference cycles, so without this every chunk stayed in
        # memory (peak RSS grew ~170 MB a chunk: 1.4 GB at 120k articles)
        gc.collect()
        self._committed()

    def _committed(self) -> None:
        self.changed = True
        ix = self.engine.ix
        if len(ix._segments()) > MAX_SEGMENTS:
            # incremental writes add a segment each; fold the small ones together with
            # Whoosh's own merge (a plain writer) so queries do not fan out over many
            try:
                writing.SegmentWriter(ix, codec=NewsCodec()).commit(mergetype=writing.MERGE_SMALL)
                if len(ix._segments()) > MAX_SEGMENTS:
                    writing.SegmentWriter(ix, codec=NewsCodec()).commit(mergetype=writing.OPTIMIZE)
            except LockError as exc:  # pragma: no cover - we hold the root lock
                raise IndexLocked(f"index {self.engine.where} is being written by another process") from exc
        self.engine.reset()

    # ------------------------------------------------------------ delete

    def delete(
        self,
        *,
        ids: Optional[Sequence[str]] = None,
        sources: Sequence[str] = (),
        before: Optional[datetime] = None,
    ) -> int:
        """Delete the articles matching every criterion given; returns how many."""
        parts: List[wq.Query] = []
        if ids is not None:
            parts.append(wq.Or([wq.Term("id", i) for i in ids]) if ids else wq.NullQuery)
        if sources:
            parts.append(wq.Or([wq.Term("source_key", source_key(s)) for s in sources]))
        if before is not None:
            # an undated article is never "older than": it has no published term to match
            parts.append(wq.DateRange("published", None, naive_utc(before), endexcl=True))
        if not parts:
            return 0
        writer = segment_writer(self.engine.ix, self.engine.where)
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

    def doc_count(self) -> int:
        """Live articles, this block's changes included."""
        return self.engine.ix.doc_count()
