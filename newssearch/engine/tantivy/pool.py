"""Analysis on every core: chunks of articles analysed in worker processes, in order.

Indexing with tantivy spends its time in our analysis (tokens, stems, sketches), not in
tantivy: so articles go to a pool of worker processes in chunks and come back analysed,
in their order, while this process feeds the tantivy writer. A small batch stays in this
process (starting workers costs more than it saves), and so does everything when workers
cannot start.

Workers are forked where the platform allows (nothing but :func:`.schema.analyse` runs
in them: they never touch the writer), else made by ``forkserver``.
"""
from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
from typing import Iterable, Iterator, List, Optional, Tuple

from ..base import IndexDoc
from .schema import Analysed, analyse

__all__ = ["CHUNK", "PARALLEL_MIN_DOCS", "default_workers", "analysed"]

CHUNK = 512
"""Articles per task sent to a worker."""
PARALLEL_MIN_DOCS = 1_000
"""Below this many articles in a batch, analysis stays in this process."""


def default_workers() -> int:
    """Worker processes: ``NEWSSEARCH_WORKERS`` if set (0: analyse in this process), else
    one per core."""
    raw = os.environ.get("NEWSSEARCH_WORKERS", "")
    if raw.strip().isdigit():
        return int(raw)
    return max(1, os.cpu_count() or 1)


def _chunk(docs: List[IndexDoc]) -> List[Analysed]:
    return [analyse(d) for d in docs]


def _quiet_gc() -> None:
    """A worker's initializer: no cyclic garbage collection (analysis makes no cycles,
    and each collection rescans the growing term caches for nothing)."""
    gc.freeze()
    gc.disable()


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "forkserver")


class _Pool:
    """A lazily started process pool, closed by :meth:`close`."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = None
        self.failed = False

    def get(self):
        if self.pool is None and not self.failed:
            try:
                self.pool = _context().Pool(self.workers, initializer=_quiet_gc)
            except (OSError, ValueError):  # no processes here: analyse in this one
                self.failed = True
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def _chunks(it: Iterator[IndexDoc]) -> Iterator[List[IndexDoc]]:
    while True:
        chunk = list(itertools.islice(it, CHUNK))
        if not chunk:
            return
        yield chunk


def analysed(docs: Iterable[IndexDoc], workers: Optional[int] = None) -> Iterator[Tuple[IndexDoc, Analysed]]:
    """Each article with its analysis, in order; on *workers* processes once the input is big.

    The input is read lazily by the pool's feeder thread (a full pipe to the workers
    holds it back), so reading records, analysing them and writing them overlap.
    """
    workers = default_workers() if workers is None else workers
    it = iter(docs)
    head = list(itertools.islice(it, PARALLEL_MIN_DOCS))
    pool = _Pool(workers)
    p = pool.get() if workers > 0 and len(head) >= PARALLEL_MIN_DOCS else None
    if p is None:
        for d in itertools.chain(head, it):
            yield d, analyse(d)
        return
    try:
        for chunk, done in _paired(p, _chunks(itertools.chain(head, it))):
            yield from zip(chunk, done)
    finally:
        pool.close()


def _paired(p, chunks: Iterator[List[IndexDoc]]) -> Iterator[Tuple[List[IndexDoc], List[Analysed]]]:
    """(chunk, its analysis) in order; the chunks are kept here only until analysed."""
    sent: List[List[IndexDoc]] = []

    def feed() -> Iterator[List[IndexDoc]]:
        for chunk in chunks:
            sent.append(chunk)
            yield chunk

    for n, done in enumerate(p.imap(_chunk, feed())):
        yield sent[n], done
        sent[n] = []  # type: ignore[call-overload]
