"""The helper process that writes part of a batch as its own segment, on the second core."""
from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence

from whoosh import index as whoosh_index

from .codec import NewsCodec
from .schema import INDEX_NAME, build_schema
from .segwriter import FastSegmentWriter


def write_segment(index_dir: str, batches: Iterable[Sequence[Dict[str, object]]]):
    """Write the documents of *batches* as one new segment of the index in *index_dir*.

    Returns the segment; the caller holds the index lock and puts the segment in the
    table of contents.
    """
    ix = whoosh_index.open_dir(index_dir, indexname=INDEX_NAME, schema=build_schema())
    writer = FastSegmentWriter(ix, codec=NewsCodec(), _lk=False)
    for batch in batches:
        for fields in batch:
            writer.add_document(**fields)
    segment = writer._finalize_segment()
    # not writer._finish(): that deletes the temporary directory the parent's writer
    # shares with us; the parent removes it when it commits
    writer.is_closed = True
    return segment


def segment_worker() -> None:
    """Entry point of the helper process. On stdin, pickled one after another: the index
    directory, lists of documents, then None; on stdout, the pickled segment. Only ever
    fed by :class:`SegmentJob` of this library."""
    import pickle
    import sys

    # our own short-lived process: the cyclic GC only rescans the growing posting
    # tables (indexing makes no garbage cycles to speak of); ~8% of the time
    gc.disable()
    stdin = sys.stdin.buffer
    index_dir = pickle.load(stdin)

    def batches() -> Iterator[Sequence[Dict[str, object]]]:
        while True:
            batch = pickle.load(stdin)
            if batch is None:
                return
            yield batch

    segment = write_segment(index_dir, batches())
    sys.stdout.buffer.write(pickle.dumps(segment, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


_SEND_DOCS = 32
"""Documents pickled to the helper per write (fewer, larger writes; small enough to keep it busy)."""


class SegmentJob:
    """Write part of a batch as its own segment in a second Python process, streamed.

    Started as soon as a batch is big enough and fed documents while the caller is still
    reading its input, so reading, analysing and writing overlap on two cores.

    A plain subprocess, not multiprocessing: multiprocessing's spawn/forkserver re-run
    the caller's main module (breaking scripts without a ``__main__`` guard) and fork
    is unsafe in threaded callers. If the helper cannot run or dies, its documents are
    written in this process instead, so the result is the same either way, only slower.
    """

    def __init__(self, index_dir: str) -> None:
        import pickle
        import subprocess
        import sys

        self.index_dir = index_dir
        self.docs: List[Dict[str, object]] = []  # everything sent, for the fallback
        self._unsent = 0
        self._dumps = pickle.dumps
        package_root = str(Path(__file__).resolve().parents[3])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        try:
            self.proc: Optional[subprocess.Popen] = subprocess.Popen(
                [sys.executable, "-c", "from newssearch.engine.whoosh.parallel import segment_worker; segment_worker()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except (OSError, ValueError):
            self.proc = None
        self._send(index_dir)

    def _send(self, obj: object) -> None:
        if self.proc is None:
            return
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(self._dumps(obj, protocol=5))
        except (OSError, ValueError):  # the helper died: its documents are written here
            self._abandon()

    def _abandon(self) -> None:
        if self.proc is not None:
            proc, self.proc = self.proc, None
            try:
                proc.kill()
                proc.wait()
            except OSError:  # pragma: no cover - already gone
                pass

    def add(self, fields: Dict[str, object]) -> int:
        """Queue one document; returns its docnum in the helper's segment."""
        self.docs.append(fields)
        self._unsent += 1
        if self._unsent >= _SEND_DOCS:
            self._flush()
        return len(self.docs) - 1

    def _flush(self) -> None:
        if self._unsent:
            self._send(self.docs[-self._unsent :])
            self._unsent = 0

    def close_input(self) -> None:
        """Send what is left and the end mark: the helper starts writing its segment."""
        self._flush()
        self._send(None)
        if self.proc is not None and self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:  # pragma: no cover - died after the last write
                self._abandon()

    def result(self):
        import pickle

        if self.proc is not None:
            assert self.proc.stdout is not None
            out = self.proc.stdout.read()
            if self.proc.wait() == 0 and out:
                return pickle.loads(out)  # our own helper's output, never outside data
        return write_segment(self.index_dir, [self.docs])

    def cancel(self) -> None:
        self._abandon()

