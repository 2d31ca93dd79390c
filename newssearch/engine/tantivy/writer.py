"""The EngineWriter of the tantivy engine: one tantivy IndexWriter, committed or rolled back.

Upserts replace by id (delete the id's term, add the new document: tantivy applies a
delete to every document added before it). What this block wrote is tracked here
(``pending``: id -> the article written; ``gone``: committed ids it deleted or
replaced), so counts, unchanged checks and deletes need no commit in between. Articles
are analysed on worker processes (:mod:`.pool`) while this process feeds tantivy.
"""
from __future__ import annotations

import gc
from datetime import datetime
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Sequence, Set

import tantivy

from ...errors import IndexLocked, NewsSearchError
from ..base import IndexDoc, UpsertCounts
from ..documents import source_key
from .plan import micros
from .pool import analysed
from .rows import FOLDER as ROWS, MAX_FILES, RowStore, RowWriter, next_row, pack_record, pack_text, record_files
from .schema import document

if TYPE_CHECKING:  # pragma: no cover
    from .engine import TantivyEngine

__all__ = ["TantivyWriter", "HEAP_BYTES"]

HEAP_BYTES = 256 << 20
"""The tantivy writer's memory budget (it flushes a segment when full)."""
WRITER_THREADS = 1
"""tantivy's indexing threads: one keeps a core for our analysis workers."""
LOOKUP = 512
"""Ids looked up at once for their stored content hash."""


