"""WhooshEngine: one Whoosh index directory behind the :class:`~newssearch.engine.base.Engine` contract.

Security note: a Whoosh index keeps pickles on disk; every one is read through the
restricted unpickler of :mod:`.safepickle`, so opening an index directory someone else made
runs none of their code (see the package docstring for the limits).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from whoosh import index as whoosh_index

from ...errors import IndexNotFound, NewsSearchError, RebuildNeeded
from .. import FORMAT_RECORD, check_format_record, link_or_copy, write_format_record
from ..base import Where
from .schema import FORMAT_VERSION, INDEX_NAME, build_schema
from .searcher import WhooshSearcher
from .writer import WhooshWriter

__all__ = ["WhooshEngine"]


def _own_file(name: str) -> bool:
    """Whether a file of a location is this engine's: Whoosh's table of contents and
    segments of the MAIN index, and the format record (never the lock)."""
    return name == FORMAT_RECORD or (name.lstrip("_").startswith(INDEX_NAME + "_") and "LOCK" not in name.upper())


class WhooshEngine:
    """A Whoosh index in one directory (the location)."""

    name = "whoosh"

    def __init__(self, where: Where, ix) -> None:  # noqa: ANN001 - whoosh index; use create/open
        self.where = Path(where)
        self.ix = ix
        self._searcher: Optional[WhooshSearcher] = None

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, where: Where) -> "WhooshEngine":
        where = Path(where)
        where.mkdir(parents=True, exist_ok=True)
        ix = whoosh_index.create_in(str(where), build_schema(), indexname=INDEX_NAME)
        write_format_record(where, cls.name, FORMAT_VERSION)
        return cls(where, ix)

    @classmethod
    def open(cls, where: Where) -> "WhooshEngine":
        where = Path(where)
        check_format_record(where, cls.name, FORMAT_VERSION)
        if not whoosh_index.exists_in(str(where), indexname=INDEX_NAME):
            raise RebuildNeeded(f"{where} has a format record but no Whoosh index: rebuild needed")
        return cls(where, whoosh_index.open_dir(str(where), indexname=INDEX_NAME, schema=build_schema()))

    @classmethod
    def clone(cls, src: Where, dst: Where) -> "WhooshEngine":
        """A copy of *src* at *dst*, by hard links where the filesystem allows.

        Safe because Whoosh never rewrites a file it has written: a commit adds new
        segment files and a new table of contents, and deletions live in the table. So a
        writer on the copy can never change what readers of *src* see. Only this engine's
        own files are copied.
        """
        src, dst = Path(src), Path(dst)
        dst.mkdir(parents=True, exist_ok=True)
        for f in src.iterdir():
            if not f.is_file() or not _own_file(f.name):
                continue
            link_or_copy(f, dst / f.name)
        return cls.open(dst)

    @classmethod
    def recognizes(cls, where: Where) -> bool:
        where = Path(where)
        return where.is_dir() and (
            whoosh_index.exists_in(str(where), indexname=INDEX_NAME) or any(where.glob("*.toc"))
        )

    def close(self) -> None:
        self.reset()
        self.ix.close()

    def reset(self) -> None:
        """Drop the searcher: the next one sees the latest commit."""
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    # ------------------------------------------------------------ contract

    def writer(self) -> WhooshWriter:
        return WhooshWriter(self)

    def searcher(self) -> WhooshSearcher:
        # one searcher until the next commit: a published generation never changes
        # (NewsIndex writes into a new generation and reopens)
        if self._searcher is None:
            self._searcher = WhooshSearcher(self.ix, self.where)
        return self._searcher

    def verify(self, expected: int) -> None:
        """Open the index cold, count it and run a probe query."""
        try:
            cold = type(self).open(self.where)
        except (IndexNotFound, RebuildNeeded) as exc:
            raise NewsSearchError(f"{self.where.name} failed verification: {exc}") from exc
        try:
            searcher = cold.searcher()
            if searcher.doc_count() != expected:
                raise NewsSearchError(
                    f"{self.where.name} failed verification: {searcher.doc_count()} articles on reopen, {expected} written"
                )
            if searcher.probe() is False:
                raise NewsSearchError(f"{self.where.name} failed verification: probe query found nothing")
        finally:
            cold.close()