class TantivyWriter:
    """A with-block over the engine's index: commit on clean exit, roll back on error."""

    def __init__(self, engine: "TantivyEngine") -> None:
        self.engine = engine
        self.changed = False
        self._w: Optional["tantivy.IndexWriter"] = None
        self.pending: Dict[str, Optional[IndexDoc]] = {}
        """Ids written in this block -> the article (None once deleted again)."""
        self.gone: Set[str] = set()
        """Committed ids this block deleted or replaced."""
        self._committed = 0
        self._replace: Set[str] = set()
        """Ids whose earlier copy (committed or from this block) an upsert must delete."""
        self._rows: Optional[RowWriter] = None
        """This block's records (:mod:`.rows`), started by the first article written."""

    def __enter__(self) -> "TantivyWriter":
        try:
            self._w = self.engine.index.writer(HEAP_BYTES, WRITER_THREADS)
        except (ValueError, OSError) as exc:
            if "lock" in str(exc).lower():
                raise IndexLocked(f"index {self.engine.where} is being written by another process") from exc
            raise NewsSearchError(f"cannot write the tantivy index at {self.engine.where}: {exc}") from exc
        self._committed = self.engine.searcher().doc_count()
        return self

    def __exit__(self, exc_type, *rest) -> None:  # noqa: ANN001
        w, self._w = self._w, None
        if w is None:
            return
        rows, self._rows = self._rows, None
        if exc_type is None and self.changed:
            try:
                if rows is not None:
                    rows.commit()  # the records first: a committed article always has its record
                w.commit()
                w.wait_merging_threads()
            except BaseException:
                if rows is not None:
                    rows.abort()
                raise
            self.engine.committed()
            self._fold()
            return
        self.changed = False
        if rows is not None:
            rows.abort()
        w.rollback()
        w.wait_merging_threads()

    def _fold(self) -> None:
        """Past MAX_FILES record files, write the live articles' records as one file (rows
        keep their numbers; a deleted article's row is left empty) and drop the others.
        Only this location's names change: a generation cloned before keeps its files."""
        folder = self.engine.where / ROWS
        if len(record_files(folder)) <= MAX_FILES:
            return
        store = RowStore(folder)
        live = set(self.engine.searcher().all_rows())
        out = RowWriter(folder, store.starts[0])
        try:
            for row in range(store.starts[0], store.end):
                rec = store.record(row) if row in live else None
                if rec is None:
                    out.skip()
                else:
                    out.add(rec)
            out.commit()  # replaces the first file (same name): the others are now covered
        except BaseException:
            out.abort()
            raise
        for f in store.files[1:]:
            f.path.unlink(missing_ok=True)
        self.engine.committed()

    @property
    def w(self) -> "tantivy.IndexWriter":
        if self._w is None:
            raise NewsSearchError("the tantivy writer is used outside its with-block")
        return self._w

    def _known_hashes(self, ids: List[str]) -> Dict[str, str]:
        """Content hashes of committed articles among *ids* (none deleted in this block)."""
        if not self._committed:
            return {}
        s = self.engine.searcher()
        out: Dict[str, str] = {}
        for start in range(0, len(ids), LOOKUP):
            for aid, meta in s.metas(ids[start : start + LOOKUP]).items():
                out[aid] = str(meta.get("chash"))
        return out

    def upsert(self, docs: Iterable[IndexDoc]) -> UpsertCounts:
        added = updated = unchanged = 0
        w = self.w
        batch: List[IndexDoc] = []

        def check(batch: List[IndexDoc]) -> Iterable[IndexDoc]:
            """The articles of *batch* to write (an unchanged one is counted and skipped)."""
            nonlocal added, updated, unchanged
            fresh = sorted({d.id for d in batch if d.id not in self.pending and d.id not in self.gone})
            known = self._known_hashes(fresh)
            for d in batch:
                if d.id in self.pending:
                    prev = self.pending[d.id]
                    old = prev.chash if prev is not None else None
                    existed = prev is not None
                elif d.id in self.gone:
                    old, existed = None, False
                else:
                    old = known.get(d.id)
                    existed = old is not None
                if old == d.chash:
                    unchanged += 1
                    continue
                if existed:
                    updated += 1
                else:
                    added += 1
                if d.id in known:
                    self.gone.add(d.id)
                if existed or d.id in self.pending or d.id in self.gone:
                    self._replace.add(d.id)
                self.pending[d.id] = d
                yield d

        def chunked() -> Iterable[IndexDoc]:
            for d in docs:
                batch.append(d)
                if len(batch) >= LOOKUP:
                    yield from check(batch)
                    batch.clear()
            yield from check(batch)

        # no cyclic garbage collection while the batch streams through (as the Whoosh
        # engine's writer): the articles kept in `pending` make each collection rescan a
        # growing heap for no garbage (~1.2 s of this process's CPU at 50k articles);
        # reference counting still frees everything else
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for doc, done in analysed(chunked()):
                if doc.id in self._replace:  # an earlier copy, committed or from this block
                    w.delete_documents_by_term("id", doc.id)
                if self._rows is None:
                    self._rows = RowWriter(self.engine.where / ROWS, next_row(self.engine.where / ROWS))
                # the text is packed here, where the article is: a worker sending it back costs more
                row = self._rows.add(pack_record(doc.id, done.meta, done.tfs, pack_text(doc.title, doc.body)))
                w.add_document(document(doc, done, row))
                self.changed = True
        finally:
            if was_enabled:
                gc.enable()
        return UpsertCounts(added, updated, unchanged)

    def delete(self, *, ids: Optional[Sequence[str]] = None, sources: Sequence[str] = (),
               before: Optional[datetime] = None) -> int:
        if ids is None and not sources and before is None:
            return 0
        if ids is not None and not ids:
            return 0
        keys = {source_key(s) for s in sources}
        cutoff = micros(before) if before is not None else None
        doomed: Set[str] = set()
        # what the committed index holds...
        for aid in self.engine.searcher().ids_matching(ids=ids, source_keys=sorted(keys), before=cutoff):
            if aid not in self.gone and aid not in self.pending:
                doomed.add(aid)
                self.gone.add(aid)
        # ...and what this block wrote
        wanted = set(ids) if ids is not None else None
        for aid, d in list(self.pending.items()):
            if d is None or (wanted is not None and aid not in wanted):
                continue
            if keys and d.source_key not in keys:
                continue
            if cutoff is not None and (d.published is None or micros(d.published) >= cutoff):
                continue
            doomed.add(aid)
            self.pending[aid] = None
        for aid in sorted(doomed):
            self.w.delete_documents_by_term("id", aid)
        self.changed = self.changed or bool(doomed)
        return len(doomed)

    def doc_count(self) -> int:
        live_pending = sum(1 for d in self.pending.values() if d is not None)
        return self._committed - len(self.gone) + live_pending
